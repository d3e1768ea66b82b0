/*
 * The verification report (issue 19): the ordered check list for each reason code
 * and each producer format (our kit, openssl, @sigstore/sign), validated against
 * the published JSON Schema; every check id documented in the schema and README.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import {
  cycloneDxSbom,
  residencyPredicate as residencyPredicateOf,
  slsaProvenanceV1,
} from '@residency-dev/signing-kit';
import {
  CHECK_DESCRIPTIONS,
  CHECK_IDS,
  EVIDENCE_BUNDLE_SCHEMA,
  VERIFICATION_REPORT_SCHEMA,
  type EntityResult,
  type EvidenceBundle,
  type EvidenceRecord,
  type VerificationCheck,
} from '@residency-dev/plugin-residency-common';
import {
  addEnvelope,
  addMessageBundle,
  addSimpleSignature,
  addStatementBundle,
  engineFor,
  EU_KEY_ID,
  EU_REGION,
  FakeSource,
  keys,
  newImage,
  residencyConfig,
  settingsWith,
  statementFor,
  US_REG,
  type Fixture,
  addExternalProvenance,
  EXTERNAL_DEPENDENCY,
} from './__testUtils__/world';
import {
  cosignPayload,
  opensslEnvelope,
  opensslKey,
  opensslSign,
  sigstoreDsseBundle,
  sigstoreMessageBundle,
  sigstoreSigner,
  statement,
} from './interop/__testUtils__/producers';
import { configReaderFromObject, loadResidencySettings } from './config';
import type { ResidencySettings } from './api';
import { SourceError } from './source/types';
import { chainRecord, verifyEvidenceBundle } from './evidence';
import { parseDurationSeconds } from './report';

const schema = JSON.parse(
  readFileSync(
    join(
      __dirname,
      '../../residency-common/schema/verification-report.v1.json',
    ),
    'utf8',
  ),
);
const validate = new Ajv2020({
  allErrors: true,
  validateFormats: false,
}).compile(schema);

/** Every report of a result must validate against the published schema. */
function expectValid(result: EntityResult) {
  for (const report of [result.report, ...result.images.map(i => i.report)]) {
    expect(report?.schema).toBe(VERIFICATION_REPORT_SCHEMA);
    const ok = validate(report);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  }
}

async function evaluate(
  fixtures: Fixture[],
  opts: {
    settings?: ResidencySettings;
    images?: string[];
    source?: FakeSource;
  } = {},
): Promise<EntityResult> {
  const source = opts.source ?? new FakeSource();
  fixtures.forEach(f => source.add(f));
  const engine = engineFor(opts.settings ?? settingsWith(), source);
  const { result } = await engine.evaluateEntity({
    entityRef: 'component:default/shop',
    images: opts.images ?? fixtures.map(f => f.reference),
    tenant: 'acme-eu',
  });
  expectValid(result);
  return result;
}

/** `id:outcome[:reason]` for each check (of one material, when `path` is given). */
function steps(result: EntityResult, path?: string, image = 0): string[] {
  return result.images[image]
    .report!.checks.filter(c =>
      path === undefined ? !c.material : c.material?.path === path,
    )
    .map(c => [c.id, c.outcome, c.reason].filter(Boolean).join(':'));
}

function check(
  result: EntityResult,
  id: string,
  path?: string,
): VerificationCheck {
  const found = result.images[0].report!.checks.find(
    c => c.id === id && (path === undefined || c.material?.path === path),
  );
  expect(found).toBeDefined();
  return found!;
}

const IMAGE_PASS = [
  'reference_parsed:pass',
  'registry_allowed:pass',
  'registry_region:pass',
  'tag_resolved:pass',
  'manifest_hashed:pass',
  'discovery:pass',
];

/** The verifier steps of a key-signed simple signature that verified. */
const SIMPLE_KEY_PASS = [
  'material_parsed:pass',
  'subject_digest:pass',
  'signature_verified:pass',
  'certificate_chain:not_applicable',
  'identity:not_applicable',
  'transparency_log:skipped',
  'timestamp:skipped',
  'key_validity:pass',
  'key_region:pass',
];

