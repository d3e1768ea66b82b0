/*
 * The demo generator: fresh demo keys, signed images in OCI image layouts standing
 * for registries in and out of the boundary, a catalog and the `residency:` config.
 * Nothing secret is committed: private keys exist only under `<dir>/keys` (0600).
 *
 * Output, in `<dir>` (default `<repo>/.demo`, gitignored):
 *   demo.json                    manifest: key ids/fingerprints, images and digests
 *   keys/<name>.key | .pub       PKCS#8 private key (0600) and SPKI public key
 *   registries/eu-sovereign/     OCI layout, region eusc-de-east-1 (AWS European Sovereign Cloud)
 *   registries/eu-west/          OCI layout, region eu-west-1
 *   registries/us-east/          OCI layout, region us-east-1 (outside every boundary)
 *   catalog/entities.yaml        demo Components (+ System) with residency.dev/* annotations
 *   catalog/org.yaml             Groups developers/auditors/platform-owners/dpo and User guest
 *                                (loaded only when the repository has no examples/org.yaml)
 *   app-config.demo.yaml         merged on top of app-config.yaml by `npm start`
 *
 * Shape of the generated configuration (what the verifier reads):
 *   residency:
 *     boundaries:
 *       eu-sovereign: [eusc-de-east-1]
 *       eu: [eu-central-1, eu-west-1, eu-west-3, eusc-de-east-1]
 *     registries:                       # the "unreachable" demo registry (nothing listens)
 *       - { host: 127.0.0.1:1, region: eusc-de-east-1, insecure: true }
 *     layouts:                          # an `oci:<path>` reference gets its region here
 *       - { path: <dir>/registries/eu-sovereign, region: eusc-de-east-1 }
 *       - { path: <dir>/registries/eu-west, region: eu-west-1 }
 *       - { path: <dir>/registries/us-east, region: us-east-1 }
 *     keys:
 *       - { id: 'awskms:///arn:aws-eusc:kms:eusc-de-east-1:111122223333:key/<uuid>', publicKeyFile: <dir>/keys/eusc-signer.pub }
 *       - { id: 'awskms:///arn:aws:kms:eu-central-1:111122223333:key/<uuid>', publicKeyFile: <dir>/keys/eu-central-signer.pub }
 *       - { id: 'awskms:///arn:aws:kms:us-east-1:444455556666:key/<uuid>', publicKeyFile: <dir>/keys/us-east-signer.pub }
 *     tenants:
 *       acme-eu: { boundary: eu-sovereign, require: [signature, provenance, sbom], allowedHosts: [...] }
 *       globex:  { boundary: eu, require: [signature, provenance], allowedHosts: [...] }
 *   catalog:
 *     locations: examples/*.yaml plus <dir>/catalog/entities.yaml (absolute paths)
 *
 * Entity annotations: `residency.dev/images` (comma- or newline-separated references,
 * `oci:<absolute layout path>:<tag>` or `oci:<path>@sha256:<hex>` or `host/repo:tag`),
 * `residency.dev/tenant`, `residency.dev/region`.
 *
 * Idempotent: a second run reads demo.json, reuses the keys and the layouts, and
 * rewrites only the (deterministic) catalog and config files.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import {
  chmod,
  mkdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { ResidencyConfigBuilder } from './config';
import {
  generateKey,
  keyFromPrivatePem,
  privateKeyPem,
  SigningKey,
  SigningKitError,
} from './keys';
import {
  cycloneDxSbom,
  residencyPredicate,
  slsaProvenanceV02,
  slsaProvenanceV1,
  spdxSbom,
} from './predicates';
import {
  AttestationSpec,
  BundleSpec,
  publishSignedImage,
  SignatureSpec,
} from './publish';

/** Version of the demo data layout; a change regenerates images (keys are kept). */
export const DEMO_VERSION = 2;

/** Options of {@link generateDemo}. */
export interface GenerateDemoOptions {
  /** Output directory; default `<repo>/.demo`. */
  dir?: string;
  /** Repository root (for examples/ locations); default: the npm workspace root above the working directory. */
  repoRoot?: string;
  /** Progress messages. */
  log?: (message: string) => void;
}

