/*
 * The demo generator: idempotent, keys private to the demo dir, and each demo image
 * carries exactly the evidence its entity is meant to show (checked by reading the
 * layout files directly and verifying with node:crypto).
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { generateDemo, DemoManifest } from '../demo';
import { spkiFingerprint } from '../keys';
import { createPublicKey } from 'node:crypto';
import { verifyEnvelope, verifyWithPem } from '../__testUtils__/verify';

async function tagged(layout: string, tag: string): Promise<any | undefined> {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
  const d = index.manifests.find(
    (m: any) => m.annotations?.['org.opencontainers.image.ref.name'] === tag,
  );
  if (!d) return undefined;
  return JSON.parse(
    await readFile(join(layout, 'blobs', 'sha256', d.digest.slice(7)), 'utf8'),
  );
}
const blob = (layout: string, digest: string) =>
  readFile(join(layout, 'blobs', 'sha256', digest.slice(7)));

describe('generateDemo', () => {
  let dir: string;
  let m: DemoManifest;
  let pem: Record<string, string>;
  let created: boolean;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'signing-kit-demo-'));
    const first = await generateDemo({ dir, repoRoot: dir });
    created = first.created;
    m = first.manifest;
    pem = {};
    for (const [n, k] of Object.entries(m.keys))
      pem[n] = await readFile(k.publicKeyFile, 'utf8');
  }, 60000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('is idempotent: a second run reuses keys and images and writes identical files', async () => {
    expect(created).toBe(true);
    const files = [
      'demo.json',
      'app-config.demo.yaml',
      'catalog/entities.yaml',
      'registries/eu-sovereign/index.json',
    ];
    const before = await Promise.all(
      files.map(f => readFile(join(dir, f), 'utf8')),
    );
    const second = await generateDemo({ dir, repoRoot: dir });
    expect(second.created).toBe(false);
    expect(second.manifest.keys).toEqual(m.keys);
    expect(second.manifest.images).toEqual(m.images);
    const after = await Promise.all(
      files.map(f => readFile(join(dir, f), 'utf8')),
    );
    expect(after).toEqual(before);
  });

  it('two generators started at once do not interleave', async () => {
    const other = await mkdtemp(join(tmpdir(), 'signing-kit-demo-race-'));
    try {
      const [a, b] = await Promise.all([
        generateDemo({ dir: other, repoRoot: other }),
        generateDemo({ dir: other, repoRoot: other }),
      ]);
      expect([a.created, b.created].sort()).toEqual([false, true]);
      expect(a.manifest.images).toEqual(b.manifest.images);
      expect(a.manifest.keys).toEqual(b.manifest.keys);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  }, 60000);

  it('keeps private keys in the demo dir only, mode 0600, and out of every generated text file', async () => {
    for (const k of Object.values(m.keys)) {
      expect((await stat(k.privateKeyFile)).mode & 0o777).toBe(0o600);
      expect(k.privateKeyFile.startsWith(dir)).toBe(true);
      expect(
        spkiFingerprint(
          createPublicKey(await readFile(k.publicKeyFile, 'utf8')),
        ),
      ).toBe(k.fingerprint);
    }
    expect((await stat(join(dir, 'keys'))).mode & 0o777).toBe(0o700);
    for (const f of [
      'demo.json',
      'app-config.demo.yaml',
      'catalog/entities.yaml',
    ]) {
      expect(await readFile(join(dir, f), 'utf8')).not.toContain('PRIVATE KEY');
    }
  });

  it('writes the residency config the verifier reads', async () => {
    const cfg = parse(
      await readFile(join(dir, 'app-config.demo.yaml'), 'utf8'),
    );
    expect(cfg.residency.boundaries).toEqual({
      'eu-sovereign': ['eusc-de-east-1'],
      eu: ['eu-central-1', 'eu-west-1', 'eu-west-3', 'eusc-de-east-1'],
    });
    const ids = cfg.residency.keys.map((k: any) => k.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^awskms:\/\/\/arn:aws-eusc:kms:eusc-de-east-1:111122223333:key\/[0-9a-f-]{36}$/,
        ),
        expect.stringMatching(
          /^awskms:\/\/\/arn:aws:kms:us-east-1:\d{12}:key\/[0-9a-f-]{36}$/,
        ),
      ]),
    );
    expect(cfg.residency.tenants['acme-eu']).toMatchObject({
      boundary: 'eu-sovereign',
      require: ['signature', 'provenance', 'sbom'],
    });
    expect(cfg.residency.tenants.globex).toMatchObject({
      boundary: 'eu',
      require: ['signature', 'provenance'],
    });
    expect(cfg.residency.layouts).toEqual(
      expect.arrayContaining([
        {
          path: join(dir, 'registries', 'eu-sovereign'),
          region: 'eusc-de-east-1',
        },
        { path: join(dir, 'registries', 'us-east'), region: 'us-east-1' },
      ]),
    );
    // no examples/ in this repoRoot: the demo's own org file is loaded instead
    expect(cfg.catalog.locations.map((l: any) => l.target)).toEqual([
      join(dir, 'catalog', 'org.yaml'),
      join(dir, 'catalog', 'entities.yaml'),
    ]);
  });

  it('catalog: every entity points at real layout images or the unreachable registry', async () => {
    const docs = parseAllDocuments(
      await readFile(join(dir, 'catalog', 'entities.yaml'), 'utf8'),
    ).map(d => d.toJS());
    const comps = docs.filter(d => d.kind === 'Component');
    expect(comps.map(c => c.metadata.name).sort()).toEqual(
      Object.keys(m.expectations).sort(),
    );
    const byName = Object.fromEntries(
      comps.map(c => [c.metadata.name, c.metadata.annotations]),
    );
    expect(byName['legacy-crm']['residency.dev/tenant']).toBe('initech');
    expect(byName.notifications['residency.dev/region']).toBe('us-east-1');
    expect(byName['search-indexer']['residency.dev/images']).toBe(
      '127.0.0.1:1/acme/search-indexer:1.0.0',
    );
    const storefront = byName.storefront['residency.dev/images'].split(',');
    expect(storefront).toEqual([
      m.images['storefront-web'].reference,
      `oci:${m.images['storefront-sidecar'].layout}@${m.images['storefront-sidecar'].digest}`,
    ]);
    for (const c of comps) {
      for (const ref of c.metadata.annotations['residency.dev/images'].split(
        ',',
      )) {
        if (!ref.startsWith('oci:')) continue;
        const [, path] = /^oci:([^:@]+)/.exec(ref)!;
        expect(path.startsWith(join(dir, 'registries'))).toBe(true);
      }
    }
  });

  it('resident image: signature and provenance/SBOM/residency attestations by the EU-sovereign key', async () => {
    const img = m.images['payments-api'];
    const hex = img.digest.slice(7);
    const sig = await tagged(img.layout, `sha256-${hex}.sig`);
    const payload = await blob(img.layout, sig.layers[0].digest);
    expect(
      JSON.parse(payload.toString()).critical.image['docker-manifest-digest'],
    ).toBe(img.digest);
    expect(
      verifyWithPem(
        pem['eusc-signer'],
        payload,
        sig.layers[0].annotations['dev.cosignproject.cosign/signature'],
      ),
    ).toBe(true);
    const att = await tagged(img.layout, `sha256-${hex}.att`);
    expect(att.layers.map((l: any) => l.annotations.predicateType)).toEqual([
      'https://slsa.dev/provenance/v1',
      'https://cyclonedx.org/bom',
      'https://residency.dev/attestation/v1',
    ]);
    for (const l of att.layers) {
      const env = JSON.parse((await blob(img.layout, l.digest)).toString());
      expect(verifyEnvelope(pem['eusc-signer'], env)).toBe(true);
    }
    expect(await tagged(img.layout, `sha256-${hex}`)).toMatchObject({
      manifests: [
        { artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json' },
      ],
    });
  });

  it('negative images carry exactly their defect', async () => {
    const sigOf = async (name: string) => {
      const img = m.images[name];
      return tagged(img.layout, `sha256-${img.digest.slice(7)}.sig`);
    };
    const attOf = async (name: string) => {
      const img = m.images[name];
      return tagged(img.layout, `sha256-${img.digest.slice(7)}.att`);
    };
    // unsigned
    expect(await sigOf('ledger-worker')).toBeUndefined();
    expect(await attOf('ledger-worker')).toBeUndefined();
    // signed by the us-east-1 key, not by the EU one
    const rep = await sigOf('reporting-service');
    const repPayload = await blob(
      m.images['reporting-service'].layout,
      rep.layers[0].digest,
    );
    const repSig =
      rep.layers[0].annotations['dev.cosignproject.cosign/signature'];
    expect(verifyWithPem(pem['us-east-signer'], repPayload, repSig)).toBe(true);
    expect(verifyWithPem(pem['eusc-signer'], repPayload, repSig)).toBe(false);
    // SBOM missing
    expect(
      (await attOf('checkout-web')).layers.map(
        (l: any) => l.annotations.predicateType,
      ),
    ).toEqual(['https://slsa.dev/provenance/v1']);
    // attestations for payments-api's digest
    for (const l of (await attOf('fraud-scoring')).layers) {
      const env = JSON.parse(
        (await blob(m.images['fraud-scoring'].layout, l.digest)).toString(),
      );
      expect(verifyEnvelope(pem['eusc-signer'], env)).toBe(true);
      const st = JSON.parse(Buffer.from(env.payload, 'base64').toString());
      expect(`sha256:${st.subject[0].digest.sha256}`).toBe(
        m.images['payments-api'].digest,
      );
    }
    // signature payload names payments-api's digest
    const inv = await sigOf('inventory-sync');
    const invPayload = JSON.parse(
      (
        await blob(m.images['inventory-sync'].layout, inv.layers[0].digest)
      ).toString(),
    );
    expect(invPayload.critical.image['docker-manifest-digest']).toBe(
      m.images['payments-api'].digest,
    );
    // stored in the us-east layout
    expect(m.images['customer-portal'].layout).toBe(
      join(dir, 'registries', 'us-east'),
    );
    // provenance names github.com
    const bt = (await attOf('build-tools')).layers[0];
    const env = JSON.parse(
      (await blob(m.images['build-tools'].layout, bt.digest)).toString(),
    );
    expect(Buffer.from(env.payload, 'base64').toString()).toContain(
      'github.com',
    );
  });
});
