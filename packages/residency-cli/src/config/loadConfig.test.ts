import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { CliError } from '../errors';
import { configReaderFromObject } from '@residency-dev/plugin-residency-node';
import { loadConfigFiles, mergeConfig } from './loadConfig';

describe('app-config loading', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'residency-cfg-'));
    mkdirSync(join(dir, 'prod'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function file(name: string, text: string) {
    writeFileSync(join(dir, name), text);
    return name;
  }

  function load(names: string[], env: Record<string, string> = {}) {
    return loadConfigFiles(names, { cwd: dir, env });
  }

  async function loadError(
    names: string[],
    env: Record<string, string> = {},
  ): Promise<CliError> {
    try {
      await load(names, env);
    } catch (e) {
      expect(e).toBeInstanceOf(CliError);
      return e as CliError;
    }
    throw new Error('expected a CliError');
  }

  it('substitutes ${VAR} and keeps $${ as a literal', async () => {
    file('subst.yaml', 'v: a-${X}-$${Y}-${X}\n');
    expect((await load(['subst.yaml'], { X: '1' })).data).toEqual({
      v: 'a-1-${Y}-1',
    });
  });

  it('an unset variable fails naming the file, key and variable', async () => {
    file(
      'env.yaml',
      'residency:\n  registries:\n    - host: r\n      credentials: { token: "${REG_TOKEN}" }\n',
    );
    const e = await loadError(['env.yaml']);
    expect(e.message).toContain(
      "at 'residency.registries[0].credentials.token'",
    );
    expect(e.message).toContain('REG_TOKEN is not set');
    expect(e.exitCode).toBe(3);
    expect((await load(['env.yaml'], { REG_TOKEN: 's3cret' })).data).toEqual({
      residency: {
        registries: [{ host: 'r', credentials: { token: 's3cret' } }],
      },
    });
  });

  it('supports $env, $file and $include directives as the backend does', async () => {
    file('secret.txt', 'from-file');
    file('dir.yaml', 'a:\n  b: { $env: TOKEN }\n  c: { $file: secret.txt }\n');
    expect((await load(['dir.yaml'], { TOKEN: 't' })).data).toEqual({
      a: { b: 't', c: 'from-file' },
    });
    // Was: "unsupported directive $include" (the CLI's copy disagreed with the backend).
    file('inc.yaml', 'x: { y: 1 }\n');
    file('with-include.yaml', 'a:\n  b: { $include: inc.yaml#x }\n');
    expect((await load(['with-include.yaml'])).data).toEqual({
      a: { b: { y: 1 } },
    });
    file('bad-dir.yaml', 'a:\n  b: { $include: x.yaml }\n');
    expect((await loadError(['bad-dir.yaml'])).message).toContain('x.yaml');
    expect((await loadError(['dir.yaml'])).message).toContain(
      'environment variable TOKEN is not set',
    );
  });

  it('merges files like Backstage: objects deep, arrays and scalars replaced, later wins', async () => {
    file(
      'base.yaml',
      'residency:\n  boundaries: { eu: [a] }\n  tenants: { t1: { boundary: eu } }\n  registries: [{ host: one }]\n',
    );
    file(
      'prod/override.yaml',
      'residency:\n  tenants: { t2: { boundary: eu } }\n  registries: [{ host: two }]\n',
    );
    const loaded = await load(['base.yaml', 'prod/override.yaml']);
    expect(loaded.data).toEqual({
      residency: {
        boundaries: { eu: ['a'] },
        tenants: { t1: { boundary: 'eu' }, t2: { boundary: 'eu' } },
        registries: [{ host: 'two' }],
      },
    });
    expect(loaded.files).toEqual([
      join(dir, 'base.yaml'),
      join(dir, 'prod/override.yaml'),
    ]);
    expect(loaded.baseDir).toBe(dir);
    expect(mergeConfig({ a: { b: 1 } }, { a: 'x' })).toEqual({ a: 'x' });
  });

  it('resolves key files and layout paths relative to the file that names them', async () => {
    file(
      'prod/keys.yaml',
      'residency:\n  keys: [{ id: k, publicKeyFile: eu.pub }]\n  layouts: [{ path: ./oci }]\n  other: { path: rel }\n',
    );
    const data = (await load(['prod/keys.yaml'])).data as any;
    expect(data.residency.keys[0].publicKeyFile).toBe(
      join(dir, 'prod', 'eu.pub'),
    );
    expect(data.residency.layouts[0].path).toBe(join(dir, 'prod', 'oci'));
  });

  it.each([
    ['syntax.yaml', 'residency:\n  keys: [\n', 'not valid YAML'],
    ['dupe.yaml', 'residency: {}\nresidency: {}\n', 'not valid YAML'],
    ['list.yaml', '- a\n- b\n', 'the top level must be a mapping'],
    [
      'alias-bomb.yaml',
      `a: &a [x, x, x, x, x, x, x, x, x, x]\n${Array.from(
        { length: 12 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(
            98 + i,
          )} [${Array(10)
            .fill(`*${String.fromCharCode(97 + i)}`)
            .join(', ')}]`,
      ).join('\n')}\n`,
      'not valid YAML',
    ],
  ])('%s is rejected: %s', async (name, text, message) => {
    file(name, text);
    const e = await loadError([name]);
    expect(e.message).toContain(message);
    expect(e.exitCode).toBe(3);
  });

  it('an unterminated ${ stays literal, as in the backend (the copies disagreed)', async () => {
    file('unterminated.yaml', 'a: "${X"\n');
    expect((await load(['unterminated.yaml'])).data).toEqual({ a: '${X' });
  });

  it('a missing file names the path', async () => {
    expect((await loadError(['nope.yaml'])).message).toContain(
      `cannot read config file ${join(dir, 'nope.yaml')}`,
    );
  });

  it('an empty file is an empty configuration', async () => {
    file('empty.yaml', '');
    expect((await load(['empty.yaml'])).data).toEqual({});
  });
});

describe('the configuration reader (Backstage ConfigReader, shared with the backend)', () => {
  const reader = configReaderFromObject(
    {
      residency: {
        keys: [{ id: 'k', revoked: 'true' }, 'oops'],
        limits: { imagesPerEntity: '20', concurrency: 'x' },
        regions: ['a', 1],
      },
    },
    { env: {} },
  );

  it('reads dotted keys and arrays of objects', () => {
    const r = reader.getOptionalConfig('residency')!;
    expect(() => r.getOptionalString('keys')).toThrow(
      "Invalid type in config for key 'residency.keys'",
    );
    expect(reader.getOptionalNumber('residency.limits.imagesPerEntity')).toBe(
      20,
    );
    expect(reader.getOptionalString('residency.missing')).toBeUndefined();
    expect(r.keys()).toEqual(['keys', 'limits', 'regions']);
  });

  it('type errors name the full key path', () => {
    const r = reader.getOptionalConfig('residency')!;
    expect(() => r.getOptionalConfigArray('keys')).toThrow(
      "Invalid type in config for key 'residency.keys[1]'",
    );
    expect(() => r.getOptionalNumber('limits.concurrency')).toThrow(
      "'residency.limits.concurrency'",
    );
    expect(() => r.getOptionalStringArray('regions')).toThrow(
      "'residency.regions[1]'",
    );
    expect(() => r.getString('nothing')).toThrow(
      "Missing required config value at 'residency.nothing'",
    );
  });

  it('accepts "true"/"false" strings as booleans (values from ${ENV})', () => {
    const flags = configReaderFromObject(
      { a: 'true', b: 'false', c: 'maybe', d: true },
      { env: {} },
    );
    expect(flags.getOptionalBoolean('a')).toBe(true);
    expect(flags.getOptionalBoolean('b')).toBe(false);
    expect(flags.getOptionalBoolean('d')).toBe(true);
    expect(() => flags.getOptionalBoolean('c')).toThrow("'c'");
  });
});

describe('property: the configuration loader on arbitrary files (issue 12, Also)', () => {
  it('any text loads or fails with a CliError (exit 3 for YAML/config faults), never an untyped error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'residency-cfg-prop-'));
    const fragment = fc.constantFrom(
      'residency:',
      '  keys:',
      '    - id: ${X}',
      '  a: &a [1, 2]',
      '  b: *a',
      '  c: { $file: nope.txt }',
      '  d: { $env: Y }',
      '  e: { $include: inc.yaml }',
      '  tenants: {t: {boundary: eu}}',
      '- item',
      'x: "unterminated',
      'dup: 1',
      'dup: 2',
      '  ? complex',
      '---',
      '%YAML 1.2',
      '',
    );
    const text = fc.oneof(
      fc.array(fragment, { maxLength: 8 }).map(l => l.join('\n')),
      fc.string({ maxLength: 200 }),
    );
    let n = 0;
    try {
      await fc.assert(
        fc.asyncProperty(text, async t => {
          const name = `f${n++}.yaml`;
          writeFileSync(join(dir, name), t);
          // Either a loaded object or a typed CLI error (exit 2 or 3), never
          // anything else.
          const outcome = await loadConfigFiles([name], { cwd: dir, env: {} })
            .then(loaded => typeof loaded.data)
            .catch(e =>
              e instanceof CliError ? `exit ${e.exitCode}` : String(e),
            );
          expect(['object', 'exit 2', 'exit 3']).toContain(outcome);
        }),
        { numRuns: 150 },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
