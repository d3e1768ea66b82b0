import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../cli';
import { memoryIo } from '../io';

function pem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString();
}

const EU_KEY_ID =
  'awskms:///arn:aws-eusc:kms:eusc-de-east-1:111122223333:key/0c7a1b2c';

/** `residency config check` against the real engine's configuration loader. */
describe('residency config check', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'residency-cc-'));
    writeFileSync(join(dir, 'eu.pub'), pem());
    writeFileSync(join(dir, 'plain.pub'), pem());
    writeFileSync(join(dir, 'garbage.pub'), 'not a key');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function config(name: string, keys: string, extra = '') {
    writeFileSync(
      join(dir, name),
      `residency:
  boundaries:
    eu-sovereign: [eusc-de-east-1]
  registries:
    - host: registry.eu.example.com
      region: eusc-de-east-1
  keys:
${keys}
  tenants:
    acme-eu:
      boundary: eu-sovereign
      require: [signature, provenance]
${extra}`,
    );
    return name;
  }

  async function cli(...args: string[]) {
    const io = memoryIo({ cwd: dir });
    const code = await run(['config', 'check', ...args], { io });
    return { code, out: io.out, err: io.err };
  }

  const goodKeys = `    - id: ${EU_KEY_ID}
      publicKeyFile: eu.pub
    - id: plain-ci-key
      publicKeyFile: plain.pub
      region: eu-central-1
`;

  it('lists each key with its derived region and where it came from, and each tenant', async () => {
    config('good.yaml', goodKeys);
    const r = await cli('good.yaml');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      new RegExp(
        `${EU_KEY_ID.replace(/[/.]/g, '\\$&')}\\s+eusc-de-east-1\\s+key id`,
      ),
    );
    expect(r.out).toMatch(/plain-ci-key\s+eu-central-1\s+explicit/);
    expect(r.out).toContain('boundary           eu-sovereign [eusc-de-east-1]');
    expect(r.out).toContain('requires           signature, provenance');
    expect(r.err).toBe('');
  });

  it('--json lists keys, regions and tenants', async () => {
    config('good.yaml', goodKeys);
    const r = await cli('good.yaml', '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.ok).toBe(true);
    expect(doc.keys.map((k: any) => [k.id, k.region, k.regionSource])).toEqual([
      [EU_KEY_ID, 'eusc-de-east-1', 'id'],
      ['plain-ci-key', 'eu-central-1', 'explicit'],
    ]);
    expect(doc.keys[0].fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(doc.keys[0].publicKeyPem).toBeUndefined();
    expect(doc.tenants['acme-eu']).toMatchObject({
      boundary: 'eu-sovereign',
      regions: ['eusc-de-east-1'],
      require: ['signature', 'provenance'],
    });
  });

  it.each([
    [
      'unpinned KMS alias without a region',
      '    - id: awskms:///alias/release\n      publicKeyFile: eu.pub\n',
      'residency.keys[0]',
    ],
    [
      'explicit region contradicting the ARN',
      `    - id: ${EU_KEY_ID}\n      publicKeyFile: eu.pub\n      region: eu-west-1\n`,
      'residency.keys[0]',
    ],
    [
      'the same public key twice',
      `    - id: ${EU_KEY_ID}\n      publicKeyFile: eu.pub\n    - id: other\n      publicKeyFile: eu.pub\n      region: eusc-de-east-1\n`,
      'residency.keys[1]',
    ],
    [
      'an unreadable PEM',
      '    - id: k\n      publicKeyFile: garbage.pub\n      region: eusc-de-east-1\n',
      'residency.keys[0]',
    ],
  ])('%s: exit 3 naming the entry', async (_name, keys, entry) => {
    config('bad.yaml', keys);
    const r = await cli('bad.yaml');
    expect(r.code).toBe(3);
    expect(r.err).toContain(entry);
    expect(r.err).toMatch(/^error: invalid configuration in /);
    expect(r.err).toContain('hint: ');
    expect(r.out).toBe('');
  });

  it('an unknown boundary: exit 3 naming the tenant, code in --json', async () => {
    config('bad.yaml', goodKeys, '    other:\n      boundary: us-only\n');
    const r = await cli('bad.yaml', '--json');
    expect(r.code).toBe(3);
    const doc = JSON.parse(r.out);
    expect(doc.error.code).toBe('boundary_unknown');
    expect(doc.error.message).toContain('residency.tenants.other');
  });

  it('issue 15 item 10: reports every error, not only the first', async () => {
    config(
      'many.yaml',
      `    - id: awskms:///alias/x
      publicKeyFile: eu.pub
    - id: plain-ci-key
      publicKeyFile: garbage.pub
      region: eu-central-1
      revokd: true
`,
      '    other:\n      boundary: us-only\n',
    );
    const r = await cli('many.yaml');
    expect(r.code).toBe(3);
    expect(r.err).toContain('4 configuration errors');
    for (const entry of [
      'residency.keys[1].revokd',
      'residency.keys[0] (awskms:///alias/x)',
      'residency.keys[1] (plain-ci-key)',
      'residency.tenants.other',
    ]) {
      expect(r.err).toContain(entry);
    }
  });

  it('issue 15 item 10: an unknown flag is named as such (not a missing option)', async () => {
    const r = await cli('--bogus', 'good.yaml');
    expect(r.code).toBe(3);
    expect(r.err).toContain("unknown option '--bogus'");
    const io = memoryIo({ cwd: dir });
    expect(await run(['verify', '--bogus', 'x'], { io })).toBe(3);
    expect(io.err).toContain("unknown option '--bogus'");
    expect(io.err).not.toContain('required option');
    const ve = memoryIo({ cwd: dir });
    expect(
      await run(['verify-evidence', 'x.json', '--bogus'], { io: ve }),
    ).toBe(3);
    expect(ve.err).toContain("unknown option '--bogus'");
  });

  it('a file without a residency section exits 3', async () => {
    writeFileSync(join(dir, 'app-only.yaml'), 'app:\n  title: x\n');
    const r = await cli('app-only.yaml');
    expect(r.code).toBe(3);
    expect(r.err).toContain("no 'residency:' section");
  });

  it('merges several files in order', async () => {
    config('good.yaml', goodKeys);
    writeFileSync(
      join(dir, 'more.yaml'),
      'residency:\n  tenants:\n    acme-de:\n      boundary: eu-sovereign\n',
    );
    const r = await cli('good.yaml', 'more.yaml', '--json');
    expect(r.code).toBe(0);
    expect(Object.keys(JSON.parse(r.out).tenants).sort()).toEqual([
      'acme-de',
      'acme-eu',
    ]);
  });
});
