/*
 * `--exception`: honoured only when signed by a configured key, unexpired, for the
 * entity, covering the failing digests and codes. One attack per case.
 */
import { generateKeyPairSync } from 'node:crypto';
import {
  FileVsaSigner,
  buildExceptionStatement,
  signException,
} from '@residency-dev/plugin-residency-node';
import type { EntityResult } from '@residency-dev/plugin-residency-common';
import { applyExceptionFile, checkExceptionForRecord } from './exception';

const ENTITY = 'component:default/payments';
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const NOW = new Date('2026-12-02T10:00:00Z');

const pair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const portal = pair();
const stranger = pair();

const signerOf = (k: ReturnType<typeof pair>) =>
  FileVsaSigner.fromPem(
    k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    { keyId: 'k', region: 'eusc-de-east-1' },
  );

async function exception(
  over: Partial<{
    digests: string[];
    codes: string[];
    expiresAt: string;
    approver: string;
    key: ReturnType<typeof pair>;
  }> = {},
) {
  const statement = buildExceptionStatement({
    id: '00000000-0000-4000-8000-000000000001',
    entityRef: ENTITY,
    status: 'approved',
    reasonCodes: over.codes ?? ['signature_missing'],
    digests: over.digests ?? [D1],
    justification: 'outage',
    reference: 'INC-1',
    requestedBy: 'user:default/dev',
    requestedAt: '2026-12-01T09:00:00Z',
    expiresAt: over.expiresAt ?? '2026-12-03T10:00:00Z',
    decidedBy: over.approver ?? 'user:default/dpo',
    decidedAt: '2026-12-01T10:00:00Z',
  });
  return (await signException(statement, signerOf(over.key ?? portal)))
    .envelope;
}

const failing = (digests: string[]): EntityResult => ({
  entityRef: ENTITY,
  decision: 'non_compliant',
  reasons: [{ code: 'signature_missing', message: 'No signature.' }],
  images: digests.map(d => ({
    reference: `registry.eu/app@${d}`,
    digest: d,
    decision: 'non_compliant' as const,
    reasons: [{ code: 'signature_missing' as const, message: 'No signature.' }],
    signatures: [],
    attestations: [],
  })),
  policyHash: 'p',
  trustHash: 't',
  engineVersion: 'test',
  checkedAt: NOW.toISOString(),
});

const apply = async (envelope: string, result = failing([D1])) =>
  applyExceptionFile({
    envelope,
    keys: [portal.publicKey],
    result,
    now: NOW,
  });

describe('applyExceptionFile', () => {
  it('honours a valid exception as resident by exception', async () => {
    const o = await apply(await exception());
    expect(o.check.code).toBe('exception_valid');
    expect(o.verdict).toMatchObject({
      state: 'resident_by_exception',
      validUntil: '2026-12-03T10:00:00Z',
      waived: [{ digest: D1, approvedBy: 'user:default/dpo' }],
    });
  });

  it('refuses an exception signed by a key that is not configured', async () => {
    const o = await apply(await exception({ key: stranger }));
    expect(o.check.code).toBe('exception_signature_invalid');
    expect(o.verdict.state).toBe('not_resident');
  });

  it('refuses an expired exception', async () => {
    const o = await apply(
      await exception({ expiresAt: '2026-12-02T09:59:59Z' }),
    );
    expect(o.check.code).toBe('exception_expired');
    expect(o.verdict.state).toBe('not_resident');
  });

  it('refuses when a new digest appears that it does not cover', async () => {
    const o = await apply(await exception(), failing([D1, D2]));
    expect(o.check.code).toBe('exception_digest_not_covered');
    expect(o.verdict.state).toBe('not_resident');
  });

  it('refuses when a failing code is not waived', async () => {
    const o = await apply(await exception({ codes: ['key_untrusted'] }));
    expect(o.check.code).toBe('exception_codes_not_covered');
    expect(o.verdict.state).toBe('not_resident');
  });

  it('refuses a self-approved exception even when signed', async () => {
    const o = await apply(await exception({ approver: 'user:default/dev' }));
    expect(o.check.code).toBe('exception_malformed');
  });

  it('refuses a tampered payload', async () => {
    const env = JSON.parse(await exception());
    const statement = JSON.parse(
      Buffer.from(env.payload, 'base64').toString('utf8'),
    );
    statement.predicate.expiresAt = '2027-12-01T00:00:00Z';
    env.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    const o = await apply(JSON.stringify(env));
    expect(o.check.code).toBe('exception_signature_invalid');
  });

  it('reports garbage as malformed, never throwing', async () => {
    expect((await apply('not json')).check.code).toBe('exception_malformed');
  });
});

describe('checkExceptionForRecord', () => {
  it('checks the window at the time the record was decided', async () => {
    const env = await exception();
    const check = (checkedAt: string, entityRef = ENTITY) =>
      checkExceptionForRecord({
        envelope: env,
        keys: [portal.publicKey],
        entityRef,
        checkedAt,
      }).code;
    expect(check('2026-12-02T00:00:00Z')).toBe('exception_valid');
    expect(check('2026-12-04T00:00:00Z')).toBe('exception_expired');
    expect(check('2026-11-30T00:00:00Z')).toBe('exception_not_yet_valid');
    expect(check('2026-12-02T00:00:00Z', 'component:default/other')).toBe(
      'exception_digest_not_covered',
    );
  });
});
