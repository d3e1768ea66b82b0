/*
 * Small helpers every section reader uses: typed failures that name the entry,
 * reads that turn a reader's type error into a ResidencyConfigError, and the
 * checks shared by several sections (region ids, dates, file paths).
 */
import { isAbsolute, resolve as resolvePath } from 'node:path';
import type { ConfigReader } from '../api';
import { ResidencyConfigError } from '../errors';

export const REGION_RE = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

/** Throws a ResidencyConfigError whose message starts with the entry's path. */
export function fail(
  code: ResidencyConfigError['code'],
  path: string,
  message: string,
): never {
  throw new ResidencyConfigError(code, `${path}: ${message}`, path);
}

/** Reads a value and wraps any ConfigReader type error into a typed error. */
export function read<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ResidencyConfigError) throw e;
    return fail('config_invalid', path, (e as Error)?.message ?? String(e));
  }
}

export function optString(c: ConfigReader, key: string, path: string) {
  return read(`${path}.${key}`, () => c.getOptionalString(key));
}

export function optBoolean(c: ConfigReader, key: string, path: string) {
  return read(`${path}.${key}`, () => c.getOptionalBoolean(key));
}

export function optConfigArray(c: ConfigReader, key: string, path: string) {
  return read(path, () => c.getOptionalConfigArray(key)) ?? [];
}

export function checkRegion(value: unknown, path: string): string {
  if (typeof value !== 'string' || !REGION_RE.test(value)) {
    fail('config_invalid', path, `"${String(value)}" is not a region id`);
  }
  return value;
}

export function checkDate(value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  let d: Date | undefined;
  if (value instanceof Date) d = value;
  else if (typeof value === 'string') d = new Date(value);
  if (!d || Number.isNaN(d.getTime())) {
    fail(
      'config_invalid',
      path,
      `"${String(value)}" is not an ISO 8601 date-time`,
    );
  }
  return d.toISOString();
}

export function resolveFile(baseDir: string | undefined, p: string) {
  return isAbsolute(p) ? p : resolvePath(baseDir ?? process.cwd(), p);
}

/**
 * Collects configuration errors so a load reports every broken entry at once
 * (`residency config check` lists them all), not only the first.
 */
export class ConfigIssues {
  readonly errors: ResidencyConfigError[] = [];

  /** Runs one entry's reader; a ResidencyConfigError is recorded, not thrown. */
  attempt<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof ResidencyConfigError)) throw e;
      this.errors.push(e);
      return undefined;
    }
  }

  /** Throws the one error, or one error naming them all. */
  throwIfAny(): void {
    if (this.errors.length === 0) return;
    if (this.errors.length === 1) throw this.errors[0];
    const [first] = this.errors;
    throw new ResidencyConfigError(
      first.code,
      `${this.errors.length} configuration errors:\n${this.errors
        .map(e => `  - ${e.message}`)
        .join('\n')}`,
      first.path,
      { cause: first, errors: this.errors },
    );
  }
}
