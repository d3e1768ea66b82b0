import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ConfigReader as BackstageConfigReader } from '@backstage/config';
import { generateKey } from '@residency-dev/signing-kit';
import {
  configReaderFromObject,
  loadResidencySettings,
  regionFromKeyId,
  settingsFromYaml,
} from './config';
import { ResidencyConfigError } from './errors';
import { residencyConfig, keys, EU_KEY_ID } from './__testUtils__/world';

function load(residency: unknown, env?: Record<string, string>) {
  return loadResidencySettings(
    configReaderFromObject({ residency }, { env: env ?? {} }),
  );
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e;
  }
}

function expectConfigError(fn: () => unknown, code: string, mention?: string) {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ResidencyConfigError);
  expect((err as ResidencyConfigError).code).toBe(code);
  if (mention) expect((err as Error).message).toContain(mention);
}

function withKey(key: Record<string, unknown>) {
  return residencyConfig({ keys: [key] });
}

describe('regionFromKeyId (case 13)', () => {
  it.each([
    [
      'awskms:///arn:aws-eusc:kms:eusc-de-east-1:111122223333:key/0c7a',
      'eusc-de-east-1',
    ],
    [
      'awskms://kms.eusc-de-east-1.amazonaws.eu/arn:aws-eusc:kms:eusc-de-east-1:111122223333:alias/sign',
      'eusc-de-east-1',
    ],
    ['awskms:///arn:aws:kms:eu-central-1:111122223333:key/abc', 'eu-central-1'],
    [
      'awskms:///arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/abc',
      'us-gov-west-1',
    ],
    ['awskms:///arn:aws-cn:kms:cn-north-1:111122223333:key/abc', 'cn-north-1'],
    [
      'gcpkms://projects/p/locations/europe-west3/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1',
      'europe-west3',
    ],
  ])('%s pins %s', (id, region) => {
    expect(regionFromKeyId(id)).toEqual({ pinned: true, region });
  });

  it.each([
    'awskms:///alias/x',
    'awskms:///1234abcd-12ab-34cd-56ef-1234567890ab',
    'gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k',
    'azurekms://vault.vault.azure.net/key',
    'hashivault://transit-key',
    'my-plain-key',
    'awskms:///arn:aws-fake:kms:eu-west-1:111122223333:key/x',
  ])('%s does not pin a region', id => {
    expect(regionFromKeyId(id).pinned).toBe(false);
  });
});

