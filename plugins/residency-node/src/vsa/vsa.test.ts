import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import {
  EU_REGION,
  FakeSource,
  FIXED_NOW,
  addEnvelope,
  addSimpleSignature,
  engineFor,
  keys,
  newImage,
  settingsWith,
  statementFor,
} from '../__testUtils__/world';
import { chainRecord } from '../evidence';
import { canonicalHash } from '../canonical';
import {
  FileVsaSigner,
  VSA_EVIDENCE_FIELD,
  VSA_PREDICATE_TYPE,
  VsaError,
  buildVsaStatements,
  signVsa,
  verifyVsa,
  type VsaStatement,
} from '.';

function p256() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
  });
  return {
    pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    pub: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** DSSE PAE written here, independently of the engine and of @sigstore/core. */
function pae(type: string, body: Buffer): Buffer {
  const t = Buffer.from(type, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${t.length} `),
    t,
    Buffer.from(` ${body.length} `),
    body,
  ]);
}

async function evaluated(opts: { compliant: boolean }) {
  const settings = settingsWith({}, { require: ['signature', 'provenance'] });
  const f = newImage();
  addSimpleSignature(f, keys().eu);
  if (opts.compliant) {
    addEnvelope(
      f,
      keys().eu,
      statementFor(f, 'https://slsa.dev/provenance/v1', {
        buildDefinition: {
          buildType: 'https://builder.eu.example.com/t',
          externalParameters: {},
          resolvedDependencies: [],
        },
        runDetails: { builder: { id: 'https://builder.eu.example.com/b' } },
      }),
    );
  }
  // a forged envelope (rogue key) is examined but never listed as input
  if (!opts.compliant)
    addEnvelope(
      f,
      keys().rogue,
      statementFor(f, 'https://slsa.dev/provenance/v1', {}),
    );
  const engine = engineFor(settings, new FakeSource().add(f));
  const { record } = await engine.evaluateEntity({
    entityRef: 'component:default/api',
    images: [f.reference],
    tenant: 'acme-eu',
  });
  return { f, evidence: chainRecord(record, null), settings };
}

describe('buildVsaStatements', () => {
  it('issues a PASSED VSA v1 over the digest with the boundary level and evidence link', async () => {
    const { f, evidence } = await evaluated({ compliant: true });
    expect(evidence.record.result.decision).toBe('compliant');
    const [s, ...rest] = buildVsaStatements({
      evidence,
      verifierId: 'https://portal.example.com',
    });
    expect(rest).toHaveLength(0);
    expect(s._type).toBe('https://in-toto.io/Statement/v1');
    expect(s.predicateType).toBe(VSA_PREDICATE_TYPE);
    expect(s.subject).toEqual([
      {
        name: 'registry.eu.example.com/shop/api',
        digest: { sha256: f.image.digest.slice('sha256:'.length) },
      },
    ]);
    const p = s.predicate;
    expect(p.verifier.id).toBe('https://portal.example.com');
    expect(Object.keys(p.verifier.version)).toEqual([
      '@residency-dev/plugin-residency-node',
    ]);
    expect(p.timeVerified).toBe(FIXED_NOW.toISOString());
    expect(p.resourceUri).toBe(f.reference);
    expect(p.policy).toEqual({
      uri: 'https://portal.example.com/policies/acme-eu',
      digest: { sha256: canonicalHash(evidence.record.policy) },
    });
    expect(p.verificationResult).toBe('PASSED');
    expect(p.verifiedLevels).toEqual(['RESIDENCY_BOUNDARY_EU_SOVEREIGN']);
    expect(p.verifiedLevels.some(l => l.startsWith('SLSA_'))).toBe(false);
    // the simple signature and the EU provenance verified; the rogue envelope did not
    expect(p.inputAttestations.map(i => i.uri)).toEqual([
      `urn:residency:evidence:${evidence.id}#/record/material/0/simpleSignatures/0`,
      `urn:residency:evidence:${evidence.id}#/record/material/0/envelopes/0`,
    ]);
    expect(p.inputAttestations[1].digest.sha256).toBe(
      require('node:crypto')
        .createHash('sha256')
        .update(f.material.envelopes[0].envelope)
        .digest('hex'),
    );
    expect(p[VSA_EVIDENCE_FIELD]).toMatchObject({
      recordHash: evidence.recordHash,
      entityRef: 'component:default/api',
      tenant: 'acme-eu',
      boundary: { name: 'eu-sovereign', regions: [EU_REGION] },
      reasons: [],
    });
  });

  it('issues FAILED with verifiedLevels FAILED for a non-compliant image', async () => {
    const { evidence } = await evaluated({ compliant: false });
    const [s] = buildVsaStatements({
      evidence,
      verifierId: 'https://portal.example.com',
    });
    expect(s.predicate.verificationResult).toBe('FAILED');
    expect(s.predicate.verifiedLevels).toEqual(['FAILED']);
    expect(s.predicate[VSA_EVIDENCE_FIELD].reasons).toContain(
      'attestation_missing:provenance',
    );
    // only the verified simple signature is an input; the forged envelope is not
    expect(s.predicate.inputAttestations.map(i => i.uri)).toEqual([
      `urn:residency:evidence:${evidence.id}#/record/material/0/simpleSignatures/0`,
    ]);
  });

  it('refuses a verifier id that is not a URI', async () => {
    const { evidence } = await evaluated({ compliant: true });
    expect(() =>
      buildVsaStatements({ evidence, verifierId: 'portal' }),
    ).toThrow(expect.objectContaining({ code: 'vsa_config_invalid' }));
  });
});

