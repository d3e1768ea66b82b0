/*
 * Keyless (certificate) bundles against a private trusted root: a CA and a
 * transparency log of our own, made with openssl and node:crypto. Trust comes from
 * the configured root and the tenant's configured identity (which also gives the
 * region), never from the certificate the bundle carries.
 */
import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  sign,
  X509Certificate,
} from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import canonicalize from 'canonicalize';
import {
  EU_REGION,
  FakeSource,
  engineFor,
  newImage,
  settingsWith,
  type Fixture,
} from '../__testUtils__/world';

const SUBJECT =
  'https://github.com/acme/api/.github/workflows/release.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';

const dir = mkdtempSync(join(tmpdir(), 'residency-keyless-'));
const rekor = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rekorDer = rekor.publicKey.export({ type: 'spki', format: 'der' });
const logId = createHash('sha256').update(rekorDer).digest();

function openssl(...args: string[]) {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function makePki(subject: string) {
  openssl(
    'ecparam',
    '-name',
    'prime256v1',
    '-genkey',
    '-noout',
    '-out',
    'ca.key',
  );
  openssl(
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    '-subj',
    '/O=EU Sovereign CI/CN=eu-ca',
    '-days',
    '30',
    '-out',
    'ca.pem',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
  );
  openssl(
    'ecparam',
    '-name',
    'prime256v1',
    '-genkey',
    '-noout',
    '-out',
    'leaf.key',
  );
  openssl(
    'req',
    '-new',
    '-key',
    'leaf.key',
    '-subj',
    '/O=EU Sovereign CI',
    '-out',
    'leaf.csr',
  );
  writeFileSync(
    join(dir, 'leaf.ext'),
    [
      `subjectAltName=critical,URI:${subject}`,
      `1.3.6.1.4.1.57264.1.8=ASN1:UTF8String:${ISSUER}`,
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=codeSigning',
    ].join('\n'),
  );
  openssl(
    'x509',
    '-req',
    '-in',
    'leaf.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    'leaf.ext',
    '-out',
    'leaf.pem',
  );
  const ca = new X509Certificate(readFileSync(join(dir, 'ca.pem')));
  const leaf = new X509Certificate(readFileSync(join(dir, 'leaf.pem')));
  const leafKey = createPrivateKey(readFileSync(join(dir, 'leaf.key')));
  const rootFile = join(dir, 'trusted_root.json');
  writeFileSync(
    rootFile,
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [
        {
          baseUrl: 'https://rekor.eu.example.com',
          hashAlgorithm: 'SHA2_256',
          publicKey: {
            rawBytes: rekorDer.toString('base64'),
            keyDetails: 'PKIX_ECDSA_P256_SHA_256',
            validFor: { start: '2020-01-01T00:00:00Z' },
          },
          logId: { keyId: logId.toString('base64') },
        },
      ],
      certificateAuthorities: [
        {
          subject: { organization: 'EU Sovereign CI', commonName: 'eu-ca' },
          uri: 'https://ca.eu.example.com',
          certChain: {
            certificates: [{ rawBytes: ca.raw.toString('base64') }],
          },
          validFor: { start: '2020-01-01T00:00:00Z' },
        },
      ],
      ctlogs: [],
      timestampAuthorities: [],
    }),
  );
  return { leaf, leafKey, rootFile };
}

const pki = makePki(SUBJECT);

