import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError } from '../errors';
import { loadConfigFiles, mergeConfig, substituteEnv } from './loadConfig';
import { ConfigTypeError, ObjectConfigReader } from './ObjectConfigReader';

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

  function loadError(
    names: string[],
    env: Record<string, string> = {},
  ): CliError {
    try {
      load(names, env);
    } catch (e) {
      expect(e).toBeInstanceOf(CliError);
      return e as CliError;
    }
    throw new Error('expected a CliError');
  }

  it('substitutes ${VAR} and keeps $${ as a literal', () => {
    expect(
      substituteEnv('a-${X}-$${Y}-${X}', { X: '1' }, { file: 'f', path: 'p' }),
    ).toBe('a-1-${Y}-1');
  });

  it('an unset variable fails naming the file, key and variable', () => {
    file(
      'env.yaml',
      'residency:\n  registries:\n    - host: r\n      credentials: { token: "${REG_TOKEN}" }\n',
    );
    const e = loadError(['env.yaml']);
    expect(e.message).toContain(
      "at 'residency.registries[0].credentials.token'",
    );
    expect(e.message).toContain('REG_TOKEN is not set');
    expect(e.exitCode).toBe(3);
    expect(load(['env.yaml'], { REG_TOKEN: 's3cret' }).data).toEqual({
      residency: {
        registries: [{ host: 'r', credentials: { token: 's3cret' } }],
      },
    });
  });

  it('supports $env and $file directives', () => {
    file('secret.txt', 'from-file');
    file('dir.yaml', 'a:\n  b: { $env: TOKEN }\n  c: { $file: secret.txt }\n');
    expect(load(['dir.yaml'], { TOKEN: 't' }).data).toEqual({
      a: { b: 't', c: 'from-file' },
    });
    file('bad-dir.yaml', 'a:\n  b: { $include: x.yaml }\n');
    expect(loadError(['bad-dir.yaml']).message).toContain(
      'unsupported directive $include',
    );
  });

  it('merges files like Backstage: objects deep, arrays and scalars replaced, later wins', () => {
    file(
      'base.yaml',
      'residency:\n  boundaries: { eu: [a] }\n  tenants: { t1: { boundary: eu } }\n  registries: [{ host: one }]\n',
    );
    file(
      'prod/override.yaml',
      'residency:\n  tenants: { t2: { boundary: eu } }\n  registries: [{ host: two }]\n',
    );
    const loaded = load(['base.yaml', 'prod/override.yaml']);
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

  it('resolves key files and layout paths relative to the file that names them', () => {
    file(
      'prod/keys.yaml',
      'residency:\n  keys: [{ id: k, publicKeyFile: eu.pub }]\n  layouts: [{ path: ./oci }]\n  other: { path: rel }\n',
    );
    const data = load(['prod/keys.yaml']).data as any;
    expect(data.residency.keys[0].publicKeyFile).toBe(
      join(dir, 'prod', 'eu.pub'),
    );
    expect(data.residency.layouts[0].path).toBe(join(dir, 'prod', 'oci'));
  });

  it.each([
    ['syntax.yaml', 'residency:\n  keys: [\n', 'not valid YAML'],
    ['dupe.yaml', 'residency: {}\nresidency: {}\n', 'not valid YAML'],
    ['list.yaml', '- a\n- b\n', 'the top level must be a mapping'],
    ['unterminated.yaml', 'a: "${X"\n', "unterminated '${'"],
  ])('%s is rejected: %s', (name, text, message) => {
    file(name, text);
    expect(loadError([name]).message).toContain(message);
  });

  it('a missing file names the path', () => {
    expect(loadError(['nope.yaml']).message).toContain(
      `cannot read config file ${join(dir, 'nope.yaml')}`,
    );
  });

  it('an empty file is an empty configuration', () => {
    file('empty.yaml', '');
    expect(load(['empty.yaml']).data).toEqual({});
  });
});

describe('ObjectConfigReader', () => {
  const reader = new ObjectConfigReader({
    residency: {
      keys: [{ id: 'k', revoked: 'true' }, 'oops'],
      limits: { imagesPerEntity: '20', concurrency: 'x' },
      regions: ['a', 1],
    },
  });

  it('reads dotted keys and arrays of objects', () => {
    const r = reader.getOptionalConfig('residency')!;
    expect(() => r.getOptionalString('keys')).toThrow(
      "'residency.keys': got array, wanted string",
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
      "Invalid type in config for key 'residency.keys[1]': got string, wanted object",
    );
    expect(() => r.getOptionalNumber('limits.concurrency')).toThrow(
      ConfigTypeError,
    );
    expect(() => r.getOptionalStringArray('regions')).toThrow(
      "'residency.regions[1]'",
    );
    expect(() => r.getString('nothing')).toThrow(
      "Missing required config value at 'residency.nothing'",
    );
  });

  it('accepts "true"/"false" strings as booleans (values from ${ENV})', () => {
    const flags = new ObjectConfigReader({
      a: 'true',
      b: 'false',
      c: 'yes',
      d: true,
    });
    expect(flags.getOptionalBoolean('a')).toBe(true);
    expect(flags.getOptionalBoolean('b')).toBe(false);
    expect(flags.getOptionalBoolean('d')).toBe(true);
    expect(() => flags.getOptionalBoolean('c')).toThrow(
      "'c': got string, wanted boolean",
    );
  });
});
