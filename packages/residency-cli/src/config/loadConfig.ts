/*
 * Loads app-config files the way the Backstage backend does: `@backstage/config-loader`
 * reads each file (`${VAR}`, `$env`, `$file`, `$include`) and `@backstage/config`
 * merges them (objects deep, everything else replaced, later files win). Two
 * deliberate differences, both shared with residency-node's own readers: an unset
 * variable without a fallback is an error (not a silently dropped value), and YAML is parsed strictly
 * (unique keys, bounded alias expansion) so a malformed file is a configuration error.
 */
import { statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigReader, type AppConfig, type Config } from '@backstage/config';
import { ConfigSources, FileConfigSource } from '@backstage/config-loader';
import type { JsonObject } from '@backstage/types';
import {
  findUnsetVariables,
  parseConfigYaml,
} from '@residency-dev/plugin-residency-node';
import { CliError, EXIT, errorMessage } from '../errors';

/** Largest configuration file read, in bytes. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** The merged configuration and where it came from. */
export interface LoadedConfig {
  /** The merged configuration, read through Backstage's ConfigReader. */
  config: Config;
  data: Record<string, unknown>;
  /** Absolute paths of the files, in merge order. */
  files: string[];
  /** Directory of the first file: the base for relative paths the engine resolves. */
  baseDir: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function configError(file: string, message: string, hint?: string) {
  return new CliError(`${file}: ${message}`, {
    exitCode: EXIT.USAGE,
    code: 'config_invalid',
    hint,
  });
}

/** A config file must be a readable regular file under the size cap. */
function checkFile(file: string): void {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new Error('not a regular file');
    size = st.size;
  } catch (e) {
    throw new CliError(`cannot read config file ${file}: ${errorMessage(e)}`, {
      code: 'file_unreadable',
      hint: 'Check the path; relative paths are resolved from the current directory.',
    });
  }
  if (size > MAX_CONFIG_BYTES) {
    throw new CliError(
      `config file ${file} is ${size} bytes, more than the ${MAX_CONFIG_BYTES}-byte cap`,
      { code: 'file_too_large' },
    );
  }
}

type Env = Record<string, string | undefined>;

function parserFor(file: string, env: Env) {
  return async ({ contents }: { contents: string }) => {
    let data: unknown;
    try {
      data = parseConfigYaml(contents);
    } catch (e) {
      throw configError(
        file,
        `not valid YAML: ${errorMessage(e).replace(
          /^configuration is not valid YAML: /,
          '',
        )}`,
        'Fix the syntax at the line shown (indentation, quoting, duplicate keys, aliases).',
      );
    }
    if (data === null || data === undefined) return { result: undefined };
    if (!isObject(data)) {
      throw configError(file, 'the top level must be a mapping of keys');
    }
    const unset = findUnsetVariables(data, env);
    if (unset.length > 0) {
      throw configError(
        file,
        unset
          .map(u => `at '${u.path}': environment variable ${u.name} is not set`)
          .join('; '),
        `Export ${unset[0].name} before running residency, or remove the reference.`,
      );
    }
    return { result: data as JsonObject };
  };
}

/**
 * Keys under `residency` named `path` or ending in `File` (`publicKeyFile`,
 * `layouts[].path`, `trustedRoots[].path`) are made absolute relative to the
 * config file that names them, so merged files from different directories work.
 */
function resolvePaths(value: unknown, dir: string, path: string): unknown {
  if (Array.isArray(value)) {
    return value.map((v, i) => resolvePaths(v, dir, `${path}[${i}]`));
  }
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const child = path ? `${path}.${k}` : k;
    out[k] =
      child.startsWith('residency.') &&
      (k.endsWith('File') || k === 'path') &&
      typeof v === 'string' &&
      v !== '' &&
      !isAbsolute(v)
        ? resolve(dir, v)
        : resolvePaths(v, dir, child);
  }
  return out;
}

/** Turns config-loader's "error at .a.b, message" into "at 'a.b': message". */
function loaderError(e: unknown): CliError {
  if (e instanceof CliError) return e;
  const msg = errorMessage(e);
  const m =
    /^Failed to read config file at "([^"]*)", error at \.?([^,]*), (.*)$/s.exec(
      msg,
    );
  if (m) {
    return configError(
      m[1],
      `at '${m[2]}': ${m[3]}`,
      /is not set/.test(m[3])
        ? 'Export the variable before running residency, or remove the reference.'
        : undefined,
    );
  }
  return new CliError(`cannot load the configuration: ${msg}`, {
    exitCode: EXIT.USAGE,
    code: 'config_invalid',
  });
}

async function readConfigs(files: string[], env: Env): Promise<AppConfig[]> {
  const source = ConfigSources.merge(
    files.map(path =>
      FileConfigSource.create({
        path,
        watch: false,
        // As the backend's default, but from the given environment.
        substitutionFunc: async name => env[name]?.trim(),
        parser: parserFor(path, env),
      }),
    ),
  );
  for await (const { configs } of source.readConfigData()) {
    return configs.map(c => ({
      context: c.context,
      data: resolvePaths(c.data, dirname(c.path ?? files[0]), '') as JsonObject,
    }));
  }
  return [];
}

/** Deep merge as Backstage merges app-config files: objects merge, everything else is replaced. */
export function mergeConfig(
  base: Record<string, unknown>,
  override: Record<string, unknown>,
): Record<string, unknown> {
  return ConfigReader.fromConfigs([
    { context: 'base', data: base as JsonObject },
    { context: 'override', data: override as JsonObject },
  ]).get() as Record<string, unknown>;
}

/**
 * Loads one or more app-config files, later files overriding earlier ones (like
 * `--config a.yaml --config b.yaml` for a Backstage backend).
 */
export async function loadConfigFiles(
  paths: string[],
  options: { cwd: string; env: Record<string, string | undefined> },
): Promise<LoadedConfig> {
  if (paths.length === 0) {
    throw new CliError('no configuration file given', {
      hint: 'Pass --config <app-config.yaml> (repeat it to merge several files).',
    });
  }
  const files = paths.map(p => resolve(options.cwd, p));
  files.forEach(checkFile);
  let configs: AppConfig[];
  try {
    configs = await readConfigs(files, options.env);
  } catch (e) {
    throw loaderError(e);
  }
  const config = ConfigReader.fromConfigs(configs);
  const data = (configs.length ? config.get() : {}) as Record<string, unknown>;
  return { config, data, files, baseDir: dirname(files[0]) };
}
