/*
 * The material checks of a report are written when its `checks` are first read,
 * not during the decision. These tests decide the same images with the checks
 * written at once (as before) and deferred, and require the same serialised JSON
 * (durations aside: they are measured, so they differ between two decisions).
 */
import {
  cycloneDxSbom,
  residencyPredicate as residencyPredicateOf,
  slsaProvenanceV1,
} from '@residency-dev/signing-kit';
import type {
  EntityResult,
  VerificationReport,
} from '@residency-dev/plugin-residency-common';
import {
  addEnvelope,
  addExternalProvenance,
  addMessageBundle,
  addSimpleSignature,
  addStatementBundle,
  engineFor,
  EU_KEY_ID,
  EU_REGION,
  FakeSource,
  keys,
  newImage,
  settingsWith,
  statementFor,
  type Fixture,
} from './__testUtils__/world';
import { recordEagerly } from './report';
import type { ResidencySettings } from './api';

afterEach(() => recordEagerly(false));

/** A fresh engine (nothing cached) deciding the fixtures. */
async function decide(
  fixtures: Fixture[],
  settings: ResidencySettings,
  eagerly: boolean,
): Promise<EntityResult> {
  recordEagerly(eagerly);
  const source = new FakeSource();
  fixtures.forEach(f => source.add(f));
  const { result } = await engineFor(settings, source).evaluateEntity({
    entityRef: 'component:default/shop',
    images: fixtures.map(f => f.reference),
    tenant: 'acme-eu',
  });
  return result;
}

function withoutDurations(result: EntityResult): string {
  return JSON.stringify(result, (k, v) =>
    k === 'durationMs' && typeof v === 'number' ? 0 : v,
  );
}

/** Images that take most branches of the material checks. */
async function images(): Promise<Fixture[]> {
  const ok = newImage();
  addSimpleSignature(ok, keys().eu);
  const p = slsaProvenanceV1({
    builderId: 'https://builder.eu.example.com/runner',
  });
  addEnvelope(ok, keys().eu, statementFor(ok, p.predicateType, p.predicate));
  addEnvelope(ok, keys().eu, statementFor(ok, p.predicateType, p.predicate));
  const s = cycloneDxSbom({ name: 'api' });
  addEnvelope(ok, keys().eu, statementFor(ok, s.predicateType, s.predicate));
  const r = residencyPredicateOf({
    buildRegion: EU_REGION,
    storageLocations: [],
    dataLocations: [{ kind: 'logs', region: 'us-west-2' }],
  });
  await addStatementBundle(
    ok,
    keys().eu,
    statementFor(ok, r.predicateType, r.predicate),
  );
  // A signature of another digest, a rogue key, a key outside the boundary, an
  // attestation of another image, a provenance with an external reference.
  const other = newImage();
  const bad = newImage(undefined, 'shop/bad');
  addSimpleSignature(bad, keys().eu, { digest: other.image.digest });
  await addMessageBundle(bad, keys().rogue);
  addSimpleSignature(bad, keys().us);
  addEnvelope(
    bad,
    keys().eu,
    statementFor(bad, p.predicateType, p.predicate, {
      digest: other.image.digest,
    }),
  );
  addExternalProvenance(bad);
  const unsigned = newImage(undefined, 'shop/unsigned');
  return [ok, bad, unsigned];
}

describe('deferred material checks', () => {
  const cases: [string, () => ResidencySettings][] = [
    [
      'all kinds required, allowed hosts, maxAge',
      () =>
        settingsWith(
          {},
          {
            require: ['signature', 'provenance', 'sbom', 'residency'],
            allowedHosts: ['github.com'],
            maxAge: { provenance: '30d', sbom: '1h' },
          },
        ),
    ],
    [
      'a key with a validity window that has ended',
      () =>
        settingsWith({
          keys: [
            {
              id: EU_KEY_ID,
              publicKey: keys().eu.publicKeyPem,
              validUntil: '2026-01-01T00:00:00Z',
            },
          ],
        }),
    ],
    ['the default policy', () => settingsWith()],
  ];
  it.each(cases)(
    'serialise to the same JSON as checks written at once: %s',
    async (_, settings) => {
      const fixtures = await images();
      const before = await decide(fixtures, settings(), true);
      const after = await decide(fixtures, settings(), false);
      // Not expanded yet: the accessor is still in place.
      const lazy = after.images[0].report!;
      expect(
        Object.getOwnPropertyDescriptor(lazy, 'checks')?.get,
      ).toBeDefined();
      expect(withoutDurations(after)).toBe(withoutDurations(before));
      // The material checks (all but the image steps) did not become fewer.
      const materialChecks = before.images.flatMap(i =>
        i.report!.checks.filter(c => c.material),
      );
      expect(materialChecks.length).toBeGreaterThan(40);
      expect(materialChecks.some(c => c.outcome === 'fail')).toBe(true);
      // The verifier's own time is kept as measured when the checks are expanded.
      expect(
        after.images[0]
          .report!.checks.filter(c => c.id === 'signature_verified')
          .every(c => (c.durationMs ?? 0) > 0),
      ).toBe(true);
    },
  );

  it('reads as an ordinary report: same array each time, writable, in key order', async () => {
    const [f] = await images();
    const result = await decide([f], settingsWith(), false);
    const report = result.images[0].report as VerificationReport;
    expect(Object.keys(report)).toEqual(['schema', 'checks']);
    const first = report.checks;
    expect(report.checks).toBe(first);
    expect(Object.getOwnPropertyDescriptor(report, 'checks')).toMatchObject({
      value: first,
      writable: true,
      enumerable: true,
    });
    expect({ ...report }).toEqual({ schema: report.schema, checks: first });
    report.checks = first.slice(0, 2);
    expect(report.checks).toHaveLength(2);
  });

  it('a report frozen before it is read still reads, the same checks each time, and refuses assignment', async () => {
    const [f] = await images();
    const eager = (await decide([f], settingsWith(), true)).images[0].report!;
    const report = (await decide([f], settingsWith(), false)).images[0]
      .report as VerificationReport;
    Object.freeze(report);
    const first = report.checks;
    expect(report.checks).toBe(first);
    expect(first.map(c => `${c.id}:${c.outcome}`)).toEqual(
      eager.checks.map(c => `${c.id}:${c.outcome}`),
    );
    expect(() => {
      report.checks = [];
    }).toThrow(TypeError);
    expect(report.checks).toBe(first);
  });

  it('a report assigned before it is read keeps the assigned checks', async () => {
    const [f] = await images();
    const result = await decide([f], settingsWith(), false);
    const report = result.images[0].report as VerificationReport;
    report.checks = [];
    expect(report.checks).toEqual([]);
    expect(JSON.parse(JSON.stringify(report)).checks).toEqual([]);
  });
});