function signed(): Fixture {
  const f = newImage();
  addSimpleSignature(f, keys().eu);
  return f;
}

describe('verification report: check ids are documented', () => {
  it('the schema lists exactly the check ids, each with its description', () => {
    const ids = schema.$defs.checkId.oneOf.map(
      (o: { const: string }) => o.const,
    );
    expect(ids).toEqual([...CHECK_IDS]);
    for (const o of schema.$defs.checkId.oneOf)
      expect(o.description).toBe(
        CHECK_DESCRIPTIONS[o.const as keyof typeof CHECK_DESCRIPTIONS],
      );
  });

  it('the README documents every check id', () => {
    const readme = readFileSync(join(__dirname, '../../../README.md'), 'utf8');
    const missing = CHECK_IDS.filter(id => !readme.includes(`\`${id}\``));
    expect(missing).toEqual([]);
  });

  it('the schema refuses an unknown check id and an unknown outcome', () => {
    expect(
      validate({
        schema: VERIFICATION_REPORT_SCHEMA,
        checks: [{ id: 'looks_fine', outcome: 'pass' }],
      }),
    ).toBe(false);
    expect(
      validate({
        schema: VERIFICATION_REPORT_SCHEMA,
        checks: [{ id: 'discovery', outcome: 'ok' }],
      }),
    ).toBe(false);
  });
});

