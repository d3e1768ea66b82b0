/*
 * One test per reason code and one fixture per attack (SECURITY-CASES numbers in
 * the test names). Every image goes through the engine with a fake source that
 * serves material exactly as the real sources hand it over.
 */
import {
  cycloneDxSbom,
  residencyPredicate as residencyPredicateOf,
  slsaProvenanceV1,
  signDsse,
  generateKey,
  PREDICATE_COSIGN_SIGN,
} from '@residency-dev/signing-kit';
import type {
  EntityResult,
  ImageResult,
} from '@residency-dev/plugin-residency-common';
import { SourceError } from './source/types';
import {
  addEnvelope,
  addMessageBundle,
  addRawEnvelope,
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
  US_REG,
  type Fixture,
  addExternalProvenance,
  EXTERNAL_DEPENDENCY,
} from './__testUtils__/world';
import type { ResidencySettings } from './api';

async function evaluate(
  fixtures: Fixture[],
  opts: {
    settings?: ResidencySettings;
    tenant?: string | null;
    declaredRegion?: string;
    images?: string[];
    source?: FakeSource;
  } = {},
): Promise<{ result: EntityResult; source: FakeSource }> {
  const source = opts.source ?? new FakeSource();
  fixtures.forEach(f => source.add(f));
  const engine = engineFor(opts.settings ?? settingsWith(), source);
  const { result } = await engine.evaluateEntity({
    entityRef: 'component:default/shop',
    images: opts.images ?? fixtures.map(f => f.reference),
    tenant: opts.tenant === null ? undefined : opts.tenant ?? 'acme-eu',
    declaredRegion: opts.declaredRegion,
  });
  return { result, source };
}

const codes = (r: { reasons: { code: string }[] }) =>
  r.reasons.map(x => x.code);
const img = (r: EntityResult, i = 0): ImageResult => r.images[i];

/**
 * Material no configured key signed is shown with its reason, marked ignored, and
 * leaves the (otherwise compliant) decision alone: one pushed bogus artifact must
 * not flip an image (issue 11 item 4).
 */
function expectIgnored(result: EntityResult, code: string) {
  const i = img(result);
  const bad = [...i.signatures, ...i.attestations].filter(x => !x.verified);
  expect(bad.map(x => x.error?.code)).toContain(code);
  expect(
    bad.every(x => x.ignored === 'ignored: not signed by a configured key'),
  ).toBe(true);
  expect(result.decision).toBe('compliant');
}

function signed(): Fixture {
  const f = newImage();
  addSimpleSignature(f, keys().eu);
  return f;
}

const provenance = () =>
  slsaProvenanceV1({
    builderId: 'https://builder.eu.example.com/runner',
    buildType: 'https://slsa.dev/container-based-build/v0.1',
    resolvedDependencies: [
      {
        uri: 'git+https://git.eu.example.com/shop/api@refs/heads/main',
        digest: { sha1: 'a'.repeat(40) },
      },
    ],
  });

describe('decision: compliant baseline', () => {
  it('an image signed by the pinned in-boundary key is compliant, and records which key verified', async () => {
    const { result } = await evaluate([signed()]);
    expect(result.decision).toBe('compliant');
    expect(result.reasons).toEqual([]);
    expect(img(result).signatures[0]).toMatchObject({
      verified: true,
      key: { id: EU_KEY_ID, region: EU_REGION },
    });
  });

  it('all requirements satisfied: signature, provenance v1, SBOM, residency predicate', async () => {
    const f = signed();
    const p = provenance();
    addEnvelope(f, keys().eu, statementFor(f, p.predicateType, p.predicate));
    const s = cycloneDxSbom({ name: 'api' });
    addEnvelope(f, keys().eu, statementFor(f, s.predicateType, s.predicate));
    const r = residencyPredicateOf({
      buildRegion: EU_REGION,
      storageLocations: [
        { uri: 'oci://registry.eu.example.com/shop/api', region: EU_REGION },
      ],
      dataLocations: [{ kind: 'database', region: EU_REGION }],
    });
    await addStatementBundle(
      f,
      keys().eu,
      statementFor(f, r.predicateType, r.predicate),
    );
    const settings = settingsWith(
      {},
      { require: ['signature', 'provenance', 'sbom', 'residency'] },
    );
    const { result } = await evaluate([f], { settings });
    expect(codes(img(result))).toEqual([]);
    expect(result.decision).toBe('compliant');
    expect(
      img(result)
        .attestations.map(a => a.kind)
        .sort(),
    ).toEqual(['provenance', 'residency', 'sbom']);
  });

  it('a message-signature Sigstore bundle over the manifest counts as a signature', async () => {
    const f = newImage();
    await addMessageBundle(f, keys().eu);
    const { result } = await evaluate([f]);
    expect(result.decision).toBe('compliant');
    expect(img(result).signatures[0]).toMatchObject({
      format: 'sigstore-bundle',
      verified: true,
      key: { id: EU_KEY_ID },
    });
  });
});

