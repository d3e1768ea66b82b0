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
});