/** A demo key as recorded in demo.json. */
export interface DemoKeyRecord {
  id: string;
  region: string;
  alg: 'ecdsa-p256';
  fingerprint: string;
  publicKeyFile: string;
  privateKeyFile: string;
}

/** One demo image as recorded in demo.json. */
export interface DemoImageRecord {
  layout: string;
  tag: string;
  digest: string;
  /** `oci:<layout>:<tag>` */
  reference: string;
}

/** demo.json */
export interface DemoManifest {
  version: number;
  generatedAt: string;
  dir: string;
  keys: Record<string, DemoKeyRecord>;
  layouts: Record<string, { path: string; region: string }>;
  images: Record<string, DemoImageRecord>;
  /** What each demo entity shows (entity name -> expected state, for tests and docs). */
  expectations: Record<string, { tenant: string; expected: string }>;
}

/** Result of {@link generateDemo}. */
export interface DemoResult {
  manifest: DemoManifest;
  /** True when keys and images were created in this run (false: reused). */
  created: boolean;
  configFile: string;
  catalogFile: string;
}

const KEY_SPECS = {
  'eusc-signer': {
    region: 'eusc-de-east-1',
    id: (u: string) =>
      `awskms:///arn:aws-eusc:kms:eusc-de-east-1:111122223333:key/${u}`,
  },
  'eu-central-signer': {
    region: 'eu-central-1',
    id: (u: string) =>
      `awskms:///arn:aws:kms:eu-central-1:111122223333:key/${u}`,
  },
  'us-east-signer': {
    region: 'us-east-1',
    id: (u: string) => `awskms:///arn:aws:kms:us-east-1:444455556666:key/${u}`,
  },
} as const;
type KeyName = keyof typeof KEY_SPECS;

const LAYOUTS = {
  'eu-sovereign': 'eusc-de-east-1',
  'eu-west': 'eu-west-1',
  'us-east': 'us-east-1',
} as const;
type LayoutName = keyof typeof LAYOUTS;

/** The registry host that is configured but where nothing listens: shows `unknown`. */
export const DEMO_UNREACHABLE_REGISTRY = '127.0.0.1:1';

const EU_HOSTS = [
  'git.eu.example.com',
  'ci.eu.example.com',
  'registry.eu.example.com',
];

/** The nearest directory upwards from `start` whose package.json declares workspaces. */
function findRepoRoot(start: string): string {
  let dir = resolve(start);
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (pkg && pkg.workspaces) return dir;
    } catch {
      // no package.json here: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) return resolve(start);
    dir = parent;
  }
}

async function writeAtomic(path: string, text: string, mode?: number) {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text, mode !== undefined ? { mode } : undefined);
  if (mode !== undefined) await chmod(tmp, mode);
  await rename(tmp, path);
}

async function loadOrCreateKeys(
  dir: string,
  previous: DemoManifest | undefined,
): Promise<{
  keys: Record<KeyName, SigningKey>;
  records: Record<string, DemoKeyRecord>;
}> {
  const keyDir = join(dir, 'keys');
  await mkdir(keyDir, { recursive: true, mode: 0o700 });
  await chmod(keyDir, 0o700);
  const keys = {} as Record<KeyName, SigningKey>;
  const records: Record<string, DemoKeyRecord> = {};
  for (const name of Object.keys(KEY_SPECS) as KeyName[]) {
    const privateKeyFile = join(keyDir, `${name}.key`);
    const publicKeyFile = join(keyDir, `${name}.pub`);
    const prev = previous?.keys[name];
    let key: SigningKey;
    let id: string;
    if (prev && existsSync(privateKeyFile)) {
      key = keyFromPrivatePem(await readFile(privateKeyFile, 'utf8'));
      if (key.fingerprint !== prev.fingerprint) {
        throw new SigningKitError(
          `${privateKeyFile} does not match the fingerprint in demo.json; delete ${dir} to start over`,
          'bad_key',
        );
      }
      id = prev.id;
    } else {
      key = generateKey('ecdsa-p256');
      id = KEY_SPECS[name].id(randomUUID());
      await writeAtomic(privateKeyFile, privateKeyPem(key), 0o600);
    }
    await writeAtomic(publicKeyFile, key.publicKeyPem, 0o644);
    keys[name] = key;
    records[name] = {
      id,
      region: KEY_SPECS[name].region,
      alg: 'ecdsa-p256',
      fingerprint: key.fingerprint,
      publicKeyFile,
      privateKeyFile,
    };
  }
  return { keys, records };
}