describe('decision: one test per reason code', () => {
  it('bad_reference (case 27): malformed references are invalid and make no network call', async () => {
    for (const ref of [
      'Registry.eu.example.com/Shop/API:1',
      'registry.eu.example.com/shop@sha256:ABC',
      'registry.eu.example.com/shop\u0000x',
      `registry.eu.example.com/${'a'.repeat(300)}`,
    ]) {
      const { result, source } = await evaluate([], { images: [ref] });
      expect(result.decision).toBe('invalid');
      expect(codes(img(result))).toEqual(['bad_reference']);
      expect(source.calls).toBe(0);
    }
  });

  it('registry_not_allowed (case 24): unlisted hosts are invalid without any request', async () => {
    for (const ref of [
      'localhost:7007/x:1',
      '169.254.169.254/latest:1',
      'evil.example.com/shop/api:1',
    ]) {
      const { result, source } = await evaluate([], { images: [ref] });
      expect(result.decision).toBe('invalid');
      expect(codes(img(result))).toEqual(['registry_not_allowed']);
      expect(source.calls).toBe(0);
    }
  });

  it('registry_outside_boundary: a signed image stored in a US registry is non-compliant', async () => {
    const f = newImage(US_REG);
    addSimpleSignature(f, keys().eu);
    const { result } = await evaluate([f]);
    expect(result.decision).toBe('non_compliant');
    expect(codes(img(result))).toEqual(['registry_outside_boundary']);
    expect(img(result).reasons[0].details).toMatchObject({
      region: 'us-east-1',
    });
  });

  it.each([
    ['registry_unreachable', 'registry_unreachable'],
    ['registry_auth', 'registry_auth'],
    ['rate_limited', 'rate_limited'],
    ['too_large', 'too_large'],
    ['not_found', 'registry_unreachable'],
  ] as const)(
    'source error %s is unknown(%s), never compliant',
    async (sourceCode, reasonCode) => {
      const source = new FakeSource();
      source.failWith = new SourceError(sourceCode, 'boom');
      const f = signed();
      const { result } = await evaluate([f], { source });
      expect(result.decision).toBe('unknown');
      expect(codes(img(result))).toEqual([reasonCode]);
    },
  );

  it('digest_mismatch (case 1): a valid signature for digest A stored for image B', async () => {
    const a = newImage();
    const b = newImage();
    addSimpleSignature(b, keys().eu, { digest: a.image.digest });
    const { result } = await evaluate([b]);
    expect(result.decision).toBe('non_compliant');
    expect(codes(img(result))).toContain('digest_mismatch');
    expect(img(result).signatures[0].verified).toBe(false);
  });

  it('digest_mismatch (case 10): a bundle whose messageDigest is not the image digest', async () => {
    const f = newImage();
    const b = await addMessageBundle(f, keys().eu);
    const forged = JSON.parse(JSON.stringify(b));
    forged.messageSignature.messageDigest.digest = Buffer.alloc(32, 7).toString(
      'base64',
    );
    f.material.bundles = [
      { bundle: JSON.stringify(forged), source: 'referrers' },
    ];
    const { result } = await evaluate([f]);
    expect(codes(img(result))).toContain('digest_mismatch');
    expect(result.decision).toBe('non_compliant');
  });

  it('signature_missing: an unsigned image', async () => {
    const { result } = await evaluate([newImage()]);
    expect(result.decision).toBe('non_compliant');
    expect(codes(img(result))).toEqual(['signature_missing']);
  });

  it('signature_invalid: a tampered simple-signing payload', async () => {
    const f = signed();
    const payload = JSON.parse(
      Buffer.from(f.material.simpleSignatures[0].payload, 'base64').toString(),
    );
    payload.optional = { tampered: true };
    f.material.simpleSignatures[0].payload = Buffer.from(
      JSON.stringify(payload),
    ).toString('base64');
    const { result } = await evaluate([f]);
    expect(codes(img(result))).toEqual(['signature_invalid']);
  });

  it('key_untrusted (case 8): a bundle signed by a key that only the bundle itself names', async () => {
    const f = newImage();
    await addMessageBundle(f, keys().rogue);
    const { result } = await evaluate([f]);
    expect(result.decision).toBe('non_compliant');
    expect(codes(img(result))).toContain('key_untrusted');
  });

  it('case 7: a bundle whose hint names the trusted EU key but another key signed does not verify', async () => {
    const f = newImage();
    await addMessageBundle(f, keys().eu, {
      forge: { signingKey: keys().rogue },
      hint: keys().eu.fingerprint,
    });
    const { result } = await evaluate([f]);
    expect(img(result).signatures[0].verified).toBe(false);
    expect(codes(img(result))).toContain('signature_invalid');
    expect(result.decision).toBe('non_compliant');
  });

  it('case 7: the key that verifies is recorded, never the hint (US key signs, hint says EU)', async () => {
    const f = newImage();
    await addMessageBundle(f, keys().us, { hint: EU_KEY_ID });
    const { result } = await evaluate([f]);
    expect(img(result).signatures[0].key?.id).not.toBe(EU_KEY_ID);
    expect(codes(img(result))).toContain('key_outside_boundary');
  });

  it('key_outside_boundary: signed only by the pinned US key', async () => {
    const f = newImage();
    addSimpleSignature(f, keys().us);
    const { result } = await evaluate([f]);
    expect(result.decision).toBe('non_compliant');
    expect(codes(img(result))).toContain('key_outside_boundary');
  });

  it('key_expired (case 14): a key whose validUntil has passed, without trustworthy time', async () => {
    const settings = settingsWith({
      keys: [
        {
          id: EU_KEY_ID,
          publicKey: keys().eu.publicKeyPem,
          validUntil: '2026-01-01T00:00:00Z',
        },
      ],
    });
    const { result } = await evaluate([signed()], { settings });
    expect(codes(img(result))).toContain('key_expired');
    expect(result.decision).toBe('non_compliant');
  });

  it('key_expired: a key that is not valid yet', async () => {
    const settings = settingsWith({
      keys: [
        {
          id: EU_KEY_ID,
          publicKey: keys().eu.publicKeyPem,
          validFrom: '2027-01-01T00:00:00Z',
        },
      ],
    });
    const { result } = await evaluate([signed()], { settings });
    expect(codes(img(result))).toContain('key_expired');
  });

  it('a key inside its window verifies (verification time inside the window)', async () => {
    const settings = settingsWith({
      keys: [
        {
          id: EU_KEY_ID,
          publicKey: keys().eu.publicKeyPem,
          validFrom: '2026-01-01T00:00:00Z',
          validUntil: '2027-01-01T00:00:00Z',
        },
      ],
    });
    const { result } = await evaluate([signed()], { settings });
    expect(result.decision).toBe('compliant');
  });

  it('key_revoked (case 14)', async () => {
    const settings = settingsWith({
      keys: [
        { id: EU_KEY_ID, publicKey: keys().eu.publicKeyPem, revoked: true },
      ],
    });
    const { result } = await evaluate([signed()], { settings });
    expect(codes(img(result))).toContain('key_revoked');
    expect(result.decision).toBe('non_compliant');
  });

  it('attestation_missing:provenance (case 3): an SBOM does not satisfy a provenance requirement', async () => {
    const f = signed();
    const s = cycloneDxSbom({ name: 'api' });
    addEnvelope(f, keys().eu, statementFor(f, s.predicateType, s.predicate));
    const settings = settingsWith(
      {},
      { require: ['signature', 'provenance', 'sbom'] },
    );
    const { result } = await evaluate([f], { settings });
    expect(codes(img(result))).toEqual(['attestation_missing:provenance']);
    expect(result.decision).toBe('non_compliant');
  });

  it('attestation_invalid (case 4): a forged DSSE envelope found by discovery does not count', async () => {
    const f = signed();
    const p = provenance();
    addEnvelope(f, keys().rogue, statementFor(f, p.predicateType, p.predicate));
    const settings = settingsWith({}, { require: ['signature', 'provenance'] });
    const { result } = await evaluate([f], { settings });
    expect(codes(img(result))).toEqual(
      expect.arrayContaining([
        'attestation_invalid',
        'attestation_missing:provenance',
      ]),
    );
  });

  it('attestation_invalid (case 5): signature over the raw payload instead of PAE', async () => {
    const f = signed();
    const p = provenance();
    addEnvelope(f, keys().eu, statementFor(f, p.predicateType, p.predicate), {
      forge: { signRawPayload: true },
    });
    const { result } = await evaluate([f]);
    expectIgnored(result, 'attestation_invalid');
  });

  it('attestation_invalid (case 5): payloadType not bound (signed as one type, labelled in-toto)', async () => {
    const f = signed();
    const p = provenance();
    addEnvelope(f, keys().eu, statementFor(f, p.predicateType, p.predicate), {
      forge: {
        payloadType: 'text/plain',
        envelopePayloadType: 'application/vnd.in-toto+json',
      },
    });
    const { result } = await evaluate([f]);
    expectIgnored(result, 'attestation_invalid');
  });

  it('attestation_invalid (case 5): payloadType other than in-toto is refused', async () => {
    const f = signed();
    const p = provenance();
    const env = signDsse(
      keys().eu,
      'application/json',
      Buffer.from(
        JSON.stringify(statementFor(f, p.predicateType, p.predicate)),
      ),
    );
    addRawEnvelope(f, env);
    const { result } = await evaluate([f]);
    expectIgnored(result, 'attestation_invalid');
  });

  it('attestation_invalid (case 5): signature over the base64 text of the payload', async () => {
    const f = signed();
    const p = provenance();
    const payload = Buffer.from(
      JSON.stringify(statementFor(f, p.predicateType, p.predicate)),
    );
    const env = signDsse(
      keys().eu,
      'application/vnd.in-toto+json',
      Buffer.from(payload.toString('base64')),
    );
    env.payload = payload.toString('base64');
    addRawEnvelope(f, env);
    const { result } = await evaluate([f]);
    expectIgnored(result, 'attestation_invalid');
  });

  it('subject_mismatch (case 2): a valid attestation for image A attached to image B', async () => {
    const a = newImage();
    const b = signed();
    const p = provenance();
    addEnvelope(
      b,
      keys().eu,
      statementFor(b, p.predicateType, p.predicate, { digest: a.image.digest }),
    );
    const { result } = await evaluate([b]);
    expect(codes(img(result))).toContain('subject_mismatch');
    expect(result.decision).toBe('non_compliant');
  });

  it('subject_mismatch in a Sigstore DSSE bundle', async () => {
    const a = newImage();
    const b = signed();
    const p = provenance();
    await addStatementBundle(
      b,
      keys().eu,
      statementFor(b, p.predicateType, p.predicate, { digest: a.image.digest }),
    );
    const { result } = await evaluate([b]);
    expect(codes(img(result))).toContain('subject_mismatch');
  });

  it.each([
    ['no _type', { omitType: true }],
    ['no subjects', { omitSubjects: true }],
  ])('malformed_statement (case 6): %s', async (_name, forge) => {
    const f = signed();
    const p = provenance();
    addEnvelope(
      f,
      keys().eu,
      statementFor(f, p.predicateType, p.predicate, { forge }),
    );
    const { result } = await evaluate([f]);
    expect(codes(img(result))).toContain('malformed_statement');
  });

  it('malformed_statement (case 6): a subject without digest', async () => {
    const f = signed();
    const st = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'x' }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: {},
    };
    addEnvelope(f, keys().eu, st);
    const { result } = await evaluate([f]);
    expect(codes(img(result))).toContain('malformed_statement');
  });

  it('malformed_statement (case 6): duplicate keys in a signed statement', async () => {
    const f = signed();
    const hex = f.image.digest.split(':')[1];
    const text = `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x","digest":{"sha256":"${hex}"}}],"subject":[{"name":"y","digest":{"sha256":"${'0'.repeat(
      64,
    )}"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}`;
    const env = signDsse(
      keys().eu,
      'application/vnd.in-toto+json',
      Buffer.from(text),
    );
    addRawEnvelope(f, env);
    const { result } = await evaluate([f]);
    expect(codes(img(result))).toContain('malformed_statement');
  });

  it('region_mismatch (case 12): buildRegion differs from the region of the key that signed, both values kept', async () => {
    const f = signed();
    const r = residencyPredicateOf({
      buildRegion: 'us-east-1',
      storageLocations: [],
      dataLocations: [],
    });
    addEnvelope(f, keys().eu, statementFor(f, r.predicateType, r.predicate));
    const { result } = await evaluate([f]);
    const mismatch = img(result).reasons.find(
      x => x.code === 'region_mismatch' && x.details?.predicateRegion,
    );
    expect(mismatch?.details).toMatchObject({
      predicateRegion: 'us-east-1',
      keyRegion: EU_REGION,
    });
    expect(result.decision).toBe('non_compliant');
  });

  it('region_mismatch: a data location outside the boundary', async () => {
    const f = signed();
    const r = residencyPredicateOf({
      buildRegion: EU_REGION,
      storageLocations: [],
      dataLocations: [{ kind: 'logs', region: 'us-west-2' }],
    });
    addEnvelope(f, keys().eu, statementFor(f, r.predicateType, r.predicate));
    const { result } = await evaluate([f]);
    expect(codes(img(result))).toEqual(['region_mismatch']);
  });

  it('provenance_external_reference: SLSA v0.2 materials on a host outside allowedHosts', async () => {
    const f = signed();
    addExternalProvenance(f);
    const { result } = await evaluate([f]);
    const r = img(result).reasons.find(
      x => x.code === 'provenance_external_reference',
    );
    expect(r?.details?.references).toEqual([EXTERNAL_DEPENDENCY]);
  });

  it('provenance_external_reference: SLSA v1 externalParameters pointing outside', async () => {
    const f = signed();
    const p = slsaProvenanceV1({
      builderId: 'https://builder.eu.example.com/r',
      externalParameters: { source: 'https://gitlab.com/x/y' },
    });
    addEnvelope(f, keys().eu, statementFor(f, p.predicateType, p.predicate));
    const { result } = await evaluate([f]);
    expect(codes(img(result))).toContain('provenance_external_reference');
  });

  it('provenance build type on a foreign host is a schema id, not an external reference', async () => {
    const f = signed();
    const p = slsaProvenanceV1({
      builderId: 'https://builder.eu.example.com/r',
      buildType: 'https://actions.github.io/buildtypes/workflow/v1',
    });
    addEnvelope(f, keys().eu, statementFor(f, p.predicateType, p.predicate));
    const { result } = await evaluate([f]);
    expect(codes(img(result))).not.toContain('provenance_external_reference');
  });

  it('tenant_missing and tenant_unknown are invalid and fetch nothing', async () => {
    const a = await evaluate([signed()], { tenant: null });
    expect(a.result.decision).toBe('invalid');
    expect(codes(a.result)).toEqual(['tenant_missing']);
    expect(a.source.calls).toBe(0);
    const b = await evaluate([signed()], { tenant: 'nobody' });
    expect(codes(b.result)).toEqual(['tenant_unknown']);
    expect(b.source.calls).toBe(0);
  });

  it('declared_region_outside_boundary', async () => {
    const { result } = await evaluate([signed()], {
      declaredRegion: 'us-east-1',
    });
    expect(result.decision).toBe('non_compliant');
    expect(codes(result)).toEqual(['declared_region_outside_boundary']);
  });

  it('too_many_images (case 30): 1,000 images is invalid beyond the cap, no fetch', async () => {
    const images = Array.from(
      { length: 1000 },
      (_, i) => `registry.eu.example.com/x/y:${i}`,
    );
    const { result, source } = await evaluate([], { images });
    expect(result.decision).toBe('invalid');
    expect(codes(result)).toEqual(['too_many_images']);
    expect(source.calls).toBe(0);
  });

  it('no_images', async () => {
    const { result } = await evaluate([], { images: [] });
    expect(codes(result)).toEqual(['no_images']);
  });

  it('custom_rule:<id>: a CEL rule over verified facts', async () => {
    const settings = settingsWith(
      {},
      {
        rules: [
          {
            id: 'eu-keys-only',
            expression:
              "images.all(i, i.signatures.all(s, s.keyRegion == 'eusc-de-east-1'))",
            message: 'EU keys only',
          },
          {
            id: 'needs-provenance',
            expression:
              "images.all(i, i.attestations.exists(a, a.kind == 'provenance'))",
            message: 'provenance needed',
          },
        ],
      },
    );
    const { result } = await evaluate([signed()], { settings });
    expect(codes(result)).toEqual(['custom_rule:needs-provenance']);
    expect(result.reasons[0].message).toBe('provenance needed');
    expect(result.decision).toBe('non_compliant');
  });
});

