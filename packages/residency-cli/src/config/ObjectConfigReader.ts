import type { ConfigReader } from '../engine';

/** A value of the wrong type in the configuration; names the full key path. */
export class ConfigTypeError extends Error {
  readonly name = 'ConfigTypeError';
  constructor(readonly key: string, expected: string, got: unknown) {
    super(
      `Invalid type in config for key '${key}': got ${describe(
        got,
      )}, wanted ${expected}`,
    );
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads a plain (already merged and substituted) configuration object with the
 * same accessors as Backstage's `Config`: dotted keys, typed getters, and errors
 * that name the full key path (`residency.keys[2].publicKey`).
 */
export class ObjectConfigReader implements ConfigReader {
  constructor(
    private readonly data: Record<string, unknown>,
    private readonly prefix = '',
  ) {}

  private fullKey(key: string): string {
    return this.prefix ? `${this.prefix}.${key}` : key;
  }

  private lookup(key: string): unknown {
    let cur: unknown = this.data;
    for (const part of key.split('.')) {
      if (!isObject(cur) || !Object.prototype.hasOwnProperty.call(cur, part)) {
        return undefined;
      }
      cur = cur[part];
    }
    return cur;
  }

  keys(): string[] {
    return Object.keys(this.data);
  }

  get(key?: string): unknown {
    const v = key === undefined ? this.data : this.lookup(key);
    return v === undefined ? undefined : structuredClone(v);
  }

  getOptionalConfig(key: string): ConfigReader | undefined {
    const v = this.lookup(key);
    if (v === undefined) return undefined;
    if (!isObject(v)) throw new ConfigTypeError(this.fullKey(key), 'object', v);
    return new ObjectConfigReader(v, this.fullKey(key));
  }

  getOptionalConfigArray(key: string): ConfigReader[] | undefined {
    const v = this.lookup(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) {
      throw new ConfigTypeError(this.fullKey(key), 'object-array', v);
    }
    return v.map((item, i) => {
      const k = `${this.fullKey(key)}[${i}]`;
      if (!isObject(item)) throw new ConfigTypeError(k, 'object', item);
      return new ObjectConfigReader(item, k);
    });
  }

  getOptionalString(key: string): string | undefined {
    const v = this.lookup(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') {
      throw new ConfigTypeError(this.fullKey(key), 'string', v);
    }
    return v;
  }

  getString(key: string): string {
    const v = this.getOptionalString(key);
    if (v === undefined) {
      throw new Error(
        `Missing required config value at '${this.fullKey(key)}'`,
      );
    }
    return v;
  }

  getOptionalStringArray(key: string): string[] | undefined {
    const v = this.lookup(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) {
      throw new ConfigTypeError(this.fullKey(key), 'string-array', v);
    }
    return v.map((item, i) => {
      if (typeof item !== 'string') {
        throw new ConfigTypeError(`${this.fullKey(key)}[${i}]`, 'string', item);
      }
      return item;
    });
  }

  getOptionalNumber(key: string): number | undefined {
    const v = this.lookup(key);
    if (v === undefined) return undefined;
    // Backstage accepts numeric strings (values coming from ${ENV} substitution).
    if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim())) {
      return Number(v);
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ConfigTypeError(this.fullKey(key), 'number', v);
    }
    return v;
  }

  getOptionalBoolean(key: string): boolean | undefined {
    const v = this.lookup(key);
    if (v === undefined) return undefined;
    if (v === 'true') return true;
    if (v === 'false') return false;
    if (typeof v !== 'boolean') {
      throw new ConfigTypeError(this.fullKey(key), 'boolean', v);
    }
    return v;
  }
}
