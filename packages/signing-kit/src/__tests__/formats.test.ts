import { createHash, createPublicKey } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import {
  generateKey,
  keyFromPrivatePem,
  KeyAlgorithm,
  privateKeyPem,
  signBytes,
} from '../keys';
import {
  imageSubject,
  makeStatement,
  pae,
  signDsse,
  signSimpleSigning,
  signStatement,
  simpleSigningPayload,
  cosignConfig,
  simpleSigningLayer,
} from '../cosign';
import { makeImage } from '../image';
import { makeMessageBundle, makeStatementBundle } from '../bundles';
import {
  cycloneDxSbom,
  residencyPredicate,
  slsaProvenanceV02,
  slsaProvenanceV1,
  spdxSbom,
} from '../predicates';
import {
  referencePae,
  verifyBundle,
  verifyEnvelope,
  verifyWithPem,
} from '../__testUtils__/verify';

const ALGS: KeyAlgorithm[] = ['ecdsa-p256', 'ecdsa-p384', 'ed25519', 'rsa'];

describe('keys', () => {
  it.each(ALGS)(
    '%s: fingerprint is SHA-256 of the DER SPKI and signatures verify',
    alg => {
      const key = generateKey(alg);
      const der = createPublicKey(key.publicKeyPem).export({
        type: 'spki',
        format: 'der',
      });
      expect(key.fingerprint).toBe(
        createHash('sha256').update(der).digest('hex'),
      );
      expect(key.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
      const data = Buffer.from('payload');
      const sig = signBytes(key, data).toString('base64');
      expect(verifyWithPem(key.publicKeyPem, data, sig)).toBe(true);
      expect(verifyWithPem(key.publicKeyPem, Buffer.from('other'), sig)).toBe(
        false,
      );
      // round trip through PEM keeps the identity
      expect(keyFromPrivatePem(privateKeyPem(key)).fingerprint).toBe(
        key.fingerprint,
      );
    },
  );

  it('refuses garbage private keys with a typed error', () => {
    expect(() => keyFromPrivatePem('not a key')).toThrow(
      expect.objectContaining({ name: 'SigningKitError', code: 'bad_key' }),
    );
  });
});

describe('cosign simple signing', () => {
  const digest = `sha256:${'ab'.repeat(32)}`;

  it('writes the payload byte for byte as cosign does', () => {
    const bytes = simpleSigningPayload({
      dockerReference: 'registry.eu/acme/app',
      digest,
    });
    expect(Buffer.from(bytes).toString()).toBe(
      `{"critical":{"identity":{"docker-reference":"registry.eu/acme/app"},"image":{"docker-manifest-digest":"${digest}"},"type":"cosign container image signature"},"optional":null}`,
    );
    const withOpt = simpleSigningPayload({
      dockerReference: 'r/a',
      digest,
      optional: { env: 'prod' },
    });
    expect(JSON.parse(Buffer.from(withOpt).toString()).optional).toEqual({
      env: 'prod',
    });
  });

  it('signs the payload bytes (SHA-256, DER ECDSA, base64)', () => {
    const key = generateKey();
    const payload = simpleSigningPayload({ dockerReference: 'r/a', digest });
    const sig = signSimpleSigning(key, payload);
    expect(
      verifyWithPem(key.publicKeyPem, Buffer.from(payload), sig.signature),
    ).toBe(true);
    // DER ECDSA signatures start with a SEQUENCE tag
    expect(Buffer.from(sig.signature, 'base64')[0]).toBe(0x30);
    const other = generateKey();
    expect(
      verifyWithPem(other.publicKeyPem, Buffer.from(payload), sig.signature),
    ).toBe(false);
    const layer = simpleSigningLayer(sig);
    expect(layer.descriptor.mediaType).toBe(
      'application/vnd.dev.cosign.simplesigning.v1+json',
    );
    expect(layer.descriptor.annotations).toEqual({
      'dev.cosignproject.cosign/signature': sig.signature,
    });
  });

  it('config lists the layer digests as diff_ids, zero times', () => {
    const key = generateKey();
    const l = simpleSigningLayer(
      signSimpleSigning(
        key,
        simpleSigningPayload({ dockerReference: 'r/a', digest }),
      ),
    );
    const cfg = JSON.parse(Buffer.from(cosignConfig([l]).bytes).toString());
    expect(cfg.rootfs).toEqual({
      type: 'layers',
      diff_ids: [l.descriptor.digest],
    });
    expect(cfg.created).toBe('0001-01-01T00:00:00Z');
  });
});

describe('DSSE and in-toto', () => {
  it('PAE matches the DSSE spec example and counts bytes, not characters', () => {
    expect(
      pae(
        'http://example.com/HelloWorld',
        Buffer.from('hello world'),
      ).toString(),
    ).toBe('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
    const body = Buffer.from('région €', 'utf8');
    expect(pae('t/ü', body).equals(referencePae('t/ü', body))).toBe(true);
    expect(pae('t/ü', body).toString()).toContain(
      `DSSEv1 4 t/ü ${body.length} `,
    );
  });

  it.each(ALGS)(
    '%s: envelope signature verifies over PAE, independently',
    alg => {
      const key = generateKey(alg);
      const st = makeStatement({
        subjects: [imageSubject('r/a', `sha256:${'cd'.repeat(32)}`)],
        ...slsaProvenanceV1(),
      });
      const env = signStatement(key, st);
      expect(env.payloadType).toBe('application/vnd.in-toto+json');
      expect(env.signatures[0].keyid).toBe('');
      expect(verifyEnvelope(key.publicKeyPem, env)).toBe(true);
      const decoded = JSON.parse(Buffer.from(env.payload, 'base64').toString());
      expect(decoded._type).toBe('https://in-toto.io/Statement/v1');
      expect(decoded.subject).toEqual([
        { name: 'r/a', digest: { sha256: 'cd'.repeat(32) } },
      ]);
      expect(decoded.predicateType).toBe('https://slsa.dev/provenance/v1');
    },
  );

  it('forgeries: raw-payload signature and swapped payloadType do not verify over PAE', () => {
    const key = generateKey();
    const body = Buffer.from('{"x":1}');
    const raw = signDsse(key, 'application/vnd.in-toto+json', body, {
      forge: { signRawPayload: true },
    });
    expect(verifyEnvelope(key.publicKeyPem, raw)).toBe(false);
    expect(verifyWithPem(key.publicKeyPem, body, raw.signatures[0].sig)).toBe(
      true,
    );
    const swapped = signDsse(key, 'application/vnd.in-toto+json', body, {
      forge: { envelopePayloadType: 'text/plain' },
    });
    expect(swapped.payloadType).toBe('text/plain');
    expect(verifyEnvelope(key.publicKeyPem, swapped)).toBe(false);
  });

  it('forgeries: statements without _type or subjects', () => {
    const st = makeStatement({
      subjects: [imageSubject('r/a', `sha256:${'cd'.repeat(32)}`)],
      ...cycloneDxSbom(),
      forge: { omitType: true, omitSubjects: true },
    });
    expect(st).not.toHaveProperty('_type');
    expect(st).not.toHaveProperty('subject');
    expect(st.predicateType).toBe('https://cyclonedx.org/bom');
  });

  it('predicates carry their published types and required fields', () => {
    const v1 = slsaProvenanceV1({
      builderId: 'https://b',
      resolvedDependencies: [{ uri: 'https://x' }],
    });
    expect(v1.predicate).toMatchObject({
      buildDefinition: {
        buildType: expect.any(String),
        externalParameters: expect.any(Object),
        resolvedDependencies: [{ uri: 'https://x' }],
      },
      runDetails: { builder: { id: 'https://b' } },
    });
    expect(slsaProvenanceV02().predicateType).toBe(
      'https://slsa.dev/provenance/v0.2',
    );
    expect(slsaProvenanceV02().predicate).toMatchObject({
      builder: { id: expect.any(String) },
      materials: expect.any(Array),
    });
    expect(spdxSbom().predicate).toMatchObject({
      spdxVersion: 'SPDX-2.3',
      SPDXID: 'SPDXRef-DOCUMENT',
    });
    expect(spdxSbom().predicateType).toBe('https://spdx.dev/Document');
    const r = residencyPredicate({
      buildRegion: 'eusc-de-east-1',
      storageLocations: [
        { uri: 'oci://registry.eu/acme/app', region: 'eusc-de-east-1' },
      ],
      dataLocations: [{ kind: 'database', region: 'eusc-de-east-1' }],
      boundary: 'eu-sovereign',
    });
    expect(r.predicateType).toBe('https://residency.dev/attestation/v1');
    expect(r.predicate).toMatchObject({
      buildRegion: 'eusc-de-east-1',
      boundary: 'eu-sovereign',
    });
  });
});

describe('Sigstore bundles (verified with @sigstore/verify)', () => {
  const key = generateKey();
  const trusted = { [key.fingerprint]: key.publicKeyPem };

  it('DSSE bundle v0.3 with the key fingerprint as hint verifies offline', async () => {
    const st = makeStatement({
      subjects: [imageSubject('r/a', `sha256:${'ef'.repeat(32)}`)],
      ...spdxSbom(),
    });
    const bundle = await makeStatementBundle(key, st);
    expect(bundle.mediaType).toBe(
      'application/vnd.dev.sigstore.bundle.v0.3+json',
    );
    expect(bundle.verificationMaterial.publicKey?.hint).toBe(key.fingerprint);
    expect(bundle.dsseEnvelope?.payloadType).toBe(
      'application/vnd.in-toto+json',
    );
    expect(() => verifyBundle(bundle, trusted)).not.toThrow();
    // and the envelope inside is a plain DSSE envelope that verifies over PAE
    expect(verifyEnvelope(key.publicKeyPem, bundle.dsseEnvelope!)).toBe(true);
  });

  it('message-signature bundle over a manifest: messageDigest is the image digest', async () => {
    const image = makeImage();
    const bundle = await makeMessageBundle(key, image.manifest.bytes, {
      hint: 'my-hint',
    });
    expect(bundle.verificationMaterial.publicKey?.hint).toBe('my-hint');
    expect(
      `sha256:${Buffer.from(
        bundle.messageSignature!.messageDigest!.digest,
        'base64',
      ).toString('hex')}`,
    ).toBe(image.digest);
    expect(() =>
      verifyBundle(
        bundle,
        { 'my-hint': key.publicKeyPem },
        Buffer.from(image.manifest.bytes),
      ),
    ).not.toThrow();
    expect(() =>
      verifyBundle(
        bundle,
        { 'my-hint': key.publicKeyPem },
        Buffer.from('other'),
      ),
    ).toThrow();
  });

  it('attack: another key signs while naming the trusted key in the hint -> SIGNATURE_ERROR', async () => {
    const attacker = generateKey();
    const st = makeStatement({
      subjects: [imageSubject('r/a', `sha256:${'ef'.repeat(32)}`)],
      ...slsaProvenanceV1(),
    });
    const bundle = await makeStatementBundle(key, st, {
      forge: { signingKey: attacker },
    });
    expect(bundle.verificationMaterial.publicKey?.hint).toBe(key.fingerprint);
    expect(() => verifyBundle(bundle, trusted)).toThrow(
      expect.objectContaining({ code: 'SIGNATURE_ERROR' }),
    );
  });

  it('attack: DSSE bundle signed over the raw payload instead of PAE -> SIGNATURE_ERROR', async () => {
    const st = makeStatement({
      subjects: [imageSubject('r/a', `sha256:${'ef'.repeat(32)}`)],
      ...slsaProvenanceV1(),
    });
    const bundle = await makeStatementBundle(key, st, {
      forge: { signRawPayload: true },
    });
    expect(() => verifyBundle(bundle, trusted)).toThrow(
      expect.objectContaining({ code: 'SIGNATURE_ERROR' }),
    );
  });
});

describe('versions', () => {
  it('in-toto Statement v0.1 on request', () => {
    const st = makeStatement({
      subjects: [imageSubject('r/a', `sha256:${'cd'.repeat(32)}`)],
      ...slsaProvenanceV02(),
      version: 'v0.1',
    });
    expect(st._type).toBe('https://in-toto.io/Statement/v0.1');
  });

  it.each(['0.1', '0.2'] as const)(
    'key-based bundle v%s carries its media type and still verifies',
    async version => {
      const key = generateKey();
      const st = makeStatement({
        subjects: [imageSubject('r/a', `sha256:${'ef'.repeat(32)}`)],
        ...spdxSbom(),
      });
      const bundle = await makeStatementBundle(key, st, { version });
      expect(bundle.mediaType).toBe(
        `application/vnd.dev.sigstore.bundle+json;version=${version}`,
      );
      expect(() =>
        verifyBundle(bundle, { [key.fingerprint]: key.publicKeyPem }),
      ).not.toThrow();
    },
  );
});

describe('makeImage', () => {
  it('is deterministic unless asked otherwise', () => {
    const a = makeImage({ files: { '/a.txt': 'x' }, labels: { l: '1' } });
    const b = makeImage({ files: { '/a.txt': 'x' }, labels: { l: '1' } });
    expect(a.digest).toBe(b.digest);
    expect(makeImage({ files: { '/a.txt': 'y' } }).digest).not.toBe(a.digest);
    const c = makeImage({ files: { '/a.txt': 'x' }, deterministic: false });
    const d = makeImage({ files: { '/a.txt': 'x' }, deterministic: false });
    expect(c.digest).not.toBe(d.digest);
  });

  it('writes a valid OCI manifest, config and a real ustar layer', () => {
    const img = makeImage({
      files: { '/app/x.txt': 'hello' },
      labels: { k: 'v' },
      annotations: { a: 'b' },
    });
    expect(img.digest).toBe(
      `sha256:${createHash('sha256').update(img.manifest.bytes).digest('hex')}`,
    );
    const manifest = JSON.parse(Buffer.from(img.manifest.bytes).toString());
    expect(manifest).toMatchObject({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: img.config.descriptor.digest,
        size: img.config.bytes.length,
      },
      annotations: { a: 'b' },
    });
    const tar = gunzipSync(img.layers[0].bytes);
    const config = JSON.parse(Buffer.from(img.config.bytes).toString());
    expect(config.rootfs.diff_ids).toEqual([
      `sha256:${createHash('sha256').update(tar).digest('hex')}`,
    ]);
    expect(config.config.Labels).toEqual({ k: 'v' });
    // first entry: directory app/, second: app/x.txt with its content
    expect(tar.subarray(0, 4).toString()).toBe('app/');
    const h = tar.subarray(512, 1024);
    expect(h.subarray(0, 9).toString()).toBe('app/x.txt');
    expect(h.subarray(257, 262).toString()).toBe('ustar');
    // header checksum: sum of bytes with the checksum field as spaces
    const copy = Buffer.from(h);
    copy.fill(' ', 148, 156);
    const sum = copy.reduce((s, x) => s + x, 0);
    expect(parseInt(h.subarray(148, 154).toString(), 8)).toBe(sum);
    expect(tar.subarray(1024, 1029).toString()).toBe('hello');
  });
});
