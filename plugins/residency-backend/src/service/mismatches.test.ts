import type { EntityStatus } from '@residency-dev/plugin-residency-common';
import {
  FakeEngine,
  makeEvaluation,
  makeImage,
} from '../__testUtils__/fixtures';
import { mismatchesOf } from './DefaultResidencyService';

function statusOf(evaluation: ReturnType<typeof makeEvaluation>): EntityStatus {
  return { ...evaluation.result, stale: false };
}

describe('mismatchesOf', () => {
  const engine = new FakeEngine();

  it('names every region outside the boundary: declared, registry, key, build', () => {
    const image = makeImage({ keyId: 'key-us' });
    image.registryRegion = 'us-east-1';
    image.signatures[0].key = {
      id: 'key-us',
      fingerprint: 'e'.repeat(64),
      region: 'us-east-1',
    };
    image.signatures[0].verified = true;
    image.attestations = [
      {
        kind: 'residency',
        predicateType: 'https://residency.dev/attestation/v1',
        source: 'cosign-tag',
        verified: true,
        facts: { buildRegion: 'us-west-2' },
      },
      {
        kind: 'residency',
        predicateType: 'https://residency.dev/attestation/v1',
        source: 'cosign-tag',
        // An unverified attestation is a claim: it never produces a mismatch.
        verified: false,
        facts: { buildRegion: 'cn-north-1' },
      },
    ];
    const status = statusOf(
      makeEvaluation({
        entityRef: 'component:default/x',
        declaredRegion: 'eu-west-1',
        images: [image],
      }),
    );
    expect(
      mismatchesOf({ status, engine }).map(m => [m.kind, m.value, m.where]),
    ).toEqual([
      ['declared_region', 'eu-west-1', undefined],
      ['registry_region', 'us-east-1', image.reference],
      ['key_region', 'us-east-1', 'key-us'],
      ['build_region', 'us-west-2', image.reference],
    ]);
  });

  it('names the region of a pinned key that signed but was refused for being outside the boundary', () => {
    const image = makeImage({ keyId: 'key-us' });
    image.signatures[0].key = {
      id: 'key-us',
      fingerprint: 'e'.repeat(64),
      region: 'us-east-1',
    };
    image.signatures[0].verified = false;
    image.signatures[0].error = {
      code: 'key_outside_boundary',
      message: 'Signed by key-us in region us-east-1, outside the boundary.',
    };
    const status = statusOf(
      makeEvaluation({ entityRef: 'component:default/k', images: [image] }),
    );
    expect(
      mismatchesOf({ status, engine }).map(m => [m.kind, m.value, m.where]),
    ).toContainEqual(['key_region', 'us-east-1', 'key-us']);
  });

  it('reports an unknown tenant and nothing for a clean entity', () => {
    const unknown = statusOf(
      makeEvaluation({ entityRef: 'component:default/y', tenant: 'nope' }),
    );
    expect(mismatchesOf({ status: unknown, engine })).toEqual([
      {
        entityRef: 'component:default/y',
        tenant: 'nope',
        kind: 'tenant_unknown',
        value: 'nope',
      },
    ]);
    const clean = statusOf(
      makeEvaluation({ entityRef: 'component:default/z' }),
    );
    expect(mismatchesOf({ status: clean, engine })).toEqual([]);
  });
});
