/*
 * End to end against a real registry (CNCF Distribution on loopback): the kit
 * pushes cosign `.sig`/`.att` tags and referrer bundles (tag-schema fallback), the
 * engine resolves the tag once, discovers, verifies and decides.
 */
import {
  publishSignedImage,
  startTestRegistry,
  residencyPredicate as residencyPredicateOf,
  slsaProvenanceV1,
  type TestRegistry,
} from '@residency-dev/signing-kit';
import { DefaultResidencyEngine } from './engine';
import {
  EU_REGION,
  keys,
  settingsWith,
  US_KEY_ID,
} from './__testUtils__/world';

describe('engine against a real docker-registry', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startTestRegistry();
  }, 30_000);
  afterAll(async () => {
    await registry?.stop();
  });

  /** The kit names pushed images after the target URL (`http://host/...`); references use host[:port]. */
  const refOf = (published: string) => published.replace(/^https?:\/\//, '');

  function engine(require: string[]) {
    const settings = settingsWith(
      {
        registries: [
          { host: registry.host, region: EU_REGION, insecure: true },
        ],
      },
      { require },
    );
    return DefaultResidencyEngine.create({ settings });
  }

  it('signed and attested by the EU key: compliant; the tag is resolved to the pushed digest', async () => {
    const p = slsaProvenanceV1({});
    const r = residencyPredicateOf({
      buildRegion: EU_REGION,
      storageLocations: [],
      dataLocations: [],
    });
    const published = await publishSignedImage({
      target: { registry: registry.url },
      repository: 'shop/api',
      tag: 'v1',
      image: { deterministic: false },
      key: keys().eu,
      attestations: [p],
      bundles: [
        {
          kind: 'dsse',
          predicateType: r.predicateType,
          predicate: r.predicate,
        },
      ],
    });
    const e = engine(['signature', 'provenance', 'residency']);
    try {
      const { result } = await e.evaluateEntity({
        entityRef: 'component:default/shop',
        images: [refOf(published.reference)],
        tenant: 'acme-eu',
      });
      expect(result.images[0].reasons).toEqual([]);
      expect(result.decision).toBe('compliant');
      expect(result.images[0].digest).toBe(published.digest);
    } finally {
      await e.close();
    }
  }, 30_000);

  it('signed only by the US key and carrying a US build region: non-compliant with both reasons', async () => {
    const r = residencyPredicateOf({
      buildRegion: 'us-east-1',
      storageLocations: [],
      dataLocations: [],
    });
    const published = await publishSignedImage({
      target: { registry: registry.url },
      repository: 'shop/us',
      tag: 'v1',
      image: { deterministic: false },
      key: keys().us,
      attestations: [r],
    });
    const e = engine(['signature', 'residency']);
    try {
      const { result } = await e.evaluateEntity({
        entityRef: 'component:default/shop',
        images: [refOf(published.reference)],
        tenant: 'acme-eu',
      });
      expect(result.decision).toBe('non_compliant');
      const codes = result.images[0].reasons.map(x => x.code);
      expect(codes).toEqual(
        expect.arrayContaining([
          'key_outside_boundary',
          'region_mismatch',
          'attestation_missing:residency',
        ]),
      );
      expect(result.images[0].signatures[0].key?.id).toBe(US_KEY_ID);
    } finally {
      await e.close();
    }
  }, 30_000);

  it('an unsigned image is signature_missing; a missing tag is unknown', async () => {
    const published = await publishSignedImage({
      target: { registry: registry.url },
      repository: 'shop/unsigned',
      tag: 'v1',
      image: { deterministic: false },
      signatures: [],
    });
    const e = engine(['signature']);
    try {
      const { result } = await e.evaluateEntity({
        entityRef: 'component:default/shop',
        images: [
          refOf(published.reference),
          `${registry.host}/shop/unsigned:nope`,
        ],
        tenant: 'acme-eu',
      });
      expect(result.images[0].reasons.map(x => x.code)).toEqual([
        'signature_missing',
      ]);
      expect(result.images[1].decision).toBe('unknown');
      expect(result.decision).toBe('non_compliant');
    } finally {
      await e.close();
    }
  }, 30_000);
});