describe('verification report: compliant, per producer format', () => {
  it('our kit: simple signing, DSSE provenance, SBOM and a residency bundle', async () => {
    const f = signed();
    const p = slsaProvenanceV1({
      builderId: 'https://builder.eu.example.com/runner',
      buildType: 'https://slsa.dev/container-based-build/v0.1',
    });
    addEnvelope(f, keys().eu, statementFor(f, p.predicateType, p.predicate));
    const s = cycloneDxSbom({ name: 'api' });
    addEnvelope(f, keys().eu, statementFor(f, s.predicateType, s.predicate));
    const r = residencyPredicateOf({
      buildRegion: EU_REGION,
      storageLocations: [],
      dataLocations: [],
    });
    await addStatementBundle(
      f,
      keys().eu,
      statementFor(f, r.predicateType, r.predicate),
    );
    const result = await evaluate([f], {
      settings: settingsWith(
        {},
        { require: ['signature', 'provenance', 'sbom', 'residency'] },
      ),
    });
    expect(result.decision).toBe('compliant');
    expect(steps(result)).toEqual([
      ...IMAGE_PASS,
      'requirement:pass',
      'requirement:pass',
      'requirement:pass',
      'requirement:pass',
    ]);
    expect(steps(result, 'simpleSignatures[0]')).toEqual(SIMPLE_KEY_PASS);
    expect(steps(result, 'envelopes[0]')).toEqual([
      'material_parsed:pass',
      'signature_verified:pass',
      'statement_parsed:pass',
      'subject_digest:pass',
      'certificate_chain:not_applicable',
      'identity:not_applicable',
      'transparency_log:skipped',
      'timestamp:skipped',
      'key_validity:pass',
      'key_region:pass',
      'predicate_external_references:pass',
      'predicate_regions:not_applicable',
      'attestation_newest:pass',
      'attestation_freshness:not_applicable',
    ]);
    expect(steps(result, 'bundles[0]')).toEqual([
      'material_parsed:pass',
      'signature_verified:pass',
      'certificate_chain:not_applicable',
      'identity:not_applicable',
      'transparency_log:skipped',
      'timestamp:skipped',
      'statement_parsed:pass',
      'subject_digest:pass',
      'key_validity:pass',
      'key_region:pass',
      'predicate_external_references:not_applicable',
      'predicate_regions:pass',
      'attestation_newest:pass',
      'attestation_freshness:not_applicable',
    ]);
    const sig = check(result, 'signature_verified', 'simpleSignatures[0]');
    expect(sig.trustAnchor?.key).toEqual({
      id: EU_KEY_ID,
      fingerprint: keys().eu.fingerprint,
      region: EU_REGION,
    });
    expect(sig.material).toEqual({
      role: 'signature',
      format: 'simplesigning',
      source: 'cosign-tag',
      index: 0,
      path: 'simpleSignatures[0]',
    });
    expect(sig.durationMs).toBeGreaterThan(0);
    expect(check(result, 'key_validity', 'simpleSignatures[0]').time).toEqual({
      source: 'verification_time',
      at: '2026-06-01T12:00:00.000Z',
    });
    expect(check(result, 'manifest_hashed').found).toContain(f.image.digest);
    expect(result.report!.checks.map(c => `${c.id}:${c.outcome}`)).toEqual([
      'tenant_known:pass',
      'images_listed:pass',
      'declared_region:not_applicable',
      'tenant_rule:not_applicable',
    ]);
  });

  it('openssl (cosign --key style): a .sig and a .att from another producer', async () => {
    const key = opensslKey();
    const f = newImage();
    const payload = cosignPayload(f.reference, f.image.digest);
    f.material.simpleSignatures.push({
      payload: payload.toString('base64'),
      signature: opensslSign(key, payload),
      source: 'cosign-tag',
    });
    f.material.envelopes.push({
      envelope: opensslEnvelope(key, statement(f.image.digest)),
      source: 'cosign-tag',
    });
    const settings = settingsWith(
      {
        keys: [{ id: EU_KEY_ID, publicKey: key.publicKeyPem }],
      },
      { require: ['signature', 'provenance'] },
    );
    const result = await evaluate([f], { settings });
    expect(result.decision).toBe('compliant');
    expect(steps(result, 'simpleSignatures[0]')).toEqual(SIMPLE_KEY_PASS);
    expect(steps(result, 'envelopes[0]')).toContain('signature_verified:pass');
    expect(check(result, 'signature_verified', 'envelopes[0]').expected).toBe(
      'a signature by one of 1 configured key(s)',
    );
  });

  it('@sigstore/sign: a v0.3 message-signature bundle and a DSSE bundle', async () => {
    const s = sigstoreSigner();
    const f = newImage();
    f.material.bundles.push({
      bundle: await sigstoreMessageBundle(
        s,
        Buffer.from(f.image.manifest.bytes),
      ),
      source: 'referrers',
    });
    f.material.bundles.push({
      bundle: await sigstoreDsseBundle(s, statement(f.image.digest)),
      source: 'referrers',
    });
    const settings = settingsWith(
      { keys: [{ id: EU_KEY_ID, publicKey: s.publicKeyPem }] },
      { require: ['signature', 'provenance'] },
    );
    const result = await evaluate([f], { settings });
    expect(result.decision).toBe('compliant');
    // A key-signed message bundle passes the same steps as a simple signature.
    expect(steps(result, 'bundles[0]')).toEqual(SIMPLE_KEY_PASS);
    expect(check(result, 'statement_parsed', 'bundles[1]').found).toBe(
      'in-toto statement, predicate https://slsa.dev/provenance/v1',
    );
  });
});