/** Every demo image: where it goes and what is attached. */
interface DemoImagePlan {
  name: string;
  layout: LayoutName;
  tag: string;
  repository: string;
  signatures?: (SignatureSpec & { keyName: KeyName })[];
  attestations?: (AttestationSpec & { keyName: KeyName })[];
  bundles?: (BundleSpec & { keyName: KeyName })[];
}

function residencyFor(region: string, repo: string) {
  return residencyPredicate({
    buildRegion: region,
    storageLocations: [
      { uri: `oci://registry.eu.example.com/${repo}`, region },
    ],
    dataLocations: [
      { kind: 'database', region },
      { kind: 'object-store', region },
    ],
    boundary: 'eu-sovereign',
  });
}

function plans(): DemoImagePlan[] {
  const euProvenance = (repo: string) =>
    slsaProvenanceV1({
      builderId: 'https://ci.eu.example.com/builders/eusc-de-east-1',
      externalParameters: {
        source: `git+https://git.eu.example.com/${repo}@refs/heads/main`,
      },
      resolvedDependencies: [
        {
          uri: `git+https://git.eu.example.com/${repo}@refs/heads/main`,
          digest: { gitCommit: '9f3c2a1d7e6b5c4a3f2e1d0c9b8a7f6e5d4c3b2a' },
        },
        {
          uri: 'oci://registry.eu.example.com/base/distroless:2026.01',
          digest: { sha256: 'a'.repeat(64) },
        },
      ],
    });
  const full = (repo: string, keyName: KeyName = 'eusc-signer') => ({
    signatures: [{ keyName }],
    attestations: [
      { ...euProvenance(repo), keyName },
      { ...cycloneDxSbom({ name: repo }), keyName },
      { ...residencyFor('eusc-de-east-1', repo), keyName },
    ],
  });
  return [
    {
      name: 'payments-api',
      layout: 'eu-sovereign',
      tag: 'payments-api-1.4.2',
      repository: 'registry.eu.example.com/acme/payments-api',
      ...full('acme/payments-api'),
      // the same claims also as a Sigstore bundle (OCI 1.1 referrer)
      bundles: [
        {
          kind: 'dsse',
          ...euProvenance('acme/payments-api'),
          keyName: 'eusc-signer',
        },
      ],
    },
    {
      name: 'ledger-worker',
      layout: 'eu-sovereign',
      tag: 'ledger-worker-2.0.0',
      repository: 'registry.eu.example.com/acme/ledger-worker',
    },
    {
      name: 'reporting-service',
      layout: 'eu-sovereign',
      tag: 'reporting-service-3.1.0',
      repository: 'registry.eu.example.com/acme/reporting-service',
      ...full('acme/reporting-service', 'us-east-signer'),
    },
    {
      name: 'checkout-web',
      layout: 'eu-sovereign',
      tag: 'checkout-web-5.2.1',
      repository: 'registry.eu.example.com/acme/checkout-web',
      signatures: [{ keyName: 'eusc-signer' }],
      attestations: [
        { ...euProvenance('acme/checkout-web'), keyName: 'eusc-signer' },
      ],
    },
    {
      name: 'fraud-scoring',
      layout: 'eu-sovereign',
      tag: 'fraud-scoring-0.9.0',
      repository: 'registry.eu.example.com/acme/fraud-scoring',
      signatures: [{ keyName: 'eusc-signer' }],
      // filled in below: provenance and SBOM validly signed, but for payments-api's digest
      attestations: [],
    },
    {
      name: 'customer-portal',
      layout: 'us-east',
      tag: 'customer-portal-1.0.0',
      repository: 'registry.us.example.com/acme/customer-portal',
      ...full('acme/customer-portal'),
    },
    {
      name: 'build-tools',
      layout: 'eu-sovereign',
      tag: 'build-tools-4.0.0',
      repository: 'registry.eu.example.com/acme/build-tools',
      signatures: [{ keyName: 'eusc-signer' }],
      attestations: [
        {
          ...slsaProvenanceV1({
            builderId: 'https://ci.eu.example.com/builders/eusc-de-east-1',
            externalParameters: {
              source: 'git+https://github.com/acme/build-tools@refs/heads/main',
            },
            resolvedDependencies: [
              {
                uri: 'git+https://github.com/acme/build-tools@refs/heads/main',
                digest: { gitCommit: '1'.repeat(40) },
              },
              {
                uri: 'https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz',
                digest: { sha512: 'b'.repeat(128) },
              },
            ],
          }),
          keyName: 'eusc-signer',
        },
        {
          ...cycloneDxSbom({ name: 'acme/build-tools' }),
          keyName: 'eusc-signer',
        },
      ],
    },
    {
      name: 'notifications',
      layout: 'eu-sovereign',
      tag: 'notifications-2.3.0',
      repository: 'registry.eu.example.com/acme/notifications',
      ...full('acme/notifications'),
    },
    {
      name: 'legacy-crm',
      layout: 'eu-sovereign',
      tag: 'legacy-crm-7.7.7',
      repository: 'registry.eu.example.com/initech/legacy-crm',
      ...full('initech/legacy-crm'),
    },
    {
      name: 'inventory-sync',
      layout: 'eu-sovereign',
      tag: 'inventory-sync-1.2.0',
      repository: 'registry.eu.example.com/acme/inventory-sync',
      // filled in below: signature payload names payments-api's digest
      signatures: [],
      attestations: [
        { ...euProvenance('acme/inventory-sync'), keyName: 'eusc-signer' },
        {
          ...spdxSbom({ name: 'acme/inventory-sync' }),
          keyName: 'eusc-signer',
        },
      ],
    },
    {
      name: 'storefront-web',
      layout: 'eu-sovereign',
      tag: 'storefront-web-3.0.0',
      repository: 'registry.eu.example.com/acme/storefront-web',
      ...full('acme/storefront-web'),
    },
    {
      name: 'storefront-sidecar',
      layout: 'eu-sovereign',
      tag: 'storefront-sidecar-0.1.0',
      repository: 'registry.eu.example.com/acme/storefront-sidecar',
    },
    {
      name: 'globex-analytics',
      layout: 'eu-west',
      tag: 'globex-analytics-2.1.0',
      repository: 'registry.eu-west.example.com/globex/analytics',
      signatures: [{ keyName: 'eu-central-signer' }],
      attestations: [
        {
          ...slsaProvenanceV02({
            builderId: 'https://ci.eu.example.com/builders/eu-central-1',
            materials: [
              {
                uri: 'git+https://git.eu.example.com/globex/analytics@refs/heads/main',
                digest: { sha1: '2'.repeat(40) },
              },
            ],
          }),
          keyName: 'eu-central-signer',
        },
      ],
    },
  ];
}

