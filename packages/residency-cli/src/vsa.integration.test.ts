/*
 * VSAs end to end on the real engine and a real docker-registry: `residency verify
 * --vsa` signs them, they are attached as a cosign `.att` entry (appended, as cosign
 * does) and as an OCI referrer (tag-schema fallback index, as Distribution 2.8 needs),
 * and `residency verify-vsa` gates on them. The envelope is also checked with
 * node:crypto over a DSSE PAE written here.
 */
import { generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MEDIA_DSSE_ENVELOPE,
  MEDIA_SIGSTORE_BUNDLE_V03,
  appendCosignLayers,
  attachReferrer,
  blobOf,
  cosignTag,
  generateKey,
  openTarget,
  publishSignedImage,
  slsaProvenanceV1,
  startTestRegistry,
  type PublishedImage,
  type TestRegistry,
} from '@residency-dev/signing-kit';
import { run } from './cli';
import { memoryIo } from './io';

const EU_KEY_ID =
  'awskms:///arn:aws-eusc:kms:eusc-de-east-1:111122223333:key/0c7a1b2c-eu';
const VSA = 'https://slsa.dev/verification_summary/v1';

jest.setTimeout(60_000);

function pae(type: string, body: Buffer): Buffer {
  const t = Buffer.from(type);
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${t.length} `),
    t,
    Buffer.from(` ${body.length} `),
    body,
  ]);
}

describe('VSAs through the CLI and a real registry', () => {
  let dir: string;
  let registry: TestRegistry;
  let good: PublishedImage;
  const portal = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const portalPub = portal.publicKey
    .export({ type: 'spki', format: 'pem' })
    .toString();

  async function cli(...args: string[]) {
    const io = memoryIo({ cwd: dir, env: {} });
    const code = await run(args, { io });
    return { code, out: io.out, err: io.err };
  }

  function config(extra: { require?: string; revoked?: boolean } = {}) {
    return `residency:
  boundaries:
    eu-sovereign: [eusc-de-east-1]
  registries:
    - host: ${registry.host}
      region: eusc-de-east-1
      insecure: true
  keys:
    - id: ${EU_KEY_ID}
      publicKeyFile: eu.pub
    # the portal's VSA key is a pinned key too, so its VSAs attached to images verify
    - id: residency-portal-vsa
      region: eusc-de-east-1
      publicKeyFile: portal.pub
      revoked: ${extra.revoked ?? false}
  tenants:
    acme-eu:
      boundary: eu-sovereign
      require: [${extra.require ?? 'signature, provenance'}]
  vsa:
    verifierId: https://portal.example.com
    signingKey:
      file: portal.pem
      region: eusc-de-east-1
`;
  }

  /** Attaches a VSA as cosign does (append to .att) and as a referrer bundle. */
  async function attach(envelope: string, bundle: string) {
    const target = openTarget({ registry: registry.host }, 'acme/good');
    await appendCosignLayers(target, cosignTag(good.digest, '.att'), [
      blobOf(Buffer.from(envelope), MEDIA_DSSE_ENVELOPE, {
        annotations: {
          'dev.cosignproject.cosign/signature': '',
          predicateType: VSA,
        },
      }),
    ]);
    await attachReferrer(
      target,
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: good.digest,
        size: good.image.manifest.bytes.length,
      },
      { bytes: Buffer.from(bundle), mediaType: MEDIA_SIGSTORE_BUNDLE_V03 },
    );
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'residency-vsa-'));
    registry = await startTestRegistry();
    const eu = generateKey();
    writeFileSync(join(dir, 'eu.pub'), eu.publicKeyPem);
    writeFileSync(join(dir, 'portal.pub'), portalPub);
    writeFileSync(
      join(dir, 'portal.pem'),
      portal.privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    writeFileSync(
      join(dir, 'other.pub'),
      generateKeyPairSync('ec', { namedCurve: 'P-256' })
        .publicKey.export({ type: 'spki', format: 'pem' })
        .toString(),
    );
    writeFileSync(join(dir, 'app-config.yaml'), config());
    writeFileSync(
      join(dir, 'strict.yaml'),
      config({ require: 'signature, provenance, sbom' }),
    );
    writeFileSync(join(dir, 'revoked.yaml'), config({ revoked: true }));
    const p = slsaProvenanceV1();
    good = await publishSignedImage({
      target: { registry: registry.host },
      repository: 'acme/good',
      tag: 'v1',
      key: eu,
      attestations: [
        { predicateType: p.predicateType, predicate: p.predicate },
      ],
    });
  });
  afterAll(async () => {
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('issues a PASSED VSA that verify-vsa passes, and FAILED / expired / other key / revoked fail', async () => {
    const verified = await cli(
      'verify',
      good.reference,
      '-c',
      'app-config.yaml',
      '-t',
      'acme-eu',
      '--vsa',
      'vsa.jsonl',
      '--vsa-bundle',
      'vsa.bundle.jsonl',
    );
    expect(verified.err).toContain('1 VSA(s) written');
    expect(verified.code).toBe(0);
    const envelope = readFileSync(join(dir, 'vsa.jsonl'), 'utf8').trim();
    const bundle = readFileSync(join(dir, 'vsa.bundle.jsonl'), 'utf8').trim();
    // independent check: node:crypto over a PAE built here
    const env = JSON.parse(envelope);
    const body = Buffer.from(env.payload, 'base64');
    expect(
      verify(
        'sha256',
        pae(env.payloadType, body),
        portalPub,
        Buffer.from(env.signatures[0].sig, 'base64'),
      ),
    ).toBe(true);
    const statement = JSON.parse(body.toString());
    expect(statement.subject[0].digest.sha256).toBe(good.digest.slice(7));
    expect(statement.predicate.verificationResult).toBe('PASSED');

    // nothing attached yet: the gate fails
    const none = await cli(
      'verify-vsa',
      good.reference,
      '--key',
      'portal.pub',
      '--plain-http',
    );
    expect(none.err).toBe('');
    expect(
      (
        await cli(
          'verify-vsa',
          good.reference,
          '--key',
          'portal.pub',
          '--plain-http',
        )
      ).code,
    ).toBe(1);

    await attach(envelope, bundle);
    const pass = await cli(
      'verify-vsa',
      good.reference,
      '--key',
      'portal.pub',
      '--plain-http',
      '--boundary',
      'eu-sovereign',
      '--json',
    );
    expect(pass.code).toBe(0);
    const report = JSON.parse(pass.out);
    expect(report).toMatchObject({ ok: true, code: 'vsa_passed' });
    // both the .att envelope and the referrer bundle verified
    expect(
      report.candidates
        .filter((c: any) => c.predicateType === VSA && c.verified)
        .map((c: any) => c.format)
        .sort(),
    ).toEqual(['dsse', 'sigstore-bundle']);

    // the image itself still verifies with the VSA attached; the provenance layer survived
    expect(
      (
        await cli(
          'verify',
          good.reference,
          '-c',
          'app-config.yaml',
          '-t',
          'acme-eu',
        )
      ).code,
    ).toBe(0);

    // expired, other key, wrong boundary, revoked key (via config)
    expect(
      (
        await cli(
          'verify-vsa',
          good.reference,
          '--key',
          'portal.pub',
          '--plain-http',
          '--max-age',
          '1ms',
        )
      ).out,
    ).toContain('older than the maximum age');
    expect(
      (
        await cli(
          'verify-vsa',
          good.reference,
          '--key',
          'portal.pub',
          '--plain-http',
          '--max-age',
          '1ms',
        )
      ).code,
    ).toBe(1);
    expect(
      (
        await cli(
          'verify-vsa',
          good.reference,
          '--key',
          'other.pub',
          '--plain-http',
        )
      ).code,
    ).toBe(1);
    expect(
      (
        await cli(
          'verify-vsa',
          good.reference,
          '--key',
          'portal.pub',
          '--plain-http',
          '--boundary',
          'us',
        )
      ).code,
    ).toBe(1);
    const revoked = await cli(
      'verify-vsa',
      good.reference,
      '--key',
      'portal.pub',
      '-c',
      'revoked.yaml',
      '--json',
    );
    expect(revoked.code).toBe(1);
    expect(JSON.parse(revoked.out).code).toBe('key_revoked');

    // the image turns non-compliant (policy now requires an SBOM): FAILED supersedes PASSED
    const strict = await cli(
      'verify',
      good.reference,
      '-c',
      'strict.yaml',
      '-t',
      'acme-eu',
      '--vsa',
      'failed.jsonl',
      '--vsa-bundle',
      'failed.bundle.jsonl',
    );
    expect(strict.code).toBe(1);
    await attach(
      readFileSync(join(dir, 'failed.jsonl'), 'utf8').trim(),
      readFileSync(join(dir, 'failed.bundle.jsonl'), 'utf8').trim(),
    );
    const gate = await cli(
      'verify-vsa',
      good.reference,
      '--key',
      'portal.pub',
      '--plain-http',
      '--json',
    );
    expect(gate.code).toBe(1);
    expect(JSON.parse(gate.out)).toMatchObject({
      code: 'vsa_failed',
      vsa: { verificationResult: 'FAILED', verifiedLevels: ['FAILED'] },
    });
  });

  it("gates an OCI image layout too (VSA in the layout's .att)", async () => {
    const layout = join(dir, 'layout');
    const eu = generateKey();
    writeFileSync(join(dir, 'eu-layout.pub'), eu.publicKeyPem);
    const p = slsaProvenanceV1();
    const img = await publishSignedImage({
      target: { layout },
      repository: 'acme/layout',
      tag: 'v1',
      key: eu,
      attestations: [
        { predicateType: p.predicateType, predicate: p.predicate },
      ],
    });
    writeFileSync(
      join(dir, 'layout.yaml'),
      config()
        .replace(
          '  registries:',
          `  layouts:\n    - path: ./layout\n      region: eusc-de-east-1\n  registries:`,
        )
        .replace('publicKeyFile: eu.pub', 'publicKeyFile: eu-layout.pub'),
    );
    const verified = await cli(
      'verify',
      img.reference,
      '-c',
      'layout.yaml',
      '-t',
      'acme-eu',
      '--vsa',
      'layout.jsonl',
    );
    expect(verified.code).toBe(0);
    await appendCosignLayers(
      openTarget({ layout }, 'acme/layout'),
      cosignTag(img.digest, '.att'),
      [
        blobOf(
          Buffer.from(readFileSync(join(dir, 'layout.jsonl'), 'utf8').trim()),
          MEDIA_DSSE_ENVELOPE,
          { annotations: { predicateType: VSA } },
        ),
      ],
    );
    expect(
      (await cli('verify-vsa', img.reference, '--key', 'portal.pub')).code,
    ).toBe(0);
    expect(
      (await cli('verify-vsa', img.reference, '--key', 'other.pub')).code,
    ).toBe(1);
  });

  it('exits 3 without residency.vsa, and 2 when the registry cannot be reached', async () => {
    writeFileSync(
      join(dir, 'novsa.yaml'),
      config().replace(/ {2}vsa:[\s\S]*$/, ''),
    );
    expect(
      (
        await cli(
          'verify',
          good.reference,
          '-c',
          'novsa.yaml',
          '-t',
          'acme-eu',
          '--vsa',
          'x.jsonl',
        )
      ).code,
    ).toBe(3);
    expect(
      (
        await cli(
          'verify-vsa',
          '127.0.0.1:1/acme/good:v1',
          '--key',
          'portal.pub',
          '--plain-http',
        )
      ).code,
    ).toBe(2);
  });
});