function keylessBundle(f: Fixture) {
  const manifest = Buffer.from(f.image.manifest.bytes);
  const sig = sign('sha256', manifest, pki.leafKey);
  const digest = createHash('sha256').update(manifest).digest();
  const body = Buffer.from(
    JSON.stringify({
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        signature: {
          content: sig.toString('base64'),
          publicKey: {
            content: Buffer.from(pki.leaf.toString()).toString('base64'),
          },
        },
        data: { hash: { algorithm: 'sha256', value: digest.toString('hex') } },
      },
    }),
  );
  // integrated while the short-lived certificate is valid
  const time = Math.floor(new Date(pki.leaf.validFrom).getTime() / 1000) + 60;
  const payload = {
    body: body.toString('base64'),
    integratedTime: time,
    logIndex: 1,
    logID: logId.toString('hex'),
  };
  const set = sign(
    'sha256',
    Buffer.from((canonicalize as unknown as (v: unknown) => string)(payload)),
    rekor.privateKey,
  );
  f.material.bundles.push({
    source: 'referrers',
    bundle: JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
      verificationMaterial: {
        x509CertificateChain: {
          certificates: [{ rawBytes: pki.leaf.raw.toString('base64') }],
        },
        tlogEntries: [
          {
            logIndex: '1',
            logId: { keyId: logId.toString('base64') },
            kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
            integratedTime: String(time),
            inclusionPromise: { signedEntryTimestamp: set.toString('base64') },
            canonicalizedBody: body.toString('base64'),
          },
        ],
        timestampVerificationData: { rfc3161Timestamps: [] },
      },
      messageSignature: {
        messageDigest: {
          algorithm: 'SHA2_256',
          digest: digest.toString('base64'),
        },
        signature: sig.toString('base64'),
      },
    }),
  });
}

async function run(f: Fixture, identities: unknown[], withRoot = true) {
  const settings = settingsWith(
    withRoot
      ? { trustedRoots: [{ name: 'eu-private', path: pki.rootFile }] }
      : {},
    withRoot ? { identities } : {},
  );
  // verified now: the certificate and its log entry are made now (a fixed past
  // verification time would put the signed time in the future, which is refused)
  const { result } = await engineFor(
    settings,
    new FakeSource().add(f),
    new Date(),
  ).evaluateEntity({
    entityRef: 'c:d/x',
    images: [f.reference],
    tenant: 'acme-eu',
  });
  return result;
}

describe('keyless bundles against a configured private root', () => {
  it('the configured identity verifies and gives the region', async () => {
    const f = newImage();
    keylessBundle(f);
    const result = await run(f, [
      { subject: SUBJECT, issuer: ISSUER, region: EU_REGION },
    ]);
    expect(result.images[0].reasons).toEqual([]);
    expect(result.decision).toBe('compliant');
    expect(result.images[0].signatures[0]).toMatchObject({
      verified: true,
      identity: { subject: SUBJECT, issuer: ISSUER },
    });
  });

  it('subjectRegExp is anchored: a prefix match is not enough', async () => {
    const f = newImage();
    keylessBundle(f);
    const ok = await run(f, [
      {
        subjectRegExp: 'https://github\\.com/acme/.*',
        issuer: ISSUER,
        region: EU_REGION,
      },
    ]);
    expect(ok.decision).toBe('compliant');
    const partial = await run(f, [
      {
        subjectRegExp: 'https://github\\.com/acme/api',
        issuer: ISSUER,
        region: EU_REGION,
      },
    ]);
    expect(partial.images[0].reasons.map(r => r.code)).toEqual([
      'key_untrusted',
    ]);
  });

  it('another identity or issuer is key_untrusted', async () => {
    const f = newImage();
    keylessBundle(f);
    const r1 = await run(f, [
      {
        subject: 'https://github.com/evil/x',
        issuer: ISSUER,
        region: EU_REGION,
      },
    ]);
    expect(r1.images[0].reasons.map(r => r.code)).toEqual(['key_untrusted']);
    const r2 = await run(f, [
      {
        subject: SUBJECT,
        issuer: 'https://accounts.google.com',
        region: EU_REGION,
      },
    ]);
    expect(r2.images[0].reasons.map(r => r.code)).toEqual(['key_untrusted']);
  });

  it('an identity bound to a region outside the boundary is key_outside_boundary', async () => {
    const f = newImage();
    keylessBundle(f);
    const result = await run(f, [
      { subject: SUBJECT, issuer: ISSUER, region: 'us-east-1' },
    ]);
    expect(result.images[0].reasons.map(r => r.code)).toEqual([
      'key_outside_boundary',
    ]);
  });

  it('case 8: without a configured root the certificate in the bundle is never trusted', async () => {
    const f = newImage();
    keylessBundle(f);
    const result = await run(f, [], false);
    expect(result.images[0].reasons.map(r => r.code)).toEqual([
      'key_untrusted',
    ]);
  });
});