/** Which entity shows what (written to demo.json and used to build the catalog). */
const ENTITIES: {
  name: string;
  description: string;
  tenant: string;
  region: string;
  images: (string | { unreachable: string })[];
  expected: string;
  owner?: string;
}[] = [
  {
    name: 'payments-api',
    description:
      'Resident: EU-sovereign key, SLSA provenance, SBOM and residency claims.',
    tenant: 'acme-eu',
    region: 'eusc-de-east-1',
    images: ['payments-api'],
    expected: 'compliant',
  },
  {
    name: 'ledger-worker',
    description: 'Not resident: the image is unsigned.',
    tenant: 'acme-eu',
    region: 'eusc-de-east-1',
    images: ['ledger-worker'],
    expected: 'non_compliant:signature_missing',
  },
  {
    name: 'reporting-service',
    description:
      'Not resident: signed by a key in us-east-1, outside the boundary.',
    tenant: 'acme-eu',
    region: 'eusc-de-east-1',
    images: ['reporting-service'],
    expected: 'non_compliant:key_outside_boundary',
  },
  {
    name: 'checkout-web',
    description: 'Not resident: the required SBOM attestation is missing.',
    tenant: 'acme-eu',
    region: 'eusc-de-east-1',
    images: ['checkout-web'],
    expected: 'non_compliant:attestation_missing:sbom',
  },
  {
    name: 'fraud-scoring',
    description:
      "Not resident: its attestations were made for another image's digest.",
    tenant: 'acme-eu',
    region: 'eusc-de-east-1',
    images: ['fraud-scoring'],
    expected: 'non_compliant:subject_mismatch',
  },
  {
    name: 'inventory-sync',
    description: "Not resident: the signature names another image's digest.",
    tenant: 'acme-eu',
    region: 'eusc-de-east-1',
    images: ['inventory-sync'],
    expected: 'non_compliant:digest_mismatch',
  },
  {
    name: 'customer-portal',
    description: 'Not resident: the image is stored in a us-east-1 registry.',
    tenant: 'acme-eu',
    region: 'eusc-de-east-1',
    images: ['customer-portal'],
    expected: 'non_compliant:registry_outside_boundary',
  },
  {
    name: 'build-tools',
    description:
      'Not resident: provenance refers to hosts outside the tenant (github.com, registry.npmjs.org).',
    tenant: 'acme-eu',
    region: 'eusc-de-east-1',
    images: ['build-tools'],
    expected: 'non_compliant:provenance_external_reference',
  },
  {
    name: 'notifications',
    description:
      'Not resident: declared to run in us-east-1, outside the eu-sovereign boundary.',
    tenant: 'acme-eu',
    region: 'us-east-1',
    images: ['notifications'],
    expected: 'non_compliant:declared_region_outside_boundary',
  },
  {
    name: 'legacy-crm',
    description: 'Tenant "initech" is not configured.',
    tenant: 'initech',
    region: 'eusc-de-east-1',
    images: ['legacy-crm'],
    expected: 'non_compliant:tenant_unknown',
  },
  {
    name: 'search-indexer',
    description: 'Unknown: its registry cannot be reached.',
    tenant: 'acme-eu',
    region: 'eusc-de-east-1',
    images: [
      { unreachable: `${DEMO_UNREACHABLE_REGISTRY}/acme/search-indexer:1.0.0` },
    ],
    expected: 'unknown:registry_unreachable',
  },
  {
    name: 'storefront',
    description:
      'Two images, mixed: a resident web image and an unsigned sidecar (pinned by digest).',
    tenant: 'acme-eu',
    region: 'eusc-de-east-1',
    images: ['storefront-web', 'storefront-sidecar@'],
    expected: 'non_compliant:signature_missing',
  },
  {
    name: 'globex-analytics',
    description:
      'Resident in the wider "eu" boundary: eu-central-1 key, SLSA v0.2 provenance, eu-west-1 registry.',
    tenant: 'globex',
    region: 'eu-west-1',
    images: ['globex-analytics'],
    expected: 'compliant',
  },
];

