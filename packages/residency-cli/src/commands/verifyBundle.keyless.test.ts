/*
 * Keyless (certificate) bundles against a private Sigstore deployment built here with
 * openssl: a CA, a short-lived leaf with the signer's identity and Fulcio's issuer
 * extension, and a private transparency log. Only trust given by flags decides.
 */
import { execFileSync } from 'node:child_process';
import {
  createPrivateKey,
  createPublicKey,
  X509Certificate,
} from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../cli';
import { memoryIo } from '../io';
import {
  messageSignatureBundle,
  testKey,
  tlogTrustedRoot,
  withTlogEntry,
  type TestKey,
} from '../__testUtils__/sigstore';

const IDENTITY = 'release@eu.example.com';
const ISSUER = 'https://login.eu.example.com';

function openssl(dir: string, ...args: string[]) {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

describe('residency verify-bundle, keyless', () => {
  let dir: string;
  let leaf: TestKey;
  let leafPem: string;
  const tlogKey = testKey();
  const artifact = Buffer.from('keyless artifact\n');

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'residency-keyless-'));
    openssl(
      dir,
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-out',
      'ca.key',
    );
    openssl(
      dir,
      'req',
      '-x509',
      '-new',
      '-key',
      'ca.key',
      '-subj',
      '/O=Residency Test/CN=test-fulcio',
      '-days',
      '3650',
      '-addext',
      'basicConstraints=critical,CA:true',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      'ca.pem',
    );
    openssl(
      dir,
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-out',
      'leaf.key',
    );
    openssl(
      dir,
      'req',
      '-new',
      '-key',
      'leaf.key',
      '-subj',
      '/O=sigstore.dev',
      '-out',
      'leaf.csr',
    );
    writeFileSync(
      join(dir, 'leaf.ext'),
      [
        'basicConstraints=critical,CA:false',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=codeSigning',
        `subjectAltName=email:${IDENTITY}`,
        // Fulcio's issuer extension (v1): the raw issuer URL.
        `1.3.6.1.4.1.57264.1.1=DER:${Buffer.from(ISSUER).toString('hex')}`,
      ].join('\n'),
    );
    openssl(
      dir,
      'x509',
      '-req',
      '-in',
      'leaf.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-set_serial',
      '42',
      '-days',
      '1',
      '-extfile',
      'leaf.ext',
      '-out',
      'leaf.pem',
    );
    const privateKey = createPrivateKey(readFileSync(join(dir, 'leaf.key')));
    leafPem = readFileSync(join(dir, 'leaf.pem'), 'utf8');
    leaf = {
      privateKey,
      publicKey: createPublicKey(privateKey),
      publicPem: leafPem,
    };

    const caDer = new X509Certificate(readFileSync(join(dir, 'ca.pem'))).raw;
    const root = tlogTrustedRoot(tlogKey) as any;
    root.certificateAuthorities = [
      {
        subject: { organization: 'Residency Test', commonName: 'test-fulcio' },
        uri: 'https://fulcio.eu.example.com',
        certChain: { certificates: [{ rawBytes: caDer.toString('base64') }] },
        validFor: { start: '2020-01-01T00:00:00Z' },
      },
    ];
    writeFileSync(join(dir, 'root.json'), JSON.stringify(root));
    writeFileSync(join(dir, 'artifact.bin'), artifact);

    const leafDer = new X509Certificate(leafPem).raw;
    const b: any = withTlogEntry(
      messageSignatureBundle(leaf, artifact),
      leaf,
      tlogKey,
    );
    b.verificationMaterial = {
      x509CertificateChain: {
        certificates: [{ rawBytes: leafDer.toString('base64') }],
      },
      tlogEntries: b.verificationMaterial.tlogEntries,
    };
    writeFileSync(join(dir, 'keyless.json'), JSON.stringify(b));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function cli(...args: string[]) {
    const io = memoryIo({ cwd: dir });
    const code = await run(
      [
        'verify-bundle',
        'keyless.json',
        '--artifact',
        'artifact.bin',
        '--trusted-root',
        'root.json',
        '--json',
        ...args,
      ],
      { io },
    );
    return { code, doc: JSON.parse(io.out || '{}'), err: io.err };
  }

  it('verifies for the exact identity and issuer and prints them (exit 0)', async () => {
    const r = await cli(
      '--certificate-identity',
      IDENTITY,
      '--certificate-oidc-issuer',
      ISSUER,
      '--insecure-ignore-sct',
    );
    expect(r.doc.error).toBeUndefined();
    expect(r.code).toBe(0);
    expect(r.doc.signer).toEqual({
      type: 'certificate',
      identity: IDENTITY,
      issuer: ISSUER,
    });
  });

  it.each([
    [
      'another identity',
      [
        '--certificate-identity',
        'attacker@example.com',
        '--certificate-oidc-issuer',
        ISSUER,
      ],
    ],
    [
      'another issuer',
      [
        '--certificate-identity',
        IDENTITY,
        '--certificate-oidc-issuer',
        'https://accounts.google.com',
      ],
    ],
  ])('%s -> identity_mismatch (exit 1)', async (_name, flags) => {
    const r = await cli(...flags, '--insecure-ignore-sct');
    expect(r.code).toBe(1);
    expect(r.doc.error.code).toBe('identity_mismatch');
  });

  it('a root without CT logs needs no SCT (thresholds follow the root, like gh attestation verify)', async () => {
    const r = await cli(
      '--certificate-identity',
      IDENTITY,
      '--certificate-oidc-issuer',
      ISSUER,
    );
    expect(r.code).toBe(0);
    expect(r.doc.verified).toBe(true);
  });

  it('--certificate-identity-regexp and --certificate-oidc-issuer-regexp match whole strings (cosign parity)', async () => {
    const ok = await cli(
      '--certificate-identity-regexp',
      '.*',
      '--certificate-oidc-issuer-regexp',
      ISSUER.replace(/[.]/g, '\\.'),
    );
    expect(ok.code).toBe(0);
    expect(ok.doc.signer).toMatchObject({ identity: IDENTITY, issuer: ISSUER });
    // a pattern matching only a part of the identity does not match
    const partial = await cli(
      '--certificate-identity-regexp',
      IDENTITY.slice(1, 5).replace(/[^A-Za-z0-9]/g, '.'),
      '--certificate-oidc-issuer',
      ISSUER,
    );
    expect(partial.code).toBe(1);
    expect(partial.doc.error.code).toBe('identity_mismatch');
    const badIssuer = await cli(
      '--certificate-identity',
      IDENTITY,
      '--certificate-oidc-issuer-regexp',
      'https://accounts\\.google\\.com',
    );
    expect(badIssuer.code).toBe(1);
    expect(badIssuer.doc.error.code).toBe('identity_mismatch');
  });

  it('a certificate from a CA the trusted root does not hold -> certificate_invalid', async () => {
    // Without --trusted-root: the public-good root trusts neither this CA nor this log.
    const io = memoryIo({ cwd: dir });
    const code = await run(
      [
        'verify-bundle',
        'keyless.json',
        '--artifact',
        'artifact.bin',
        '--certificate-identity',
        IDENTITY,
        '--certificate-oidc-issuer',
        ISSUER,
        '--insecure-ignore-sct',
        '--json',
      ],
      { io },
    );
    expect(code).toBe(1);
    expect(JSON.parse(io.out).error.code).toBe('certificate_invalid');
  });
});
