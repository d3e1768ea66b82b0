import { execFileSync } from 'node:child_process';
import { createHash, ECDH } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ConfigReader as BackstageConfigReader } from '@backstage/config';
import { generateKey } from '@residency-dev/signing-kit';
import {
  configReaderFromObject,
  findUnsetVariables,
  identityMatcher,
  loadResidencySettings,
  readRegularFile,
  regionFromKeyId,
  settingsFromYaml,
} from '.';
import { ResidencyConfigError } from '../errors';
import { residencyConfig, keys, EU_KEY_ID } from '../__testUtils__/world';

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

describe('property: ${VAR} substitution (issue 12, Also)', () => {
  it('a value fails to load exactly when findUnsetVariables names an unset variable, and the error names it', () => {
    const name = fc.constantFrom('A', 'B', 'C');
    const part = fc.oneof(
      fc.string({ maxLength: 5 }).filter(t => !t.includes('$')),
      name.map(n => `\${${n}}`),
      fc
        .tuple(
          name,
          fc.string({ maxLength: 3 }).filter(t => !/[{}$]/.test(t)),
        )
        .map(([n, fb]) => `\${${n}:-${fb}}`),
      name.map(n => `$\${${n}}`),
    );
    const value = fc.array(part, { maxLength: 4 }).map(p => p.join(''));
    const env = fc.record(
      { A: fc.constantFrom('a', ''), B: fc.constant('b') },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(value, env, (v, e) => {
        const unset = findUnsetVariables({ t: v }, e);
        const err = thrown(() => configReaderFromObject({ t: v }, { env: e }));
        expect(err === undefined || err instanceof ResidencyConfigError).toBe(
          true,
        );
        expect((err as Error | undefined)?.message).toBe(
          unset.length === 0
            ? undefined
            : `t: environment variable ${unset[0].name} is not set`,
        );
      }),
      { numRuns: 500 },
    );
  });
});