describe('verification report: one check list per reason code', () => {
  it('bad_reference: the first check fails and nothing else is claimed', async () => {
    const result = await evaluate([], {
      images: ['Registry.eu.example.com/Shop/API:1'],
    });
    expect(steps(result)).toEqual(['reference_parsed:fail:bad_reference']);
  });

  it('registry_not_allowed', async () => {
    const result = await evaluate([], { images: ['evil.example.com/x:1'] });
    expect(steps(result)).toEqual([
      'reference_parsed:pass',
      'registry_allowed:fail:registry_not_allowed',
    ]);
    expect(check(result, 'registry_allowed').found).toBe(
      'evil.example.com, not configured',
    );
  });

  it('registry_outside_boundary: recorded, and the image is still checked', async () => {
    const f = newImage(US_REG);
    addSimpleSignature(f, keys().eu);
    const result = await evaluate([f]);
    expect(steps(result).slice(0, 4)).toEqual([
      'reference_parsed:pass',
      'registry_allowed:pass',
      'registry_region:fail:registry_outside_boundary',
      'tag_resolved:pass',
    ]);
    expect(check(result, 'registry_region')).toMatchObject({
      expected: `a region of boundary eu-sovereign (${EU_REGION})`,
      found: 'us-east-1',
    });
    expect(steps(result, 'simpleSignatures[0]')).toEqual(SIMPLE_KEY_PASS);
  });

  it('registry_unreachable: the tag is not resolved', async () => {
    const f = signed();
    const source = new FakeSource();
    source.failWith = new SourceError('registry_unreachable', 'timeout');
    const result = await evaluate([f], { source });
    expect(steps(result)).toEqual([
      'reference_parsed:pass',
      'registry_allowed:pass',
      'registry_region:pass',
      'tag_resolved:fail:registry_unreachable',
    ]);
  });

  it('registry_unreachable after resolving: the tag resolved, discovery failed', async () => {
    class FailingDiscovery extends FakeSource {
      async discover(): Promise<never> {
        throw new SourceError('registry_unreachable', 'connection reset');
      }
    }
    const f = signed();
    const result = await evaluate([f], { source: new FailingDiscovery() });
    expect(steps(result)).toEqual([
      'reference_parsed:pass',
      'registry_allowed:pass',
      'registry_region:pass',
      'tag_resolved:pass',
      'discovery:fail:registry_unreachable',
    ]);
    expect(check(result, 'tag_resolved').found).toBe(f.image.digest);
  });

  it('signature_missing: discovery found nothing, the requirement fails', async () => {
    const result = await evaluate([newImage()]);
    expect(steps(result)).toEqual([
      ...IMAGE_PASS,
      'requirement:fail:signature_missing',
    ]);
    expect(check(result, 'discovery').found).toBe('nothing');
  });

  it('digest_mismatch: a signature of another digest fails at subject_digest, later steps skipped', async () => {
    const a = newImage();
    const b = newImage();
    addSimpleSignature(b, keys().eu, { digest: a.image.digest });
    const result = await evaluate([b]);
    expect(steps(result, 'simpleSignatures[0]')).toEqual([
      'material_parsed:pass',
      'subject_digest:fail:digest_mismatch',
      'signature_verified:skipped',
      'certificate_chain:not_applicable',
      'identity:not_applicable',
      'transparency_log:skipped',
      'timestamp:skipped',
      'key_validity:skipped',
      'key_region:skipped',
    ]);
    expect(check(result, 'subject_digest')).toMatchObject({
      expected: b.image.digest,
      found: `signed ${a.image.digest}`,
    });
  });

  it('key_untrusted: a bundle by an unconfigured key fails at signature_verified', async () => {
    const f = newImage();
    await addMessageBundle(f, keys().rogue);
    const result = await evaluate([f]);
    expect(steps(result, 'bundles[0]').slice(0, 4)).toEqual([
      'material_parsed:pass',
      'subject_digest:pass',
      'signature_verified:fail:key_untrusted',
      'certificate_chain:not_applicable',
    ]);
    expect(steps(result).at(-1)).toBe('requirement:fail:key_untrusted');
  });

  it('key_outside_boundary: verified, but the key region fails', async () => {
    const f = newImage();
    addSimpleSignature(f, keys().us);
    const result = await evaluate([f]);
    expect(steps(result, 'simpleSignatures[0]').slice(-2)).toEqual([
      'key_validity:pass',
      'key_region:fail:key_outside_boundary',
    ]);
    expect(check(result, 'key_region').found).toBe('us-east-1');
  });

  it('key_expired: the key validity window fails, with the time it was judged at', async () => {
    const settings = settingsWith({
      keys: [
        {
          id: EU_KEY_ID,
          publicKey: keys().eu.publicKeyPem,
          validUntil: '2026-01-01T00:00:00Z',
        },
      ],
    });
    const result = await evaluate([signed()], { settings });
    expect(steps(result, 'simpleSignatures[0]').slice(-3)).toEqual([
      'timestamp:skipped',
      'key_validity:fail:key_expired',
      'key_region:skipped',
    ]);
    expect(check(result, 'key_validity').time).toEqual({
      source: 'verification_time',
      at: '2026-06-01T12:00:00.000Z',
    });
  });

  it('subject_mismatch: an attestation of another image', async () => {
    const a = newImage();
    const f = signed();
    const p = slsaProvenanceV1({
      builderId: 'https://builder.eu.example.com/r',
    });
    addEnvelope(
      f,
      keys().eu,
      statementFor(f, p.predicateType, p.predicate, { digest: a.image.digest }),
    );
    const result = await evaluate([f]);
    expect(steps(result, 'envelopes[0]').slice(0, 5)).toEqual([
      'material_parsed:pass',
      'signature_verified:pass',
      'statement_parsed:pass',
      'subject_digest:fail:subject_mismatch',
      'certificate_chain:not_applicable',
    ]);
    expect(check(result, 'subject_digest', 'envelopes[0]').found).toBe(
      `subjects ${a.image.digest}`,
    );
  });

  it('attestation_missing and provenance_external_reference: the predicate check fails, the requirement says why', async () => {
    const f = signed();
    addExternalProvenance(f);
    const result = await evaluate([f], {
      settings: settingsWith({}, { require: ['signature', 'provenance'] }),
    });
    expect(check(result, 'predicate_external_references')).toMatchObject({
      outcome: 'fail',
      reason: 'provenance_external_reference',
      found: EXTERNAL_DEPENDENCY,
    });
    expect(steps(result).slice(-2)).toEqual([
      'requirement:pass',
      'requirement:fail:attestation_missing:provenance',
    ]);
  });

  it('region_mismatch: the residency predicate names a region outside the boundary', async () => {
    const f = signed();
    const r = residencyPredicateOf({
      buildRegion: EU_REGION,
      storageLocations: [],
      dataLocations: [{ kind: 'logs', region: 'us-west-2' }],
    });
    addEnvelope(f, keys().eu, statementFor(f, r.predicateType, r.predicate));
    const result = await evaluate([f]);
    expect(check(result, 'predicate_regions')).toMatchObject({
      outcome: 'fail',
      reason: 'region_mismatch',
    });
    expect(check(result, 'predicate_regions').found).toContain('us-west-2');
  });

  it('custom_rule: the entity report names the CEL expression and its result', async () => {
    const settings = settingsWith(
      {},
      {
        rules: [
          {
            id: 'two-sigs',
            expression: 'images.all(i, size(i.signatures) >= 2)',
            message: 'Two signatures are needed.',
          },
        ],
      },
    );
    const result = await evaluate([signed()], { settings });
    expect(result.report!.checks.at(-1)).toMatchObject({
      id: 'tenant_rule',
      outcome: 'fail',
      reason: 'custom_rule:two-sigs',
      expected: 'rule two-sigs: images.all(i, size(i.signatures) >= 2) is true',
      found: 'false',
    });
  });

  it('declared_region_outside_boundary and tenant_unknown are entity checks', async () => {
    const source = new FakeSource().add(signed());
    const engine = engineFor(settingsWith(), source);
    const ref = [...source.images.keys()][0];
    const a = await engine.evaluateEntity({
      entityRef: 'component:default/x',
      images: [ref],
      tenant: 'acme-eu',
      declaredRegion: 'us-east-1',
    });
    expect(a.result.report!.checks.map(c => `${c.id}:${c.outcome}`)).toEqual([
      'tenant_known:pass',
      'images_listed:pass',
      'declared_region:fail',
      'tenant_rule:not_applicable',
    ]);
    const b = await engine.evaluateEntity({
      entityRef: 'component:default/x',
      images: [ref],
      tenant: 'nobody',
    });
    expect(b.result.report!.checks).toEqual([
      expect.objectContaining({
        id: 'tenant_known',
        outcome: 'fail',
        reason: 'tenant_unknown',
      }),
    ]);
  });
});

