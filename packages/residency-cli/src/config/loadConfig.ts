import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { CliError, EXIT, errorMessage } from '../errors';

/** Largest configuration file read, in bytes. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** The merged configuration and where it came from. */
export interface LoadedConfig {
  data: Record<string, unknown>;
  /** Absolute paths of the files, in merge order. */
  files: string[];
  /** Directory of the first file: the base for relative paths the engine resolves. */
  baseDir: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function configError(
  file: string,
  path: string,
  message: string,
  hint?: string,
) {
  return new CliError(`${file}: ${path ? `at '${path}': ` : ''}${message}`, {
    exitCode: EXIT.USAGE,
    code: 'config_invalid',
    hint,
  });
}

function readText(file: string, what: string): string {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new Error('not a regular file');
    size = st.size;
  } catch (e) {
    throw new CliError(`cannot read ${what} ${file}: ${errorMessage(e)}`, {
      code: 'file_unreadable',
      hint: 'Check the path; relative paths are resolved from the current directory.',
    });
  }
  if (size > MAX_CONFIG_BYTES) {
    throw new CliError(
      `${what} ${file} is ${size} bytes, more than the ${MAX_CONFIG_BYTES}-byte cap`,
      { code: 'file_too_large' },
    );
  }
  return readFileSync(file, 'utf8');
}

/**
 * Substitutes `${VAR}` in one string value, as Backstage's app-config loader does;
 * `$${` is an escaped literal `${`. An unset variable is an error (a CI gate must not
 * silently run with a missing credential or key).
 */
export function substituteEnv(
  value: string,
  env: Record<string, string | undefined>,
  where: { file: string; path: string },
): string {
  let out = '';
  let i = 0;
  while (i < value.length) {
    if (value.startsWith('$${', i)) {
      out += '${';
      i += 3;
      continue;
    }
    if (value.startsWith('${', i)) {
      const end = value.indexOf('}', i + 2);
      if (end === -1) {
        throw configError(
          where.file,
          where.path,
          `unterminated '\${' in "${value}"`,
          "Close the reference as ${NAME}, or write $${ for a literal '${'.",
        );
      }
      const name = value.slice(i + 2, end).trim();
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        throw configError(
          where.file,
          where.path,
          `'\${${name}}' is not a valid environment variable reference`,
        );
      }
      const v = env[name];
      if (v === undefined) {
        throw configError(
          where.file,
          where.path,
          `environment variable ${name} is not set`,
          `Export ${name} before running residency, or remove the reference.`,
        );
      }
      out += v;
      i = end + 1;
      continue;
    }
    out += value[i];
    i += 1;
  }
  return out;
}

/**
 * Applies substitutions and directives to one parsed file:
 * - `${VAR}` in strings; `{ $env: VAR }`; `{ $file: path }` (file content, relative
 *   to the config file);
 * - keys under `residency` named `path` or ending in `File` (`publicKeyFile`,
 *   `layouts[].path`, `trustedRoots[].path`) are made absolute relative to the config
 *   file that names them, so merged files from different directories keep working.
 */
function transform(
  value: unknown,
  ctx: { file: string; dir: string; env: Record<string, string | undefined> },
  path: string,
): unknown {
  if (typeof value === 'string') {
    return substituteEnv(value, ctx.env, { file: ctx.file, path });
  }
  if (Array.isArray(value)) {
    return value.map((v, i) => transform(v, ctx, `${path}[${i}]`));
  }
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === '$env') {
      const name = value.$env;
      if (typeof name !== 'string' || ctx.env[name] === undefined) {
        throw configError(
          ctx.file,
          path,
          `environment variable ${String(name)} named by $env is not set`,
          `Export ${String(name)} before running residency.`,
        );
      }
      return ctx.env[name];
    }
    if (keys.length === 1 && keys[0] === '$file') {
      const rel = value.$file;
      if (typeof rel !== 'string') {
        throw configError(ctx.file, path, '$file must name a file path');
      }
      return readText(
        resolve(ctx.dir, rel),
        `file named by $file at '${path}' in`,
      );
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      if (k.startsWith('$')) {
        throw configError(
          ctx.file,
          path ? `${path}.${k}` : k,
          `unsupported directive ${k}`,
          'Supported directives are $env and $file.',
        );
      }
      const childPath = path ? `${path}.${k}` : k;
      let v = transform(value[k], ctx, childPath);
      if (
        childPath.startsWith('residency.') &&
        (k.endsWith('File') || k === 'path') &&
        typeof v === 'string' &&
        v !== '' &&
        !isAbsolute(v)
      ) {
        v = resolve(ctx.dir, v);
      }
      out[k] = v;
    }
    return out;
  }
  return value;
}

/** Deep merge as Backstage merges app-config files: objects merge, everything else is replaced. */
export function mergeConfig(
  base: Record<string, unknown>,
  override: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) {
    const prev = out[k];
    out[k] = isObject(prev) && isObject(v) ? mergeConfig(prev, v) : v;
  }
  return out;
}

/** Parses one YAML (or JSON) configuration file. */
export function parseConfigFile(
  file: string,
  env: Record<string, string | undefined>,
): Record<string, unknown> {
  const text = readText(file, 'config file');
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    throw configError(
      file,
      '',
      `not valid YAML: ${first.message.split('\n')[0]}`,
      'Fix the syntax at the line shown (indentation, quoting, duplicate keys).',
    );
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  if (data === null || data === undefined) return {};
  if (!isObject(data)) {
    throw configError(file, '', 'the top level must be a mapping of keys');
  }
  return transform(data, { file, dir: dirname(file), env }, '') as Record<
    string,
    unknown
  >;
}

/**
 * Loads one or more app-config files, later files overriding earlier ones (like
 * `--config a.yaml --config b.yaml` for a Backstage backend).
 */
export function loadConfigFiles(
  paths: string[],
  options: { cwd: string; env: Record<string, string | undefined> },
): LoadedConfig {
  if (paths.length === 0) {
    throw new CliError('no configuration file given', {
      hint: 'Pass --config <app-config.yaml> (repeat it to merge several files).',
    });
  }
  const files = paths.map(p => resolve(options.cwd, p));
  let data: Record<string, unknown> = {};
  for (const file of files) {
    data = mergeConfig(data, parseConfigFile(file, options.env));
  }
  return { data, files, baseDir: dirname(files[0]) };
}
