import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dsseBundle, statement, testKey } from './__testUtils__/sigstore';

const BIN = resolve(__dirname, '..', 'bin', 'residency');

/** The real launcher as a child process: real argv, real exit codes, real streams. */
function residency(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('bin/residency (child process)', () => {
  let dir: string;
  const key = testKey();
  const artifact = Buffer.from('artifact');
  const hex = createHash('sha256').update(artifact).digest('hex');

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'residency-bin-'));
    writeFileSync(join(dir, 'key.pub'), key.publicPem);
    writeFileSync(
      join(dir, 'att.json'),
      JSON.stringify(
        dsseBundle(key, statement([{ name: 'a', digest: { sha256: hex } }])),
      ),
    );
    writeFileSync(
      join(dir, 'bad.yaml'),
      'residency:\n  keys:\n    - id: awskms:///alias/x\n      publicKey: x\n',
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--help lists every command and the exit codes (exit 0)', () => {
    const r = residency(['--help'], dir);
    expect(r.code).toBe(0);
    for (const c of ['verify ', 'verify-evidence', 'verify-bundle', 'config'])
      expect(r.out).toContain(c);
    expect(r.out).toContain('3  usage or configuration error');
  });

  it('every command has help', () => {
    for (const c of [
      ['verify'],
      ['verify-evidence'],
      ['verify-bundle'],
      ['config', 'check'],
    ]) {
      const r = residency([...c, '--help'], dir);
      expect(r.code).toBe(0);
      expect(r.out).toContain(`Usage: residency ${c.join(' ')}`);
    }
  });

  it('verify-bundle verifies a DSSE attestation (exit 0) and rejects the wrong digest (exit 1)', () => {
    const ok = residency(
      [
        'verify-bundle',
        'att.json',
        '--digest',
        `sha256:${hex}`,
        '--key',
        'key.pub',
      ],
      dir,
    );
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('RESULT: Verified OK');
    const bad = residency(
      [
        'verify-bundle',
        'att.json',
        '--digest',
        `sha256:${'0'.repeat(64)}`,
        '--key',
        'key.pub',
      ],
      dir,
    );
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('subject_mismatch');
  });

  it('a configuration error exits 3 with the entry and no stack trace', () => {
    const r = residency(['config', 'check', 'bad.yaml'], dir);
    expect(r.code).toBe(3);
    expect(r.err).toContain('residency.keys[0]');
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('no command shows help on stderr and exits 3; help <command> exits 0', () => {
    const none = residency([], dir);
    expect(none.code).toBe(3);
    expect(none.err).toContain('Usage: residency');
    const group = residency(['config'], dir);
    expect(group.code).toBe(3);
    expect(group.err).toContain('check [options] <file...>');
    const help = residency(['help', 'verify'], dir);
    expect(help.code).toBe(0);
    expect(help.out).toContain('--entity-file');
  });

  it('an unknown command exits 3', () => {
    const r = residency(['verfiy'], dir);
    expect(r.code).toBe(3);
    expect(r.err).toContain("unknown command 'verfiy'");
  });

  it('verify with a missing environment variable exits 3', () => {
    writeFileSync(
      join(dir, 'env.yaml'),
      'residency:\n  registries:\n    - host: r.example.com\n      region: x\n      credentials: { token: "${TOKEN}" }\n',
    );
    const r = residency(
      ['verify', 'r.example.com/a:1', '-c', 'env.yaml', '-t', 'x'],
      dir,
    );
    expect(r.code).toBe(3);
    expect(r.err).toContain('environment variable TOKEN is not set');
  });
});