describe('freshness without trustworthy time', () => {
  it('maxAge with a key-signed DSSE attestation: its age cannot be proven (attestation_stale)', async () => {
    const f = signed();
    const s = cycloneDxSbom({ name: 'api' });
    addEnvelope(f, keys().eu, statementFor(f, s.predicateType, s.predicate));
    const cfg = residencyConfig();
    Object.assign((cfg.tenants as any)['acme-eu'], {
      require: ['signature', 'sbom'],
      maxAge: { sbom: '7d' },
    });
    const settings = loadResidencySettings(
      configReaderFromObject({ residency: cfg }),
    );
    expect(settings.tenants['acme-eu'].maxAgeSeconds).toEqual({
      sbom: 7 * 86400,
    });
    const result = await evaluate([f], { settings });
    expect(result.decision).toBe('non_compliant');
    expect(result.images[0].reasons.map(r => r.code)).toEqual([
      'attestation_stale:sbom',
    ]);
    expect(result.images[0].reasons[0].details).toEqual({
      kind: 'sbom',
      maxAgeSeconds: 604800,
      ageSeconds: null,
    });
    expect(check(result, 'attestation_freshness')).toMatchObject({
      outcome: 'fail',
      found: 'only the verification time: the age cannot be proven',
      time: { source: 'verification_time' },
    });
    expect(check(result, 'timestamp', 'envelopes[0]')).toMatchObject({
      outcome: 'skipped',
    });
  });

  it('maxAge must be a duration', () => {
    expect(parseDurationSeconds('12h')).toBe(43200);
    expect(parseDurationSeconds('2w')).toBe(1209600);
    expect(parseDurationSeconds('7 days')).toBeUndefined();
    expect(parseDurationSeconds('0d')).toBeUndefined();
    const cfg = residencyConfig();
    Object.assign((cfg.tenants as any)['acme-eu'], {
      maxAge: { sbom: 'soon' },
    });
    expect(() =>
      loadResidencySettings(configReaderFromObject({ residency: cfg })),
    ).toThrow(/maxAge\.sbom: maxAge must be a duration/);
    Object.assign((cfg.tenants as any)['acme-eu'], {
      maxAge: { vulnscan: '7d' },
    });
    expect(() =>
      loadResidencySettings(configReaderFromObject({ residency: cfg })),
    ).toThrow(/maxAge/);
  });
});

