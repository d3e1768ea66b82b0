/*
 * The sigstore-conformance `bundle-verify` suite (copied byte for byte, see
 * src/__testUtils__/vectors/sigstore-conformance/SOURCE.md) through `verify-bundle`,
 * i.e. the engine's Sigstore code path: every case without `_fail` verifies, every
 * `_fail` case is refused, and no library text reaches the output. Identity policy
 * is exercised elsewhere; here any identity and issuer are accepted (whole-string
 * `.*`), so what is tested is parsing, chains, logs, timestamps and signatures.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../cli';
import { memoryIo } from '../io';

const ROOT = join(
  __dirname,
  '..',
  '__testUtils__',
  'vectors',
  'sigstore-conformance',
  'bundle-verify',
);
const cases = readdirSync(ROOT).filter(c =>
  existsSync(join(ROOT, c, 'bundle.sigstore.json')),
);

describe('sigstore-conformance bundle-verify through verify-bundle', () => {
  it('has the suite', () => {
    expect(cases.length).toBeGreaterThan(60);
  });

  it.each(cases)('%s', async name => {
    const dir = join(ROOT, name);
    const artifact = existsSync(join(dir, 'artifact'))
      ? join(dir, 'artifact')
      : join(ROOT, 'a.txt');
    const args = ['verify-bundle', join(dir, 'bundle.sigstore.json')];
    args.push('--artifact', artifact, '--json');
    if (existsSync(join(dir, 'trusted_root.json')))
      args.push('--trusted-root', join(dir, 'trusted_root.json'));
    if (existsSync(join(dir, 'key.pub')))
      args.push('--key', join(dir, 'key.pub'));
    else
      args.push(
        '--certificate-identity-regexp',
        '.*',
        '--certificate-oidc-issuer-regexp',
        '.*',
      );
    const io = memoryIo({ cwd: dir });
    let code: number;
    try {
      code = await run(args, { io });
    } catch {
      code = 2;
    }
    expect({ verified: code === 0, out: io.out.slice(0, 300) }).toMatchObject({
      verified: !name.endsWith('_fail'),
    });
    expect(`${io.out}${io.err}`).not.toMatch(
      /TypeError|Cannot read properties|reading '|at .*\.[jt]s:\d+/,
    );
  });
});