describe('decision: hostile material never throws', () => {
  it.each([
    ['bad base64', 'not base64!!'],
    [
      'truncated JSON',
      '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":',
    ],
    [
      'unknown media type',
      JSON.stringify({
        mediaType: 'application/vnd.dev.sigstore.bundle.v9+json',
      }),
    ],
    [
      'empty chain',
      JSON.stringify({
        mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.3',
        verificationMaterial: {
          x509CertificateChain: { certificates: [] },
          tlogEntries: [],
        },
        messageSignature: {
          messageDigest: { algorithm: 'SHA2_256', digest: 'AA==' },
          signature: 'AA==',
        },
      }),
    ],
    ['JSON null', 'null'],
  ])(
    'case 9: a structurally broken bundle (%s) is a typed reason, ignored beside a valid signature',
    async (_n, bundle) => {
      const f = signed();
      f.material.bundles.push({ bundle, source: 'referrers' });
      const { result } = await evaluate([f]);
      expectIgnored(result, 'signature_invalid');
      expect(img(result).signatures[1].verified).toBe(false);
      // alone, the same bundle leaves the requirement unmet and says why
      const g = newImage();
      g.material.bundles.push({ bundle, source: 'referrers' });
      const alone = await evaluate([g]);
      expect(codes(img(alone.result))).toEqual(['signature_invalid']);
      expect(alone.result.decision).toBe('non_compliant');
    },
  );

  it('case 11: a region claimed only in labels is shown as claimed and does not decide', async () => {
    const f = newImage(US_REG);
    const { result } = await evaluate([f]);
    expect(img(result).claims).toEqual({
      'residency.dev/region': 'eusc-de-east-1',
    });
    expect(result.decision).toBe('non_compliant');
  });
});