describe('configuration that lies quietly (issue 12)', () => {
  it('item 5: a backtracking tenant subjectRegExp is matched in linear time; RE2-incompatible patterns are refused at load', () => {
    const cfg = residencyConfig({ trustedRoots: [{ publicGood: true }] });
    (cfg.tenants as any)['acme-eu'].identities = [
      {
        subjectRegExp: '(a+)+$',
        issuer: 'https://issuer.example',
        region: 'eusc-de-east-1',
      },
    ];
    const s = load(cfg);
    const pattern = s.tenants['acme-eu'].identities![0].subjectRegExp!;
    // 40 a's and a b: exponential for a backtracking engine, linear for RE2.
    expect(identityMatcher(pattern).test(`${'a'.repeat(40)}b`)).toBe(false);
    expect(identityMatcher(pattern).test('aaaa')).toBe(true);
    // anchored: the whole subject must match
    expect(
      identityMatcher('https://github.com/acme/.*').test(
        'x https://github.com/acme/y',
      ),
    ).toBe(false);
    (cfg.tenants as any)['acme-eu'].identities[0].subjectRegExp = '(a)\\1';
    expectConfigError(
      () => load(cfg),
      'config_invalid',
      'residency.tenants.acme-eu.identities[0].subjectRegExp',
    );
    (cfg.tenants as any)['acme-eu'].identities[0].subjectRegExp = '(?=a)a';
    expectConfigError(() => load(cfg), 'config_invalid', 'RE2');
  });

  it('item 7: publicKeyFile and trustedRoots[].path must be regular files under the cap (/dev/zero, a FIFO, a directory, a huge file)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'residency-cfg-files-'));
    const fifo = join(dir, 'key.fifo');
    execFileSync('mkfifo', [fifo]);
    const big = join(dir, 'big.pem');
    writeFileSync(big, Buffer.alloc(65 * 1024, 0x41));
    for (const file of ['/dev/zero', fifo, dir, big]) {
      expectConfigError(
        () =>
          load(
            residencyConfig({
              keys: [
                { id: 'plain', region: 'eusc-de-east-1', publicKeyFile: file },
              ],
            }),
          ),
        'key_unreadable',
        'residency.keys[0] (plain)',
      );
      expectConfigError(
        () =>
          load(residencyConfig({ trustedRoots: [{ name: 'r', path: file }] })),
        'config_invalid',
        'residency.trustedRoots[0]',
      );
    }
    expect(() => readRegularFile('/dev/zero', 10)).toThrow(
      'not a regular file',
    );
  });

  it('readRegularFile reads exactly the file, growing its buffer as needed and never past the cap', () => {
    const dir = mkdtempSync(join(tmpdir(), 'residency-read-'));
    const file = join(dir, 'big.bin');
    const bytes = Buffer.from(
      Array.from({ length: 100_000 }, (_, i) => i % 251),
    );
    writeFileSync(file, bytes);
    expect(readRegularFile(file, 1 << 30).equals(bytes)).toBe(true);
    expect(readRegularFile(file, 100_000).equals(bytes)).toBe(true);
    expect(() => readRegularFile(file, 99_999)).toThrow('larger than 99999');
  });

  // (npm test runs on Linux only.) /proc files are regular files whose stat size is 0: the content
  // arrives only while reading, as with a file that grows during the read.
  it('readRegularFile grows past a stat size of 0 (/proc) and still stops at the cap', () => {
    const smaps = readRegularFile('/proc/self/smaps', 1 << 26).toString();
    expect(smaps.length).toBeGreaterThan(8192);
    expect(smaps.split('\n')[0]).toMatch(/^[0-9a-f]+-[0-9a-f]+ /);
    expect(() => readRegularFile('/proc/self/smaps', 6000)).toThrow(
      'larger than 6000',
    );
  });

  it('item 10: the same EC key compressed and uncompressed is one key (fingerprint of the canonical SPKI)', () => {
    const der = keys().eu.publicKey.export({ type: 'spki', format: 'der' });
    const compressed = ECDH.convertKey(
      der.subarray(der.length - 65),
      'prime256v1',
      undefined,
      'hex',
      'compressed',
    ) as string;
    const cder = Buffer.concat([
      Buffer.from(
        '3039301306072a8648ce3d020106082a8648ce3d030107032200',
        'hex',
      ),
      Buffer.from(compressed, 'hex'),
    ]);
    const cpem = `-----BEGIN PUBLIC KEY-----\n${cder.toString(
      'base64',
    )}\n-----END PUBLIC KEY-----\n`;
    // Alone, the compressed form loads with the fingerprint of the uncompressed key.
    const alone = load(
      residencyConfig({
        keys: [{ id: 'plain-c', region: 'eusc-de-east-1', publicKey: cpem }],
      }),
    );
    expect(alone.keys[0].fingerprint).toBe(
      createHash('sha256').update(der).digest('hex'),
    );
    // Together with the uncompressed form under another id and region: one key, refused.
    expectConfigError(
      () =>
        load(
          residencyConfig({
            keys: [
              { id: EU_KEY_ID, publicKey: keys().eu.publicKeyPem },
              { id: 'plain-us', region: 'us-east-1', publicKey: cpem },
            ],
          }),
        ),
      'key_duplicate',
      `same public key as ${EU_KEY_ID}`,
    );
  });

  it.each([
    ['awskms:///arn:aws:kms:eusc-de-east-1:111122223333:key/x', 'partition'],
    ['awskms:///arn:aws-eusc:kms:eu-west-1:111122223333:key/x', 'partition'],
    ['awskms:///arn:aws-us-gov:kms:us-east-1:111122223333:key/x', 'partition'],
    ['arn:aws:kms:cn-north-1:111122223333:key/x', 'partition'],
    [
      'awskms://kms.us-east-1.amazonaws.com/arn:aws-eusc:kms:eusc-de-east-1:111122223333:key/x',
      'endpoint',
    ],
  ])(
    'item 11: %s contradicts itself and is refused even with an explicit region',
    (id, why) => {
      expect(regionFromKeyId(id)).toMatchObject({
        pinned: false,
        contradiction: true,
      });
      expectConfigError(
        () =>
          load(
            residencyConfig({
              keys: [
                {
                  id,
                  region: 'eusc-de-east-1',
                  publicKey: keys().eu.publicKeyPem,
                },
              ],
            }),
          ),
        'key_region_contradiction',
        why,
      );
    },
  );

  it('item 11: schemes are case-insensitive, so AWSKMS:// cannot bypass the region check', () => {
    const id =
      'AWSKMS:///arn:aws:kms:us-east-1:111122223333:key/0c7a0000-1111-2222-3333-444455556666';
    expect(regionFromKeyId(id)).toEqual({ pinned: true, region: 'us-east-1' });
    expect(
      regionFromKeyId(
        'GcpKms://projects/p/locations/europe-west3/keyRings/r/cryptoKeys/k',
      ),
    ).toEqual({
      pinned: true,
      region: 'europe-west3',
    });
    expectConfigError(
      () =>
        load(
          residencyConfig({
            keys: [
              {
                id,
                region: 'eusc-de-east-1',
                publicKey: keys().eu.publicKeyPem,
              },
            ],
          }),
        ),
      'key_region_contradiction',
    );
  });

  it('an unset ${VAR} is a configuration error naming the path (the portal and the CI gate agree); ${VAR:-fallback} works', () => {
    const cfg = residencyConfig({
      registries: [
        {
          host: 'registry.eu.example.com',
          region: 'eusc-de-east-1',
          credentials: { token: '${REG_TOKEN}' },
        },
      ],
    });
    expectConfigError(
      () => load(cfg),
      'config_invalid',
      'residency.registries[0].credentials.token: environment variable REG_TOKEN is not set',
    );
    (cfg.registries as any)[0].credentials.token = '${REG_TOKEN:-fallback}';
    expect(load(cfg).registries[0].credentials).toEqual({ token: 'fallback' });
    expect(
      findUnsetVariables(
        { a: ['${X}', { $env: 'Y' }, '$${Z}', '${W:-w}'] },
        {},
      ),
    ).toEqual([
      { path: 'a[0]', name: 'X' },
      { path: 'a[1]', name: 'Y' },
    ]);
  });

  it('item 8: a YAML alias bomb is a bounded configuration error', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      lines.push(`${cur}: &${cur} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    }
    expectConfigError(
      () => settingsFromYaml(`${lines.join('\n')}\nresidency: {}\n`),
      'config_invalid',
      'not valid YAML',
    );
  });
});

describe('unknown keys (issue 12 item 9)', () => {
  it('a typo such as revokd: true is an error naming the path, and every unknown key is named', () => {
    const cfg = residencyConfig({
      keys: [
        { id: EU_KEY_ID, publicKey: keys().eu.publicKeyPem, revokd: true },
      ],
      registrys: [],
    });
    let err: unknown;
    try {
      load(cfg);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ResidencyConfigError);
    expect((err as ResidencyConfigError).code).toBe('config_invalid');
    expect((err as Error).message).toContain('residency.keys[0].revokd');
    expect((err as Error).message).toContain('residency.registrys');
    expect((err as ResidencyConfigError).path).toBe('residency.keys[0].revokd');
  });

  it('tenant and boundary names are free; backend keys are known', () => {
    const cfg = residencyConfig({
      schedule: { frequency: { minutes: 5 }, timeout: { minutes: 1 } },
      revalidateAfter: '1h',
      roles: { auditors: ['group:default/audit'] },
      limits: { imagesPerEntity: 5, refreshBatchSize: 10 },
    });
    expect(load(cfg).limits.imagesPerEntity).toBe(5);
  });
});

describe('every error at once (issue 15 item 10)', () => {
  it('a configuration with several broken entries names each of them', () => {
    const cfg = residencyConfig({
      registries: [{ host: 'https://bad', region: 'eusc-de-east-1' }],
      keys: [
        { id: 'awskms:///alias/x', publicKey: keys().eu.publicKeyPem },
        { id: EU_KEY_ID, publicKey: 'not a pem' },
      ],
      limits: { imagesPerEntity: 0 },
      typo: true,
    });
    let err: unknown;
    try {
      load(cfg);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ResidencyConfigError);
    const e = err as ResidencyConfigError;
    expect(e.errors.map(x => x.code)).toEqual([
      'config_invalid',
      'registry_invalid',
      'key_region_unpinned',
      'key_unreadable',
      'config_invalid',
    ]);
    expect(e.message).toContain('5 configuration errors');
    for (const path of [
      'residency.typo',
      'residency.registries[0]',
      'residency.keys[0]',
      'residency.keys[1]',
      'residency.limits.imagesPerEntity',
    ]) {
      expect(e.message).toContain(path);
    }
  });
});