describe('verification report in the evidence record', () => {
  it('verify-evidence recomputes the report; durations are not compared; a record without one still verifies; a changed check is named', async () => {
    const f = signed();
    const source = new FakeSource().add(f);
    const engine = engineFor(settingsWith(), source);
    const { record } = await engine.evaluateEntity({
      entityRef: 'component:default/shop',
      images: [f.reference],
      tenant: 'acme-eu',
    });
    const bundle = (r: EvidenceRecord): EvidenceBundle => ({
      schema: EVIDENCE_BUNDLE_SCHEMA,
      evidence: chainRecord(r, null),
      exportedAt: '2026-06-01T12:00:00Z',
    });
    const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));
    const problemsOf = (r: EvidenceRecord) =>
      verifyEvidenceBundle(bundle(r))
        .problems.filter(p => p.check === 'decision')
        .map(p => p.path);
    expect(problemsOf(clone(record))).toEqual([]);

    const slower = clone(record);
    for (const c of slower.result.images[0].report!.checks) c.durationMs = 999;
    expect(problemsOf(slower)).toEqual([]);

    const older = clone(record);
    delete older.result.images[0].report;
    delete older.result.report;
    expect(problemsOf(older)).toEqual([]);

    const edited = clone(record);
    const i = edited.result.images[0].report!.checks.findIndex(
      c => c.id === 'key_region',
    );
    edited.result.images[0].report!.checks[i].found = 'eu-somewhere';
    expect(problemsOf(edited)).toEqual([
      `evidence.record.result.images[0].report.checks[${i}].found`,
    ]);
  });
});