describe('engine', () => {
  it('reuses a previous result for the same digest without discovery', async () => {
    const f = signed();
    const source = new FakeSource().add(f);
    const engine = engineFor(settingsWith(), source);
    const first = await engine.evaluateEntity({
      entityRef: 'c:d/x',
      images: [f.reference],
      tenant: 'acme-eu',
    });
    const calls = source.calls;
    const second = await engine.evaluateEntity({
      entityRef: 'c:d/x',
      images: [f.reference],
      tenant: 'acme-eu',
      reuse: async d =>
        d === f.image.digest
          ? { material: first.record.material[0] }
          : undefined,
    });
    expect(source.calls - calls).toBe(1); // resolve only
    expect(second.result.decision).toBe('compliant');
  });

  it('reused material is decided again: a key revoked since the last fetch changes the decision', async () => {
    const f = signed();
    const source = new FakeSource().add(f);
    const first = await engineFor(settingsWith(), source).evaluateEntity({
      entityRef: 'c:d/x',
      images: [f.reference],
      tenant: 'acme-eu',
    });
    expect(first.result.decision).toBe('compliant');
    const revoked = settingsWith({
      keys: [
        { id: EU_KEY_ID, publicKey: keys().eu.publicKeyPem, revoked: true },
      ],
    });
    const second = await engineFor(revoked, source).evaluateEntity({
      entityRef: 'c:d/x',
      images: [f.reference],
      tenant: 'acme-eu',
      reuse: async () => ({
        material: first.record.material[0],
      }),
    });
    expect(codes(img(second.result))).toContain('key_revoked');
  });

  it('trustHash and policyHash are stable and change with configuration', () => {
    const a = engineFor(settingsWith(), new FakeSource());
    const b = engineFor(settingsWith(), new FakeSource());
    expect(a.trustHash()).toBe(b.trustHash());
    expect(a.policyHash('acme-eu')).toBe(b.policyHash('acme-eu'));
    const c = engineFor(
      settingsWith({}, { require: ['signature', 'sbom'] }),
      new FakeSource(),
    );
    expect(c.policyHash('acme-eu')).not.toBe(a.policyHash('acme-eu'));
    const d = engineFor(
      settingsWith({
        keys: [
          { id: EU_KEY_ID, publicKey: keys().eu.publicKeyPem, revoked: true },
        ],
      }),
      new FakeSource(),
    );
    expect(d.trustHash()).not.toBe(a.trustHash());
  });
});