async function publishAll(
  dir: string,
  keys: Record<KeyName, SigningKey>,
  log: (m: string) => void,
): Promise<Record<string, DemoImageRecord>> {
  const out: Record<string, DemoImageRecord> = {};
  const all = plans();
  const digestOf: Record<string, string> = {};
  const publish = async (p: DemoImagePlan) => {
    const layout = join(dir, 'registries', p.layout);
    const res = await publishSignedImage({
      target: { layout },
      repository: p.repository,
      tag: p.tag,
      image: {
        files: { '/app/service.txt': `${p.name}\n` },
        labels: {
          'org.opencontainers.image.title': p.name,
          // an unsigned claim: shown as "claimed", never decides
          'residency.dev/region': LAYOUTS[p.layout],
        },
      },
      signatures: (p.signatures ?? []).map(({ keyName, ...s }) => ({
        ...s,
        key: keys[keyName],
      })),
      attestations: (p.attestations ?? []).map(({ keyName, ...a }) => ({
        ...a,
        key: keys[keyName],
      })),
      bundles: (p.bundles ?? []).map(({ keyName, ...b }) => ({
        ...b,
        key: keys[keyName],
      })),
    });
    digestOf[p.name] = res.digest;
    out[p.name] = {
      layout,
      tag: p.tag,
      digest: res.digest,
      reference: res.reference,
    };
    log(`  ${p.name.padEnd(20)} ${res.digest}  ${res.reference}`);
  };
  for (const p of all) {
    if (p.name === 'fraud-scoring' || p.name === 'inventory-sync') continue;
    await publish(p);
  }
  // forged cases need another image's digest (payments-api)
  const victim = digestOf['payments-api'];
  for (const p of all) {
    if (p.name === 'fraud-scoring') {
      p.attestations = [
        {
          ...slsaProvenanceV1(),
          keyName: 'eusc-signer',
          forge: { subjectDigest: victim },
        },
        {
          ...cycloneDxSbom({ name: 'acme/fraud-scoring' }),
          keyName: 'eusc-signer',
          forge: { subjectDigest: victim },
        },
      ];
      await publish(p);
    }
    if (p.name === 'inventory-sync') {
      p.signatures = [
        { keyName: 'eusc-signer', forge: { payloadDigest: victim } },
      ];
      await publish(p);
    }
  }
  return out;
}

