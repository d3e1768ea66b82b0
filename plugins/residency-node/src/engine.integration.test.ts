/*
 * End to end through the real sources: the signing kit writes cosign-format
 * signatures, attestations and referrer bundles into an OCI layout on disk (what
 * the demo and air-gapped audits use), the engine reads it with its default
 * ArtifactSource, decides, and the evidence verifies offline.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  publishSignedImage,
  residencyPredicate as residencyPredicateOf,
  slsaProvenanceV1,
  cycloneDxSbom,
} from '@residency-dev/signing-kit';
import { EVIDENCE_BUNDLE_SCHEMA } from '@residency-dev/plugin-residency-common';
import { DefaultResidencyEngine } from './engine';
import { chainRecord, verifyEvidenceBundle } from './evidence';
import { EU_REGION, keys, settingsWith } from './__testUtils__/world';

describe('engine over an OCI layout (default ArtifactSource)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'residency-layout-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function engineFor(layout: string, require: string[]) {
    const settings = settingsWith(
      { layouts: [{ path: layout, region: EU_REGION }] },
      { require },
    );
    return {
      settings,
      engine: DefaultResidencyEngine.create({
        settings,
        now: () => new Date('2026-06-01T00:00:00Z'),
      }),
    };
  }

  it('a fully attested image is compliant and its evidence re-verifies offline', async () => {
    const layout = join(dir, 'good');
    const p = slsaProvenanceV1({});
    const s = cycloneDxSbom({ name: 'api' });
    const r = residencyPredicateOf({
      buildRegion: EU_REGION,
      storageLocations: [],
      dataLocations: [{ kind: 'database', region: EU_REGION }],
    });
    const published = await publishSignedImage({
      target: { layout },
      repository: 'shop/api',
      tag: 'v1',
      image: { deterministic: false },
      key: keys().eu,
      attestations: [p, s],
      bundles: [
        {
          kind: 'dsse',
          predicateType: r.predicateType,
          predicate: r.predicate,
        },
        { kind: 'message' },
      ],
    });
    const { engine, settings } = engineFor(layout, [
      'signature',
      'provenance',
      'sbom',
      'residency',
    ]);
    const { result, record } = await engine.evaluateEntity({
      entityRef: 'component:default/shop',
      images: [published.reference],
      tenant: 'acme-eu',
    });
    expect(result.images[0].reasons).toEqual([]);
    expect(result.decision).toBe('compliant');
    expect(result.images[0].digest).toBe(published.digest);
    const bundle = {
      schema: EVIDENCE_BUNDLE_SCHEMA,
      evidence: chainRecord(record),
      exportedAt: new Date().toISOString(),
    };
    const v = verifyEvidenceBundle(JSON.parse(JSON.stringify(bundle)), {
      settings,
    });
    expect(v).toEqual({ ok: true, decision: 'compliant', problems: [] });
    await engine.close();
  });

  it('forged material in the layout: signature for another digest and attestation for another subject', async () => {
    const layout = join(dir, 'forged');
    const other = await publishSignedImage({
      target: { layout },
      repository: 'shop/other',
      tag: 'v1',
      image: { deterministic: false },
      key: keys().eu,
    });
    const p = slsaProvenanceV1({});
    const published = await publishSignedImage({
      target: { layout },
      repository: 'shop/api',
      tag: 'v2',
      image: { deterministic: false },
      key: keys().eu,
      signatures: [{ forge: { payloadDigest: other.digest } }],
      attestations: [{ ...p, forge: { subjectDigest: other.digest } }],
    });
    const { engine } = engineFor(layout, ['signature', 'provenance']);
    const { result } = await engine.evaluateEntity({
      entityRef: 'component:default/shop',
      images: [published.reference],
      tenant: 'acme-eu',
    });
    expect(result.decision).toBe('non_compliant');
    expect(result.images[0].reasons.map(x => x.code)).toEqual(
      expect.arrayContaining([
        'digest_mismatch',
        'subject_mismatch',
        'attestation_missing:provenance',
      ]),
    );
  });

  it('a layout that is not configured is registry_not_allowed', async () => {
    const { engine } = engineFor(join(dir, 'good'), ['signature']);
    const { result } = await engine.evaluateEntity({
      entityRef: 'c:d/x',
      images: [`oci:${join(dir, 'elsewhere')}:v1`],
      tenant: 'acme-eu',
    });
    expect(result.images[0].reasons.map(x => x.code)).toEqual([
      'registry_not_allowed',
    ]);
  });
});