describe('loadResidencySettings', () => {
  it('loads keys with region from the id, fingerprint = SHA-256 of DER SPKI, defaults', () => {
    const s = load(residencyConfig());
    const k = s.keys[0];
    expect(k).toMatchObject({
      id: EU_KEY_ID,
      region: 'eusc-de-east-1',
      regionSource: 'id',
      algorithm: 'ecdsa-p256',
      revoked: false,
    });
    const der = keys().eu.publicKey.export({ type: 'spki', format: 'der' });
    expect(k.fingerprint).toBe(createHash('sha256').update(der).digest('hex'));
    expect(s.limits).toEqual({
      imagesPerEntity: 50,
      concurrencyPerRegistry: 4,
      imageTimeoutSeconds: 120,
    });
    expect(s.tenants['acme-eu'].require).toEqual(['signature']);
  });

  it("loads through Backstage's own ConfigReader (optional validity fields, windows)", () => {
    const cfg = residencyConfig({
      keys: [
        {
          id: EU_KEY_ID,
          publicKey: keys().eu.publicKeyPem,
          validFrom: '2026-01-01T00:00:00Z',
          validUntil: '2027-01-01T00:00:00Z',
        },
        {
          id: 'azurekms://v.vault.azure.net/k',
          region: 'eusc-de-east-1',
          publicKey: keys().us.publicKeyPem,
        },
      ],
    });
    const s = loadResidencySettings(
      new BackstageConfigReader({ residency: cfg as any }),
    );
    expect(s.keys[0]).toMatchObject({
      validFrom: '2026-01-01T00:00:00.000Z',
      validUntil: '2027-01-01T00:00:00.000Z',
    });
    expect(s.keys[1].validFrom).toBeUndefined();
    expect(s.tenants['acme-eu'].boundary).toBe('eu-sovereign');
    const bad = residencyConfig({
      keys: [{ id: 'awskms:///alias/x', publicKey: keys().eu.publicKeyPem }],
    });
    expectConfigError(
      () =>
        loadResidencySettings(
          new BackstageConfigReader({ residency: bad as any }),
        ),
      'key_region_unpinned',
      'residency.keys[0] (awskms:///alias/x)',
    );
    expectConfigError(
      () =>
        loadResidencySettings(
          new BackstageConfigReader({
            residency: { limits: { imagesPerEntity: 'many' } },
          }),
        ),
      'config_invalid',
    );
  });

  it('an unpinned key id without region fails, naming the entry', () => {
    expectConfigError(
      () =>
        load(
          withKey({
            id: 'awskms:///alias/x',
            publicKey: keys().eu.publicKeyPem,
          }),
        ),
      'key_region_unpinned',
      'residency.keys[0] (awskms:///alias/x)',
    );
  });

  it.each([
    'azurekms://v.vault.azure.net/k',
    'hashivault://k',
    'gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k',
    'plain',
  ])('%s loads with an explicit region', id => {
    const s = load(
      withKey({
        id,
        publicKey: keys().eu.publicKeyPem,
        region: 'eusc-de-east-1',
      }),
    );
    expect(s.keys[0]).toMatchObject({
      region: 'eusc-de-east-1',
      regionSource: 'explicit',
    });
  });

  it('an explicit region contradicting the ARN fails', () => {
    expectConfigError(
      () =>
        load(
          withKey({
            id: EU_KEY_ID,
            publicKey: keys().eu.publicKeyPem,
            region: 'eu-west-1',
          }),
        ),
      'key_region_contradiction',
      'residency.keys[0]',
    );
  });

  it('a duplicate public key fails', () => {
    expectConfigError(
      () =>
        load(
          residencyConfig({
            keys: [
              { id: EU_KEY_ID, publicKey: keys().eu.publicKeyPem },
              {
                id: 'plain',
                region: 'eusc-de-east-1',
                publicKey: keys().eu.publicKeyPem,
              },
            ],
          }),
        ),
      'key_duplicate',
      'residency.keys[1] (plain)',
    );
  });

  it('an unreadable PEM fails', () => {
    expectConfigError(
      () =>
        load(
          withKey({
            id: EU_KEY_ID,
            publicKey:
              '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n',
          }),
        ),
      'key_unreadable',
      'residency.keys[0]',
    );
    expectConfigError(
      () =>
        load(withKey({ id: EU_KEY_ID, publicKeyFile: '/nonexistent/key.pem' })),
      'key_unreadable',
    );
  });

  it('reads publicKeyFile relative to baseDir, and RSA / Ed25519 / P-384 keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'residency-cfg-'));
    const algs = ['rsa', 'ed25519', 'ecdsa-p384'] as const;
    const ks = algs.map(a => generateKey(a));
    ks.forEach((k, i) => writeFileSync(join(dir, `k${i}.pem`), k.publicKeyPem));
    const cfg = residencyConfig({
      keys: ks.map((_, i) => ({
        id: `plain-${i}`,
        region: 'eusc-de-east-1',
        publicKeyFile: `k${i}.pem`,
      })),
    });
    const s = loadResidencySettings(
      configReaderFromObject({ residency: cfg }),
      { baseDir: dir },
    );
    expect(s.keys.map(k => k.algorithm)).toEqual([
      expect.stringMatching(/^rsa-/),
      'ed25519',
      'ecdsa-p384',
    ]);
  });

  it('an unknown boundary fails', () => {
    const cfg = residencyConfig();
    (cfg.tenants as any)['acme-eu'].boundary = 'moon';
    expectConfigError(
      () => load(cfg),
      'boundary_unknown',
      'residency.tenants.acme-eu',
    );
  });

  it('a CEL rule that does not parse fails', () => {
    const cfg = residencyConfig();
    (cfg.tenants as any)['acme-eu'].rules = [
      { id: 'bad', expression: 'images.all(i, ', message: 'm' },
    ];
    expectConfigError(() => load(cfg), 'rule_invalid', 'rules[0]');
  });

  it.each([
    'https://registry.eu.example.com',
    'user@registry.eu.example.com',
    'registry.eu.example.com/path',
    '',
  ])('a registry host %j fails', host => {
    expectConfigError(
      () =>
        load(
          residencyConfig({ registries: [{ host, region: 'eusc-de-east-1' }] }),
        ),
      'registry_invalid',
    );
  });

  it('registry credentials are basic or token, layouts resolve, limits are read', () => {
    const s = load(
      residencyConfig({
        registries: [
          {
            host: '127.0.0.1:5000',
            region: 'eusc-de-east-1',
            insecure: true,
            credentials: { username: 'u', password: '${REG_PASS}' },
          },
          {
            host: 'registry.eu.example.com',
            region: 'eusc-de-east-1',
            credentials: { token: 't' },
          },
        ],
        layouts: [{ path: '/tmp/layout', region: 'eusc-de-east-1' }],
        limits: { imagesPerEntity: 3 },
      }),
      { REG_PASS: 'secret' },
    );
    expect(s.registries[0]).toEqual({
      host: '127.0.0.1:5000',
      region: 'eusc-de-east-1',
      insecure: true,
      credentials: { username: 'u', password: 'secret' },
    });
    expect(s.registries[1].credentials).toEqual({ token: 't' });
    expect(s.layouts).toEqual([
      { path: '/tmp/layout', region: 'eusc-de-east-1' },
    ]);
    expect(s.limits.imagesPerEntity).toBe(3);
  });

  it('loads the public-good trusted root offline and keyless identities', () => {
    const cfg = residencyConfig({ trustedRoots: [{ publicGood: true }] });
    (cfg.tenants as any)['acme-eu'].identities = [
      {
        subjectRegExp: 'https://github.com/acme/.*',
        issuer: 'https://token.actions.githubusercontent.com',
        region: 'eusc-de-east-1',
      },
    ];
    const s = load(cfg);
    expect(s.trustedRoots?.[0].name).toBe('sigstore-public-good');
    expect(s.trustedRoots?.[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(s.tenants['acme-eu'].identities).toHaveLength(1);
  });

  it('settingsFromYaml parses app-config text with ${ENV} and $${ escapes', () => {
    const k = keys().eu.publicKeyPem.replace(/\n/g, '\n        ');
    const yaml = `
residency:
  boundaries:
    eu: [eusc-de-east-1]
  registries:
    - host: \${REG_HOST}
      region: eusc-de-east-1
  keys:
    - id: ${EU_KEY_ID}
      publicKey: |
        ${k}
  tenants:
    t:
      boundary: eu
      allowedHosts: ['$\${literal}']
`;
    const s = settingsFromYaml(yaml, {
      env: { REG_HOST: 'registry.eu.example.com' },
    });
    expect(s.registries[0].host).toBe('registry.eu.example.com');
    expect(s.tenants.t.allowedHosts).toEqual(['${literal}']);
  });

  it('invalid YAML and wrong types are typed errors', () => {
    expectConfigError(
      () => settingsFromYaml('residency: [unclosed'),
      'config_invalid',
    );
    expectConfigError(
      () => load({ boundaries: 'eu' }),
      'config_invalid',
      'residency.boundaries',
    );
    expectConfigError(
      () =>
        load({
          registries: [{ host: 'a.example.com', region: 'Not A Region' }],
        }),
      'config_invalid',
    );
  });

  it('property: arbitrary configuration objects never throw an untyped error', () => {
    const leaf = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(keys().eu.publicKeyPem),
    );
    const value = fc.letrec(tie => ({
      v: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('v'), { maxLength: 3 }),
        fc.dictionary(
          fc.constantFrom(
            'id',
            'host',
            'region',
            'keys',
            'registries',
            'boundaries',
            'tenants',
            'boundary',
            'require',
            'publicKey',
            'rules',
            'limits',
            'layouts',
            'path',
            'x',
          ),
          tie('v'),
          { maxKeys: 4 },
        ),
      ),
    })).v;
    fc.assert(
      fc.property(value, v => {
        const e = thrown(() => load(v));
        expect(e === undefined || e instanceof ResidencyConfigError).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