function entityDocs(manifest: DemoManifest): unknown[] {
  const docs: unknown[] = [
    {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'System',
      metadata: {
        name: 'residency-demo',
        description:
          'Demo services generated by the Residency signing kit (fresh keys, OCI layouts in .demo/).',
      },
      spec: { owner: 'group:default/platform-owners' },
    },
  ];
  for (const e of ENTITIES) {
    const refs = e.images.map(i => {
      if (typeof i !== 'string') return i.unreachable;
      if (i.endsWith('@')) {
        const img = manifest.images[i.slice(0, -1)];
        return `oci:${img.layout}@${img.digest}`;
      }
      return manifest.images[i].reference;
    });
    docs.push({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: {
        name: e.name,
        description: e.description,
        annotations: {
          'residency.dev/images': refs.join(','),
          'residency.dev/tenant': e.tenant,
          'residency.dev/region': e.region,
        },
        tags: ['residency-demo'],
      },
      spec: {
        type: 'service',
        lifecycle: 'production',
        owner: e.owner ?? 'group:default/developers',
        system: 'residency-demo',
      },
    });
  }
  return docs;
}

function orgDocs(): unknown[] {
  const group = (name: string, description: string) => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: { name, description },
    spec: { type: 'team', children: [] },
  });
  return [
    group('developers', 'Service teams.'),
    group('auditors', 'May browse and download residency evidence.'),
    group('platform-owners', 'Own tenant-to-region mappings.'),
    group('dpo', 'Data protection officers: approve exceptions, get alerts.'),
    {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'User',
      metadata: { name: 'guest' },
      spec: {
        profile: { displayName: 'Guest' },
        memberOf: ['developers', 'auditors', 'platform-owners', 'dpo'],
      },
    },
  ];
}

function appConfig(
  manifest: DemoManifest,
  repoRoot: string,
  catalogFile: string,
  orgFile: string,
) {
  const locations: unknown[] = [];
  const exampleEntities = join(repoRoot, 'examples', 'entities.yaml');
  const exampleOrg = join(repoRoot, 'examples', 'org.yaml');
  // Backstage replaces arrays when merging configs: repeat the base locations here.
  if (existsSync(exampleEntities))
    locations.push({ type: 'file', target: exampleEntities });
  locations.push({
    type: 'file',
    target: existsSync(exampleOrg) ? exampleOrg : orgFile,
    rules: [{ allow: ['User', 'Group'] }],
  });
  locations.push({ type: 'file', target: catalogFile });
  return {
    catalog: { locations },
    residency: demoResidencyConfig(manifest),
  };
}

