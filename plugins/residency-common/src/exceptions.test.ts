import {
  applyExceptions,
  isWaivableReasonCode,
  type ResidencyException,
} from './exceptions';
import type { Decision, Reason } from './reasons';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const NOW = new Date('2026-12-02T10:00:00Z');

const reason = (code: string): Reason => ({ code: code as any, message: code });
const image = (digest: string, decision: Decision, codes: string[]) => ({
  digest,
  decision,
  reasons: codes.map(reason),
});

function grant(over: Partial<ResidencyException> = {}): ResidencyException {
  return {
    id: 'e1',
    entityRef: 'component:default/x',
    status: 'approved',
    reasonCodes: ['signature_missing'],
    digests: [D1],
    justification: 'j',
    reference: 'r',
    requestedBy: 'user:default/a',
    requestedAt: '2026-12-01T00:00:00Z',
    expiresAt: '2026-12-03T00:00:00Z',
    decidedBy: 'user:default/b',
    decidedAt: '2026-12-01T01:00:00Z',
    ...over,
  };
}

const failing = (
  images = [image(D1, 'non_compliant', ['signature_missing'])],
) => ({
  decision: 'non_compliant' as Decision,
  reasons: images.flatMap(i => i.reasons),
  images,
});

describe('applyExceptions', () => {
  it('waives every failing code of every covered digest', () => {
    const v = applyExceptions(failing(), [grant()], NOW);
    expect(v.state).toBe('resident_by_exception');
    expect(v.waived).toEqual([
      expect.objectContaining({ digest: D1, approvedBy: 'user:default/b' }),
    ]);
    expect(v.validUntil).toBe('2026-12-03T00:00:00Z');
  });

  it('is never resident: a compliant entity stays resident, unknown stays unknown', () => {
    expect(
      applyExceptions(
        { decision: 'compliant', reasons: [], images: [] },
        [grant()],
        NOW,
      ).state,
    ).toBe('resident');
    const unknown = {
      decision: 'unknown' as Decision,
      reasons: [reason('registry_unreachable')],
      images: [image(D1, 'unknown', ['registry_unreachable'])],
    };
    expect(
      applyExceptions(
        unknown,
        [grant({ reasonCodes: ['registry_unreachable'] })],
        NOW,
      ).state,
    ).toBe('unknown');
  });

  it('does not cover a new digest, another code, or an entity-level reason', () => {
    const two = failing([
      image(D1, 'non_compliant', ['signature_missing']),
      image(D2, 'non_compliant', ['signature_missing']),
    ]);
    expect(applyExceptions(two, [grant()], NOW)).toMatchObject({
      state: 'not_resident',
      uncovered: [{ digest: D2, code: 'signature_missing' }],
    });
    const other = failing([
      image(D1, 'non_compliant', ['signature_missing', 'key_untrusted']),
    ]);
    expect(applyExceptions(other, [grant()], NOW).state).toBe('not_resident');
    const entityLevel = {
      ...failing(),
      reasons: [
        ...failing().reasons,
        reason('declared_region_outside_boundary'),
      ],
    };
    expect(
      applyExceptions(
        entityLevel,
        [
          grant({
            reasonCodes: [
              'signature_missing',
              'declared_region_outside_boundary',
            ],
          }),
        ],
        NOW,
      ).state,
    ).toBe('not_resident');
  });

  it('shows invalid as not resident and never waives it', () => {
    const invalid = {
      decision: 'invalid' as Decision,
      reasons: [reason('signature_missing')],
      images: [image(D1, 'invalid', ['signature_missing'])],
    };
    expect(applyExceptions(invalid, [grant()], NOW).state).toBe('not_resident');
  });

  it('ignores requested, revoked and expired exceptions', () => {
    for (const e of [
      grant({ status: 'requested' }),
      grant({ status: 'revoked' }),
      grant({ expiresAt: '2026-12-02T10:00:00Z' }),
    ]) {
      expect(applyExceptions(failing(), [e], NOW).state).toBe('not_resident');
    }
  });

  it('never lets I/O or input failures be waived', () => {
    expect(isWaivableReasonCode('registry_unreachable')).toBe(false);
    expect(isWaivableReasonCode('digest_mismatch')).toBe(false);
    expect(isWaivableReasonCode('*')).toBe(false);
    expect(isWaivableReasonCode('attestation_missing:sbom')).toBe(true);
    expect(isWaivableReasonCode('key_outside_boundary')).toBe(true);
  });
});
