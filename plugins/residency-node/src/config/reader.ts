/*
 * Configuration from plain objects and YAML text (tests, the bench, the CLI's
 * in-memory uses), read through Backstage's own ConfigReader so every caller
 * sees the same accessors and type errors as the backend.
 */
import { ConfigReader as BackstageConfigReader } from '@backstage/config';
import type { JsonObject } from '@backstage/types';
import { parseDocument } from 'yaml';
import type { ConfigReader, ResidencySettings } from '../api';
import { ResidencyConfigError } from '../errors';
import { loadResidencySettings } from './load';

type Env = Record<string, string | undefined>;

/** Most alias expansions a configuration document may contain (bounds "billion laughs"). */
export const MAX_YAML_ALIASES = 100;

/** Parses a YAML configuration document strictly: unique keys, bounded alias expansion. */
export function parseConfigYaml(text: string): unknown {
  try {
    const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
    if (doc.errors.length > 0) throw doc.errors[0];
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (e) {
    throw new ResidencyConfigError(
      'config_invalid',
      `configuration is not valid YAML: ${
        ((e as Error).message ?? String(e)).split('\n')[0]
      }`,
      undefined,
      { cause: e },
    );
  }
}

/** One `${NAME}` or `${NAME:-fallback}` reference, Backstage syntax (`$${` escapes). */
const REFERENCE = /(\$?\$\{[^{}]*\})/;

/** The value of one reference, or undefined when its variable is unset and it has no fallback. */
function referenceValue(part: string, env: Env): string | undefined {
  const body = part.slice(2, -1);
  const sep = body.indexOf(':-');
  if (sep === -1) return env[body.trim()];
  return (
    env[body.slice(0, sep).trim()] || body.slice(sep + 2).trim() || undefined
  );
}

function referenceName(part: string): string {
  const body = part.slice(2, -1);
  const sep = body.indexOf(':-');
  return (sep === -1 ? body : body.slice(0, sep)).trim();
}

/**
 * Where a parsed configuration document refers to an unset environment variable
 * (`${NAME}` without a fallback, or `$env: NAME`). Backstage's loader silently drops
 * such a value; for a verifier that removes a key or a credential without a word, so
 * every reader of ours (the CLI's files, objects, YAML text) refuses it instead.
 *
 * @public
 */
export function findUnsetVariables(
  value: unknown,
  env: Env,
  path = '',
): { path: string; name: string }[] {
  if (typeof value === 'string') {
    return value
      .split(REFERENCE)
      .filter((part, i) => i % 2 === 1 && !part.startsWith('$$'))
      .filter(part => referenceValue(part, env) === undefined)
      .map(part => ({ path, name: referenceName(part) }));
  }
  if (Array.isArray(value)) {
    return value.flatMap((v, i) => findUnsetVariables(v, env, `${path}[${i}]`));
  }
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0][0] === '$env') {
      const name = entries[0][1];
      return typeof name === 'string' && env[name] === undefined
        ? [{ path, name }]
        : [];
    }
    return entries.flatMap(([k, v]) =>
      findUnsetVariables(v, env, path ? `${path}.${k}` : k),
    );
  }
  return [];
}

/** `${VAR}` substitution in one string value, as Backstage's loader does it. */
function substituteString(value: string, env: Env, path: string): string {
  return value
    .split(REFERENCE)
    .map((part, i) => {
      if (i % 2 === 0) return part;
      if (part.startsWith('$$')) return part.slice(1);
      const v = referenceValue(part, env);
      if (v === undefined) {
        throw new ResidencyConfigError(
          'config_invalid',
          `${path}: environment variable ${referenceName(part)} is not set`,
          path,
        );
      }
      return v;
    })
    .join('');
}

function substitute(value: unknown, env: Env, path: string): unknown {
  if (typeof value === 'string') return substituteString(value, env, path);
  if (Array.isArray(value)) {
    return value.map((v, i) => substitute(v, env, `${path}[${i}]`));
  }
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = substitute(v, env, path ? `${path}.${k}` : k);
    }
    return out;
  }
  return value;
}

/**
 * A Backstage ConfigReader over a plain object (e.g. parsed app-config.yaml), with
 * `${ENV}` substitution; an unset variable is a ResidencyConfigError.
 *
 * @public
 */
export function configReaderFromObject(
  obj: unknown,
  opts?: { env?: Env },
): ConfigReader {
  const data = substitute(obj ?? {}, opts?.env ?? process.env, '');
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    throw new ResidencyConfigError(
      'config_invalid',
      'configuration must be a YAML/JSON object',
    );
  }
  return new BackstageConfigReader(data as JsonObject);
}

/**
 * Parses YAML app-config text (one document) and loads its `residency:` block.
 *
 * @public
 */
export function settingsFromYaml(
  text: string,
  opts?: { baseDir?: string; env?: Env },
): ResidencySettings {
  return loadResidencySettings(
    configReaderFromObject(parseConfigYaml(text), { env: opts?.env }),
    { baseDir: opts?.baseDir },
  );
}