/** The demo's `residency:` block: two boundaries, the on-disk layouts, every demo key. */
function demoResidencyConfig(manifest: DemoManifest) {
  const config = ResidencyConfigBuilder.create()
    .boundary('eu-sovereign', ['eusc-de-east-1'])
    .boundary('eu', [
      'eu-central-1',
      'eu-west-1',
      'eu-west-3',
      'eusc-de-east-1',
    ])
    .registry({
      host: DEMO_UNREACHABLE_REGISTRY,
      region: 'eusc-de-east-1',
      insecure: true,
    })
    .tenant('acme-eu', {
      boundary: 'eu-sovereign',
      require: ['signature', 'provenance', 'sbom'],
      allowedHosts: EU_HOSTS,
    })
    .tenant('globex', {
      boundary: 'eu',
      require: ['signature', 'provenance'],
      allowedHosts: EU_HOSTS,
    })
    // The DPO group (examples/org.yaml) is told when a demo service's residency
    // gets worse, besides its owners.
    .backend({
      alerts: {
        recipients: {
          'acme-eu': ['group:default/dpo'],
          globex: ['group:default/dpo'],
        },
      },
    });
  for (const l of Object.values(manifest.layouts))
    config.layout(l.path, l.region);
  for (const r of Object.values(manifest.keys)) {
    config.key({ id: r.id, publicKeyFile: r.publicKeyFile });
  }
  return config.build();
}

const HEADER =
  '# Generated by packages/signing-kit (generate-demo). Do not edit: re-run to refresh.\n';

/** Generates (or reuses) the demo keys, images, catalog and config. */
export async function generateDemo(
  options: GenerateDemoOptions = {},
): Promise<DemoResult> {
  const repoRoot = options.repoRoot ?? findRepoRoot(process.cwd());
  const dir = resolve(options.dir ?? join(repoRoot, '.demo'));
  await mkdir(dir, { recursive: true });
  return withDirLock(dir, () =>
    generateLocked(dir, repoRoot, options.log ?? (() => {})),
  );
}

/**
 * A lock directory inside the demo dir, so that two generators started at once (the
 * portal and the e2e suite, say) do not interleave. A lock older than `staleMs` is
 * taken over (its holder crashed).
 */
