import { generateKey } from '../keys';
import {
  createKeylessTrust,
  issueSigningCertificate,
  KeylessTrust,
  makeKeylessDsseBundle,
  makeKeylessMessageBundle,
} from '../keyless';
import { imageSubject, makeStatement } from '../cosign';
import { slsaProvenanceV1 } from '../predicates';
import { jsonBytes } from '../oci';
import { verifyKeylessBundle } from '../__testUtils__/verify';
import { publishSignedImage } from '../publish';
import { LayoutTarget } from '../targets';
import canonicalize from 'canonicalize';
import {
  createPublicKey,
  verify as cryptoVerify,
  X509Certificate,
} from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('keyless bundles (private CA and log, verified with @sigstore/verify)', () => {
  let trust: KeylessTrust;
  beforeAll(async () => {
    trust = await createKeylessTrust();
  });
  const statement = () =>
    jsonBytes(
      makeStatement({
        subjects: [imageSubject('r/a', `sha256:${'ab'.repeat(32)}`)],
        ...slsaProvenanceV1(),
      }),
    );

  it('DSSE bundle: certificate chains to the CA, tlog entry verifies, identity and issuer are read', async () => {
    const cert = await issueSigningCertificate(trust, {
      identity:
        'https://ci.eu.example.com/acme/app/.ci/build.yml@refs/heads/main',
      issuer: 'https://token.ci.eu.example.com',
    });
    const bundle = await makeKeylessDsseBundle(trust, cert, statement());
    expect(bundle.mediaType).toBe(
      'application/vnd.dev.sigstore.bundle.v0.3+json',
    );
    expect(bundle.verificationMaterial.certificate?.rawBytes).toBe(
      cert.certificateDer.toString('base64'),
    );
    const signer = verifyKeylessBundle(bundle, trust.trustedRoot, {
      subjectAlternativeName:
        'https://ci.eu.example.com/acme/app/.ci/build.yml@refs/heads/main',
      extensions: { issuer: 'https://token.ci.eu.example.com' },
    });
    expect(signer.identity?.extensions?.issuer).toBe(
      'https://token.ci.eu.example.com',
    );
  });

  it('message bundle with an e-mail identity verifies against the artifact', async () => {
    const cert = await issueSigningCertificate(trust, {
      identity: 'release@acme.eu',
      issuer: 'https://accounts.eu.example.com',
    });
    const artifact = Buffer.from('manifest bytes');
    const bundle = await makeKeylessMessageBundle(trust, cert, artifact);
    const signer = verifyKeylessBundle(
      bundle,
      trust.trustedRoot,
      { subjectAlternativeName: 'release@acme.eu' },
      artifact,
    );
    expect(signer.identity?.subjectAlternativeName).toBe('release@acme.eu');
    expect(() =>
      verifyKeylessBundle(
        bundle,
        trust.trustedRoot,
        undefined,
        Buffer.from('other'),
      ),
    ).toThrow();
  });

  it('attack: identity other than the one required -> UNTRUSTED_SIGNER_ERROR', async () => {
    const cert = await issueSigningCertificate(trust, {
      identity: 'mallory@evil.example',
      issuer: 'https://accounts.eu.example.com',
    });
    const bundle = await makeKeylessDsseBundle(trust, cert, statement());
    expect(() =>
      verifyKeylessBundle(bundle, trust.trustedRoot, {
        subjectAlternativeName: 'release@acme.eu',
      }),
    ).toThrow(expect.objectContaining({ code: 'UNTRUSTED_SIGNER_ERROR' }));
  });

  it('attack: log entry signed by an untrusted log -> TLOG_INCLUSION_PROMISE_ERROR', async () => {
    const rogue = await createKeylessTrust();
    const cert = await issueSigningCertificate(trust, {
      identity: 'release@acme.eu',
      issuer: 'https://accounts.eu.example.com',
    });
    // same log id (so the trusted log is selected), but SET and checkpoint signed by another key
    const bundle = await makeKeylessDsseBundle(
      { ...trust, log: { ...trust.log, key: rogue.log.key } },
      cert,
      statement(),
    );
    expect(() => verifyKeylessBundle(bundle, trust.trustedRoot)).toThrow(
      expect.objectContaining({ code: 'TLOG_INCLUSION_PROMISE_ERROR' }),
    );
  });

  it('attack: a certificate from another CA -> CERTIFICATE_ERROR', async () => {
    const rogue = await createKeylessTrust({ commonName: 'Rogue CA' });
    const cert = await issueSigningCertificate(rogue, {
      identity: 'release@acme.eu',
      issuer: 'https://accounts.eu.example.com',
    });
    // log entry from the trusted log, certificate from the rogue CA
    const bundle = await makeKeylessDsseBundle(
      { ...rogue, log: trust.log },
      cert,
      statement(),
    );
    expect(() => verifyKeylessBundle(bundle, trust.trustedRoot)).toThrow(
      expect.objectContaining({ code: 'CERTIFICATE_ERROR' }),
    );
  });

  it('attack: signed outside the certificate validity window -> CERTIFICATE_ERROR', async () => {
    const cert = await issueSigningCertificate(trust, {
      identity: 'release@acme.eu',
      issuer: 'https://accounts.eu.example.com',
      notBefore: new Date(Date.now() - 3600 * 1000),
      validityMinutes: 10,
      key: generateKey(),
    });
    const bundle = await makeKeylessDsseBundle(trust, cert, statement());
    expect(() => verifyKeylessBundle(bundle, trust.trustedRoot)).toThrow(
      expect.objectContaining({ code: 'CERTIFICATE_ERROR' }),
    );
  });

  it('publishes keyless .sig (certificate, chain, Rekor bundle) and keyless referrer bundles', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'signing-kit-keyless-'));
    try {
      const cert = await issueSigningCertificate(trust, {
        identity: 'release@acme.eu',
        issuer: 'https://accounts.eu.example.com',
      });
      const keyless = { trust, certificate: cert };
      const pub = await publishSignedImage({
        target: { layout: dir },
        repository: 'registry.eu.example.com/acme/app',
        tag: 'v1',
        signatures: [{ keyless }],
        bundles: [
          { kind: 'dsse', keyless },
          { kind: 'message', keyless },
        ],
      });
      const layout = new LayoutTarget(dir);
      const sigManifest = JSON.parse(
        Buffer.from(
          (await layout.getManifest(pub.signatureTag!))!.bytes,
        ).toString(),
      );
      const layer = sigManifest.layers[0];
      const payload = Buffer.from((await layout.getBlob(layer.digest))!);
      const a = layer.annotations;
      // certificate chains to the CA and its key made the signature
      const leaf = new X509Certificate(a['dev.sigstore.cosign/certificate']);
      const ca = new X509Certificate(a['dev.sigstore.cosign/chain']);
      expect(leaf.verify(ca.publicKey)).toBe(true);
      expect(leaf.subjectAltName).toContain('release@acme.eu');
      expect(
        cryptoVerify(
          'sha256',
          payload,
          leaf.publicKey,
          Buffer.from(a['dev.cosignproject.cosign/signature'], 'base64'),
        ),
      ).toBe(true);
      // Rekor bundle: SET by the log key over the canonical payload, body names the payload hash
      const rb = JSON.parse(a['dev.sigstore.cosign/bundle']);
      const logKey = createPublicKey({
        key: Buffer.from(
          (trust.trustedRoot as any).tlogs[0].publicKey.rawBytes,
          'base64',
        ),
        format: 'der',
        type: 'spki',
      });
      expect(
        cryptoVerify(
          'sha256',
          Buffer.from(canonicalize(rb.Payload)!),
          logKey,
          Buffer.from(rb.SignedEntryTimestamp, 'base64'),
        ),
      ).toBe(true);
      const body = JSON.parse(
        Buffer.from(rb.Payload.body, 'base64').toString(),
      );
      expect(body.spec.data.hash.value).toBe(
        require('node:crypto')
          .createHash('sha256')
          .update(payload)
          .digest('hex'),
      );
      // referrer bundles verify with the identity policy
      expect(pub.bundles).toHaveLength(2);
      expect(() =>
        verifyKeylessBundle(pub.bundles[0], trust.trustedRoot, {
          subjectAlternativeName: 'release@acme.eu',
        }),
      ).not.toThrow();
      expect(() =>
        verifyKeylessBundle(
          pub.bundles[1],
          trust.trustedRoot,
          { subjectAlternativeName: 'release@acme.eu' },
          Buffer.from(pub.image.manifest.bytes),
        ),
      ).not.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