describe('decision: key types, formats and keyless', () => {
  it.each(['ed25519', 'rsa', 'ecdsa-p384'] as const)(
    'a %s key verifies simple signatures',
    async alg => {
      const k = generateKey(alg);
      const settings = settingsWith({
        keys: [
          {
            id: 'hashivault://eu-signer',
            region: EU_REGION,
            publicKey: k.publicKeyPem,
          },
        ],
      });
      const f = newImage();
      addSimpleSignature(f, k);
      const { result } = await evaluate([f], { settings });
      expect(result.decision).toBe('compliant');
      expect(img(result).signatures[0].key?.id).toBe('hashivault://eu-signer');
    },
  );

  it('a cosign sign/v1 DSSE bundle counts as the image signature', async () => {
    const f = newImage();
    await addStatementBundle(
      f,
      keys().eu,
      statementFor(f, PREDICATE_COSIGN_SIGN, {}),
    );
    const { result } = await evaluate([f]);
    expect(result.decision).toBe('compliant');
    expect(img(result).signatures[0]).toMatchObject({
      format: 'sigstore-bundle',
      verified: true,
    });
  });

  it('every pinned key is tried: with several keys configured the right one is recorded', async () => {
    const f = newImage();
    addSimpleSignature(f, keys().us);
    addSimpleSignature(f, keys().eu);
    const { result } = await evaluate([f]);
    expect(img(result).signatures.map(s => s.key?.id)).toEqual([
      expect.stringContaining('us-east-1'),
      EU_KEY_ID,
    ]);
    expect(codes(img(result))).toEqual(['key_outside_boundary']);
  });

  it('keyless: a certificate bundle without configured trusted roots is key_untrusted', async () => {
    const f = newImage();
    const b = await addMessageBundle(f, keys().eu);
    const forged = JSON.parse(JSON.stringify(b));
    // a self-made "certificate" in place of the key hint: trust never comes from the bundle
    forged.verificationMaterial = {
      certificate: { rawBytes: Buffer.from('not a cert').toString('base64') },
      tlogEntries: [],
    };
    f.material.bundles = [
      { bundle: JSON.stringify(forged), source: 'referrers' },
    ];
    const { result } = await evaluate([f]);
    expect(img(result).signatures[0].verified).toBe(false);
    expect(result.decision).toBe('non_compliant');
  });

  it('keyless: with the public-good root, an unverifiable certificate bundle fails typed', async () => {
    const settings = settingsWith(
      { trustedRoots: [{ publicGood: true }] },
      {
        identities: [
          {
            subject:
              'https://github.com/acme/api/.github/workflows/release.yml@refs/heads/main',
            issuer: 'https://token.actions.githubusercontent.com',
            region: EU_REGION,
          },
        ],
      },
    );
    const f = newImage();
    const b = await addMessageBundle(f, keys().eu);
    const forged = JSON.parse(JSON.stringify(b));
    forged.verificationMaterial = {
      certificate: { rawBytes: Buffer.from('not a cert').toString('base64') },
      tlogEntries: [],
    };
    f.material.bundles = [
      { bundle: JSON.stringify(forged), source: 'referrers' },
    ];
    const { result } = await evaluate([f], { settings });
    expect(codes(img(result))).toEqual(['signature_invalid']);
  });
});