async function withDirLock<T>(
  dir: string,
  fn: () => Promise<T>,
  staleMs = 120_000,
): Promise<T> {
  const lock = join(dir, '.generate.lock');
  const deadline = Date.now() + staleMs + 30_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const since = await stat(lock).then(
        st => st.mtimeMs,
        () => Date.now(),
      );
      if (Date.now() - since > staleMs) {
        await rm(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new SigningKitError(
          `demo directory ${dir} is locked by another generator`,
          'bad_input',
        );
      }
      await new Promise(r => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/** Generation, under the directory lock: each step named. */
async function generateLocked(
  dir: string,
  repoRoot: string,
  log: (message: string) => void,
): Promise<DemoResult> {
  const previous = await readPreviousManifest(dir);
  const { keys, records } = await loadOrCreateKeys(dir, previous);
  const layouts = layoutDirs(dir);
  const reusable = canReuse(previous, dir, records, layouts);
  const images = reusable
    ? reuseImages(previous!, dir, log)
    : await publishFresh(dir, keys, layouts, log);
  const manifest = await writeManifest(dir, {
    previous: reusable ? previous : undefined,
    records,
    layouts,
    images,
  });
  const { catalogFile, orgFile } = await writeCatalog(dir, manifest);
  const configFile = await writeAppConfig(
    dir,
    manifest,
    repoRoot,
    catalogFile,
    orgFile,
  );
  return { manifest, created: !reusable, configFile, catalogFile };
}

function manifestPath(dir: string): string {
  return join(dir, 'demo.json');
}

/** The manifest of an earlier run, if it is readable. */
async function readPreviousManifest(
  dir: string,
): Promise<DemoManifest | undefined> {
  const file = manifestPath(dir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(await readFile(file, 'utf8')) as DemoManifest;
  } catch {
    return undefined; // unreadable: start over (keys are regenerated too)
  }
}

type DemoLayouts = DemoManifest['layouts'];

function layoutDirs(dir: string): DemoLayouts {
  return Object.fromEntries(
    (Object.keys(LAYOUTS) as LayoutName[]).map(n => [
      n,
      { path: join(dir, 'registries', n), region: LAYOUTS[n] },
    ]),
  );
}

/** Same version, directory and keys, and every layout and image still on disk. */
function canReuse(
  previous: DemoManifest | undefined,
  dir: string,
  records: DemoManifest['keys'],
  layouts: DemoLayouts,
): boolean {
  return (
    previous?.version === DEMO_VERSION &&
    previous.dir === dir &&
    Object.keys(previous.keys).every(
      n => previous.keys[n].fingerprint === records[n]?.fingerprint,
    ) &&
    Object.values(layouts).every(l => existsSync(join(l.path, 'index.json'))) &&
    Object.values(previous.images ?? {}).every(i =>
      existsSync(join(i.layout, 'blobs', 'sha256', i.digest.slice(7))),
    )
  );
}

function reuseImages(
  previous: DemoManifest,
  dir: string,
  log: (message: string) => void,
): DemoManifest['images'] {
  log(`demo data reused from ${dir}`);
  return previous.images;
}

async function publishFresh(
  dir: string,
  keys: Record<KeyName, SigningKey>,
  layouts: DemoLayouts,
  log: (message: string) => void,
): Promise<DemoManifest['images']> {
  log(`generating demo data in ${dir}`);
  // Start the layouts from scratch so signatures are not appended twice.
  for (const l of Object.values(layouts)) {
    await rm(l.path, { recursive: true, force: true });
  }
  return publishAll(dir, keys, log);
}

async function writeManifest(
  dir: string,
  parts: {
    previous: DemoManifest | undefined;
    records: DemoManifest['keys'];
    layouts: DemoLayouts;
    images: DemoManifest['images'];
  },
): Promise<DemoManifest> {
  const manifest: DemoManifest = {
    version: DEMO_VERSION,
    generatedAt: parts.previous?.generatedAt ?? new Date().toISOString(),
    dir,
    keys: parts.records,
    layouts: parts.layouts,
    images: parts.images,
    expectations: Object.fromEntries(
      ENTITIES.map(e => [e.name, { tenant: e.tenant, expected: e.expected }]),
    ),
  };
  await writeAtomic(
    manifestPath(dir),
    `${JSON.stringify(manifest, null, 2)}\n`,
  );
  return manifest;
}

function yamlDocs(docs: unknown[]): string {
  return (
    HEADER +
    docs.map(d => stringify(d, { aliasDuplicateObjects: false })).join('---\n')
  );
}

async function writeCatalog(
  dir: string,
  manifest: DemoManifest,
): Promise<{ catalogFile: string; orgFile: string }> {
  const catalogDir = join(dir, 'catalog');
  await mkdir(catalogDir, { recursive: true });
  const catalogFile = join(catalogDir, 'entities.yaml');
  const orgFile = join(catalogDir, 'org.yaml');
  await writeAtomic(catalogFile, yamlDocs(entityDocs(manifest)));
  await writeAtomic(orgFile, yamlDocs(orgDocs()));
  return { catalogFile, orgFile };
}

async function writeAppConfig(
  dir: string,
  manifest: DemoManifest,
  repoRoot: string,
  catalogFile: string,
  orgFile: string,
): Promise<string> {
  const configFile = join(dir, 'app-config.demo.yaml');
  await writeAtomic(
    configFile,
    HEADER +
      stringify(appConfig(manifest, repoRoot, catalogFile, orgFile), {
        aliasDuplicateObjects: false,
      }),
  );
  return configFile;
}
