/*
 * `verify-evidence --trusted-keys / --trusted-root` with the real engine: an auditor
 * brings their own trust without the platform's app-config. Bundles are made by
 * `residency verify --evidence` from images in an OCI layout on disk: an honest one
 * (EU key, EU boundary) and forged, self-consistent ones (a forger's configuration
 * relabels a US key as EU, or widens the boundary; every hash is the engine's own).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createKeylessTrust,
  generateKey,
  issueSigningCertificate,
  publishSignedImage,
  type KeylessTrust,
  type SigningKey,
} from '@residency-dev/signing-kit';
import { run } from '../cli';
import { memoryIo } from '../io';

const EU = 'eu-central-1';
const US = 'us-east-1';
const ISSUER = 'https://issuer.residency.test';
const IDENTITY = 'release@eu.example.com';

describe('verify-evidence with the auditor trust of --trusted-keys / --trusted-root (issue 12 item 1, real bundles)', () => {
  let dir: string;
  let layout: string;
  let eu: SigningKey;
  let us: SigningKey;
  let realCa: KeylessTrust;
  let forgerCa: KeylessTrust;

  async function cli(...args: string[]) {
    const io = memoryIo({ cwd: dir });
    const code = await run(args, { io });
    return { code, out: io.out, err: io.err };
  }

  /** `verify-evidence <bundle> <trust…> --require-compliant --json`: exit code and the parsed report. */
  async function gate(bundle: string, ...trust: string[]) {
    const r = await cli(
      'verify-evidence',
      bundle,
      ...trust,
      '--require-compliant',
      '--json',
    );
    return { code: r.code, report: JSON.parse(r.out) };
  }

  function write(name: string, text: string) {
    writeFileSync(join(dir, name), text);
  }

  /** An app-config with one tenant `acme` (signature required) in `boundary`. */
  function appConfig(
    name: string,
    o: {
      regions?: string[];
      keys?: string[];
      trustedRoot?: string;
      identities?: boolean;
    },
  ) {
    const keys = (o.keys ?? []).map(k => `\n    - ${k}`).join('');
    write(
      name,
      `residency:
  boundaries:
    eu-sovereign: [${(o.regions ?? [EU]).join(', ')}]
  layouts:
    - { path: ${JSON.stringify(layout)}, region: ${EU} }
  keys:${keys || ' []'}
${
  o.trustedRoot
    ? `  trustedRoots:\n    - { name: ca, path: ${o.trustedRoot} }\n`
    : ''
}  tenants:
    acme:
      boundary: eu-sovereign
      require: [signature]
${
  o.identities
    ? `      identities:\n        - { issuer: ${JSON.stringify(
        ISSUER,
      )}, subject: ${JSON.stringify(IDENTITY)}, region: ${EU} }\n`
    : ''
}`,
    );
  }

  /** `residency verify` writing the evidence bundle; the decision must be compliant. */
  async function evidence(config: string, ref: string, out: string) {
    const r = await cli(
      'verify',
      ref,
      '-t',
      'acme',
      '-c',
      config,
      '--evidence',
      out,
    );
    expect({ code: r.code, out: r.out }).toEqual({
      code: 0,
      out: expect.stringContaining('RESIDENT'),
    });
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'residency-ve-trust-'));
    layout = join(dir, 'layout');
    eu = generateKey('ecdsa-p256');
    us = generateKey('ecdsa-p256');
    write('eu.pub', eu.publicKeyPem);
    write('us.pub', us.publicKeyPem);
    realCa = await createKeylessTrust();
    forgerCa = await createKeylessTrust({ commonName: 'Forger CA' });
    write('root.json', JSON.stringify(realCa.trustedRoot));
    write('forger-root.json', JSON.stringify(forgerCa.trustedRoot));

    const honest = await publishSignedImage({
      target: { layout },
      repository: 'shop/api',
      tag: 'eu',
      key: eu,
    });
    const usSigned = await publishSignedImage({
      target: { layout },
      repository: 'shop/api',
      tag: 'us',
      key: us,
    });
    const keyless = async (trust: KeylessTrust, tag: string) =>
      publishSignedImage({
        target: { layout },
        repository: 'shop/api',
        tag,
        signatures: [
          {
            keyless: {
              trust,
              certificate: await issueSigningCertificate(trust, {
                identity: IDENTITY,
                issuer: ISSUER,
              }),
            },
          },
        ],
      });
    const honestKeyless = await keyless(realCa, 'keyless');
    const forgedKeyless = await keyless(forgerCa, 'forged-keyless');

    // The platform's true configuration: EU key in the EU, US key in the US.
    const trueKeys = [
      `{ id: eu-key, region: ${EU}, publicKeyFile: eu.pub }`,
      `{ id: us-key, region: ${US}, publicKeyFile: us.pub }`,
    ];
    appConfig('platform.yaml', { keys: trueKeys });
    await evidence('platform.yaml', honest.digestReference, 'honest.json');
    // Forger 1: the US key relabelled as the EU key.
    appConfig('forger-relabel.yaml', {
      keys: [`{ id: eu-key, region: ${EU}, publicKeyFile: us.pub }`],
    });
    await evidence(
      'forger-relabel.yaml',
      usSigned.digestReference,
      'forged-relabel.json',
    );
    // Forger 2: honest keys, the boundary widened to the US.
    appConfig('forger-boundary.yaml', { keys: trueKeys, regions: [EU, US] });
    await evidence(
      'forger-boundary.yaml',
      usSigned.digestReference,
      'forged-boundary.json',
    );
    // Keyless: the platform's CA, and a forger's own CA and root.
    appConfig('platform-keyless.yaml', {
      trustedRoot: 'root.json',
      identities: true,
    });
    await evidence(
      'platform-keyless.yaml',
      honestKeyless.digestReference,
      'honest-keyless.json',
    );
    appConfig('forger-keyless.yaml', {
      trustedRoot: 'forger-root.json',
      identities: true,
    });
    await evidence(
      'forger-keyless.yaml',
      forgedKeyless.digestReference,
      'forged-keyless.json',
    );

    // The auditor's trust, from the platform team: keys, boundary, identity.
    write(
      'trusted-keys.yaml',
      `keys:
  - { id: eu-key, path: eu.pub, region: ${EU} }
  - { id: us-key, pem: ${JSON.stringify(us.publicKeyPem)}, region: ${US} }
boundaries:
  eu-sovereign: [${EU}]
`,
    );
    write(
      'trusted-identities.json',
      JSON.stringify({
        boundaries: { 'eu-sovereign': [EU] },
        identities: [{ issuer: ISSUER, subject: IDENTITY, region: EU }],
      }),
    );
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the forged bundles are self-consistent: without trust they verify (but never as RESIDENT)', async () => {
    for (const f of ['forged-relabel.json', 'forged-boundary.json']) {
      const r = await cli('verify-evidence', f, '--require-compliant');
      expect(r.code).toBe(2);
      expect(r.out).toContain('RESULT: the bundle verifies.');
      expect(r.out).not.toContain('RESIDENT');
    }
  });

  it('an honest bundle passes --require-compliant against --trusted-keys', async () => {
    const r = await gate('honest.json', '--trusted-keys', 'trusted-keys.yaml');
    expect(r.code).toBe(0);
    expect(r.report).toMatchObject({
      ok: true,
      recordedDecision: 'compliant',
      verified: 'against_trusted_keys',
      problems: [],
    });
    const human = await cli(
      'verify-evidence',
      'honest.json',
      '--trusted-keys',
      'trusted-keys.yaml',
    );
    expect(human.out).toContain('RESIDENT');
    expect(human.out).toContain('compared with your trusted keys');
  });

  it('a US key relabelled as EU fails against --trusted-keys (key_changed)', async () => {
    const r = await gate(
      'forged-relabel.json',
      '--trusted-keys',
      'trusted-keys.yaml',
    );
    expect(r.code).toBe(1);
    expect(r.report.problems).toContainEqual(
      expect.objectContaining({
        path: '$.evidence.record.trust.keys[0].fingerprint',
        code: 'key_changed',
      }),
    );
  });

  it('a boundary widened to the US fails against --trusted-keys (boundary_changed)', async () => {
    const r = await gate(
      'forged-boundary.json',
      '--trusted-keys',
      'trusted-keys.yaml',
    );
    expect(r.code).toBe(1);
    expect(r.report.problems).toContainEqual(
      expect.objectContaining({
        path: '$.evidence.record.policy.boundary.regions',
        code: 'boundary_changed',
      }),
    );
    // The platform's own configuration catches it the same way.
    const c = await cli(
      'verify-evidence',
      'forged-boundary.json',
      '-c',
      'platform.yaml',
      '--require-compliant',
    );
    expect(c.code).toBe(1);
    expect(c.out).toContain('boundary_changed');
  });

  it('keyless: the honest bundle passes with --trusted-root and the identity; a forger CA does not', async () => {
    const honest = await cli(
      'verify-evidence',
      'honest-keyless.json',
      '--trusted-root',
      'root.json',
      '--trusted-keys',
      'trusted-identities.json',
      '--require-compliant',
    );
    expect({ code: honest.code, out: honest.out }).toEqual({
      code: 0,
      out: expect.stringContaining('RESIDENT'),
    });
    const forged = await gate(
      'forged-keyless.json',
      '--trusted-root',
      'root.json',
      '--trusted-keys',
      'trusted-identities.json',
    );
    expect(forged.code).not.toBe(0);
    expect(forged.report.problems).toContainEqual(
      expect.objectContaining({ code: 'trusted_root_unavailable' }),
    );
    // Without the identity list, a root alone does not say where anything is.
    const rootOnly = await gate(
      'honest-keyless.json',
      '--trusted-root',
      'root.json',
    );
    expect(rootOnly.code).toBe(1);
    expect(rootOnly.report.problems).toContainEqual(
      expect.objectContaining({ code: 'boundary_changed' }),
    );
  });

  it('bad auditor trust is a usage error (exit 3) naming the entry; --config with --trusted-keys is refused', async () => {
    write('typo.yaml', 'keys:\n  - { id: eu-key, pem: x, regoin: eu }\n');
    const typo = await cli(
      'verify-evidence',
      'honest.json',
      '--trusted-keys',
      'typo.yaml',
    );
    expect(typo.code).toBe(3);
    expect(typo.err).toContain('keys[0].regoin');
    const both = await cli(
      'verify-evidence',
      'honest.json',
      '--trusted-keys',
      'trusted-keys.yaml',
      '-c',
      'platform.yaml',
    );
    expect(both.code).toBe(3);
    const missing = await cli(
      'verify-evidence',
      'honest.json',
      '--trusted-root',
      'nope.json',
    );
    expect(missing.code).toBe(3);
  });
});