describe('signVsa and verifyVsa', () => {
  let statement: VsaStatement;
  let digest: string;
  const portal = p256();
  const signer = FileVsaSigner.fromPem(portal.pem, {
    keyId: 'vsa.pem',
    region: EU_REGION,
  });
  beforeAll(async () => {
    const { evidence, f } = await evaluated({ compliant: true });
    [statement] = buildVsaStatements({
      evidence,
      verifierId: 'https://portal.example.com',
    });
    digest = f.image.digest;
  });
  const fresh = () =>
    new Date(Date.parse(statement.predicate.timeVerified) + 60_000);

  it('writes a cosign-style DSSE envelope that node:crypto verifies over an independent PAE', async () => {
    const signed = await signVsa(statement, signer, [EU_REGION]);
    const env = JSON.parse(signed.envelope);
    expect(Object.keys(env)).toEqual(['payloadType', 'payload', 'signatures']);
    expect(env.payloadType).toBe('application/vnd.in-toto+json');
    expect(env.signatures).toHaveLength(1);
    expect(env.signatures[0].keyid).toBe('');
    const body = Buffer.from(env.payload, 'base64');
    expect(JSON.parse(body.toString())).toEqual(statement);
    const sig = Buffer.from(env.signatures[0].sig, 'base64');
    expect(verify('sha256', pae(env.payloadType, body), portal.pub, sig)).toBe(
      true,
    );
    // the raw payload (no PAE) is not what was signed
    expect(verify('sha256', body, portal.pub, sig)).toBe(false);
  });

  it('writes a v0.3 bundle with a key hint that @sigstore/verify accepts', async () => {
    const signed = await signVsa(statement, signer, [EU_REGION]);
    expect(signed.bundle.mediaType).toBe(
      'application/vnd.dev.sigstore.bundle.v0.3+json',
    );
    expect(signed.bundle.verificationMaterial.publicKey?.hint).toBe(
      signed.key.fingerprint,
    );
    const tm = toTrustMaterial(
      {
        mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
        tlogs: [],
        ctlogs: [],
        certificateAuthorities: [],
        timestampAuthorities: [],
      } as any,
      () => ({ publicKey: createPublicKey(portal.pub), validFor: () => true }),
    );
    const v = new Verifier(tm, {
      tlogThreshold: 0,
      ctlogThreshold: 0,
      timestampThreshold: 0,
    });
    expect(() =>
      v.verify(toSignedEntity(bundleFromJSON(signed.bundle))),
    ).not.toThrow();
    const other = p256();
    const tmOther = toTrustMaterial(
      {
        mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
        tlogs: [],
        ctlogs: [],
        certificateAuthorities: [],
        timestampAuthorities: [],
      } as any,
      () => ({ publicKey: createPublicKey(other.pub), validFor: () => true }),
    );
    expect(() =>
      new Verifier(tmOther, {
        tlogThreshold: 0,
        ctlogThreshold: 0,
        timestampThreshold: 0,
      }).verify(toSignedEntity(bundleFromJSON(signed.bundle))),
    ).toThrow(expect.objectContaining({ code: 'SIGNATURE_ERROR' }));
  });

  it('refuses to sign with a key outside the boundary', async () => {
    const us = FileVsaSigner.fromPem(portal.pem, {
      keyId: 'us.pem',
      region: 'us-east-1',
    });
    await expect(signVsa(statement, us, [EU_REGION])).rejects.toThrow(
      expect.objectContaining({ code: 'vsa_key_outside_boundary' }),
    );
  });

  it('rejects a private key file that is not PEM', () => {
    expect(() =>
      FileVsaSigner.fromPem('not a key', { keyId: 'x', region: EU_REGION }),
    ).toThrow(VsaError);
  });

  it('passes a fresh PASSED VSA, as envelope and as bundle, with the boundary', async () => {
    const signed = await signVsa(statement, signer, [EU_REGION]);
    for (const material of [
      { envelopes: [{ envelope: signed.envelope }] },
      { bundles: [{ bundle: JSON.stringify(signed.bundle) }] },
    ]) {
      const r = verifyVsa({
        digest,
        key: { publicKeyPem: portal.pub },
        boundary: 'eu-sovereign',
        now: fresh(),
        ...material,
      });
      expect(r).toMatchObject({ ok: true, code: 'vsa_passed' });
      expect(r.vsa?.verifierId).toBe('https://portal.example.com');
    }
  });

  it('fails: expired, other key, other digest, revoked key, other boundary, FAILED newest, not yet valid', async () => {
    const signed = await signVsa(statement, signer, [EU_REGION]);
    const envelopes = [{ envelope: signed.envelope }];
    const base = {
      digest,
      key: { publicKeyPem: portal.pub },
      envelopes,
      now: fresh(),
    };
    expect(
      verifyVsa({
        ...base,
        now: new Date(
          Date.parse(statement.predicate.timeVerified) + 25 * 3600_000,
        ),
      }).code,
    ).toBe('vsa_expired');
    expect(verifyVsa({ ...base, maxAgeMs: 30_000 }).code).toBe('vsa_expired');
    expect(
      verifyVsa({
        ...base,
        now: new Date(Date.parse(statement.predicate.timeVerified) - 3600_000),
      }).code,
    ).toBe('vsa_not_yet_valid');
    expect(verifyVsa({ ...base, key: { publicKeyPem: p256().pub } }).code).toBe(
      'vsa_missing',
    );
    expect(
      verifyVsa({ ...base, digest: `sha256:${'0'.repeat(64)}` }).code,
    ).toBe('vsa_missing');
    expect(
      verifyVsa({ ...base, key: { publicKeyPem: portal.pub, revoked: true } })
        .code,
    ).toBe('key_revoked');
    expect(verifyVsa({ ...base, boundary: 'us' }).code).toBe(
      'vsa_boundary_mismatch',
    );
    expect(verifyVsa({ ...base, verifierId: 'https://other' }).code).toBe(
      'vsa_verifier_mismatch',
    );
    // a later FAILED verdict supersedes the PASSED one
    const later: VsaStatement = JSON.parse(JSON.stringify(statement));
    later.predicate.verificationResult = 'FAILED';
    later.predicate.verifiedLevels = ['FAILED'];
    later.predicate.timeVerified = new Date(
      Date.parse(statement.predicate.timeVerified) + 1000,
    ).toISOString();
    const failed = await signVsa(later, signer, [EU_REGION]);
    const r = verifyVsa({
      ...base,
      envelopes: [...envelopes, { envelope: failed.envelope }],
    });
    expect(r.code).toBe('vsa_failed');
  });

  it('ignores hostile candidates without throwing', () => {
    const r = verifyVsa({
      digest,
      key: { publicKeyPem: portal.pub },
      envelopes: [{ envelope: '{"payloadType":1' }, { envelope: 'null' }],
      bundles: [{ bundle: '{"mediaType":"x"}' }],
      now: fresh(),
    });
    expect(r.code).toBe('vsa_missing');
    expect(r.candidates).toHaveLength(3);
    expect(r.candidates.every(c => !c.verified && c.error)).toBe(true);
  });
});
