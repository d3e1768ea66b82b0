/*
 * Loads and validates the top-level `residency:` configuration block. Every
 * failure is a ResidencyConfigError whose message names the offending entry; a
 * configuration that loads is internally consistent (every key pinned to a region,
 * every tenant's boundary defined, every rule compiled).
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ConfigReader, ResidencySettings } from './api';
import { ResidencyConfigError } from './errors';
import { compileRule } from './cel';
import { trustedRootProblem } from './verify/bundle';

type Settings = ResidencySettings;
type KeySetting = Settings['keys'][number];
type TenantSetting = Settings['tenants'][string];

const REGION_RE = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
const HOST_RE =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$/;
const REQUIREMENTS = ['signature', 'provenance', 'sbom', 'residency'] as const;
const AWS_PARTITIONS = new Set(['aws', 'aws-eusc', 'aws-us-gov', 'aws-cn']);
/** Cap on PEM size: a public key is a few KiB at most. */
const MAX_PEM_BYTES = 64 * 1024;
const MAX_TRUSTED_ROOT_BYTES = 4 * 1024 * 1024;

/** Default limits. @public */
export const DEFAULT_LIMITS = {
  imagesPerEntity: 50,
  concurrencyPerRegistry: 4,
} as const;

/** Result of reading a key id: the region it pins, if any. */
export type KeyIdRegion =
  | { pinned: true; region: string }
  | { pinned: false; why: string };

/**
 * The region a KMS key id pins, or why it does not pin one.
 * AWS key/alias ARNs in the partitions aws, aws-eusc, aws-us-gov and aws-cn pin
 * their region (`awskms:///arn:...` and `awskms://<endpoint>/arn:...`), as does a
 * GCP KMS location other than `global`. Aliases without an ARN, bare key ids,
 * Azure Key Vault, HashiCorp Vault and plain keys do not.
 *
 * @public
 */
export function regionFromKeyId(id: string): KeyIdRegion {
  let rest: string | undefined;
  if (id.startsWith('awskms://')) {
    const after = id.slice('awskms://'.length);
    const slash = after.indexOf('/');
    if (slash === -1) return { pinned: false, why: 'awskms URI without a key' };
    rest = after.slice(slash + 1);
  } else if (id.startsWith('arn:')) {
    rest = id;
  }
  if (rest !== undefined) {
    if (!rest.startsWith('arn:')) {
      return {
        pinned: false,
        why: 'an AWS KMS alias or key id without an ARN does not pin a region',
      };
    }
    const m =
      /^arn:([a-z0-9-]+):kms:([a-z0-9-]+):([0-9]{12}):(key|alias)\/[A-Za-z0-9/_+=,.@:-]+$/.exec(
        rest,
      );
    if (!m)
      return {
        pinned: false,
        why: 'not a well-formed AWS KMS key or alias ARN',
      };
    if (!AWS_PARTITIONS.has(m[1])) {
      return { pinned: false, why: `unknown AWS partition "${m[1]}"` };
    }
    return { pinned: true, region: m[2] };
  }
  if (id.startsWith('gcpkms://')) {
    const m =
      /^gcpkms:\/\/projects\/[^/]+\/locations\/([^/]+)\/keyRings\/[^/]+\/cryptoKeys\/[^/]+(?:\/cryptoKeyVersions\/[^/]+)?$/.exec(
        id,
      );
    if (!m) return { pinned: false, why: 'not a well-formed gcpkms URI' };
    if (m[1] === 'global') {
      return {
        pinned: false,
        why: 'GCP KMS location "global" does not pin a region',
      };
    }
    return { pinned: true, region: m[1] };
  }
  if (id.startsWith('azurekms://')) {
    return { pinned: false, why: 'Azure Key Vault URIs do not pin a region' };
  }
  if (id.startsWith('hashivault://')) {
    return { pinned: false, why: 'HashiCorp Vault URIs do not pin a region' };
  }
  return { pinned: false, why: 'a plain key id does not pin a region' };
}

/** Describes a public key: algorithm name and SPKI SHA-256 fingerprint. @public */
export function describePublicKey(key: KeyObject): {
  algorithm: string;
  fingerprint: string;
} {
  const der = key.export({ type: 'spki', format: 'der' });
  const fingerprint = createHash('sha256').update(der).digest('hex');
  const type = key.asymmetricKeyType;
  let algorithm: string;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') algorithm = 'ecdsa-p256';
    else if (curve === 'secp384r1') algorithm = 'ecdsa-p384';
    else if (curve === 'secp521r1') algorithm = 'ecdsa-p521';
    else throw new Error(`unsupported EC curve ${curve}`);
  } else if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw new Error(`RSA key of ${bits} bits is too small`);
    algorithm = `rsa-${bits}`;
  } else if (type === 'ed25519') {
    algorithm = 'ed25519';
  } else {
    throw new Error(`unsupported key type ${type}`);
  }
  return { algorithm, fingerprint };
}

function fail(
  code: ResidencyConfigError['code'],
  path: string,
  message: string,
): never {
  throw new ResidencyConfigError(code, `${path}: ${message}`, path);
}

/** Reads a value and wraps any ConfigReader type error into a typed error. */
function read<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ResidencyConfigError) throw e;
    return fail('config_invalid', path, (e as Error)?.message ?? String(e));
  }
}

function optString(c: ConfigReader, key: string, path: string) {
  return read(`${path}.${key}`, () => c.getOptionalString(key));
}

function checkRegion(value: unknown, path: string): string {
  if (typeof value !== 'string' || !REGION_RE.test(value)) {
    fail('config_invalid', path, `"${String(value)}" is not a region id`);
  }
  return value;
}

function checkDate(value: unknown, path: string): string | undefined {
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

function resolveFile(baseDir: string | undefined, p: string) {
  return isAbsolute(p) ? p : resolvePath(baseDir ?? process.cwd(), p);
}

function readCapped(file: string, cap: number): Buffer {
  const buf = readFileSync(file);
  if (buf.length > cap) throw new Error(`file larger than ${cap} bytes`);
  return buf;
}

/**
 * Loads `residency:` from a Backstage config (or the CLI's reader). Throws a
 * ResidencyConfigError naming the entry on any inconsistency.
 *
 * @public
 */
export function loadResidencySettings(
  config: ConfigReader,
  opts?: { baseDir?: string },
): ResidencySettings {
  const root = read('residency', () => config.getOptionalConfig('residency'));
  if (!root) {
    return {
      boundaries: {},
      registries: [],
      layouts: [],
      keys: [],
      trustedRoots: [],
      tenants: {},
      limits: { ...DEFAULT_LIMITS },
    };
  }
  const baseDir = opts?.baseDir;

  // boundaries
  const boundaries: Record<string, string[]> = {};
  const bConf = read('residency.boundaries', () =>
    root.getOptionalConfig('boundaries'),
  );
  for (const name of bConf?.keys() ?? []) {
    const path = `residency.boundaries.${name}`;
    const regions = read(path, () => bConf!.getOptionalStringArray(name)) ?? [];
    if (regions.length === 0)
      fail('config_invalid', path, 'a boundary needs at least one region');
    boundaries[name] = regions.map((r, i) => checkRegion(r, `${path}[${i}]`));
  }

  // registries
  const registries: Settings['registries'] = [];
  const rConfs =
    read('residency.registries', () =>
      root.getOptionalConfigArray('registries'),
    ) ?? [];
  rConfs.forEach((rc, i) => {
    const path0 = `residency.registries[${i}]`;
    const rawHost = optString(rc, 'host', path0);
    const path = rawHost ? `${path0} (${rawHost})` : path0;
    if (!rawHost) fail('registry_invalid', path, 'host is required');
    const host = rawHost.toLowerCase();
    if (!HOST_RE.test(host)) {
      fail(
        'registry_invalid',
        path,
        'host must be host[:port], without scheme, path or user',
      );
    }
    if (registries.some(r => r.host === host))
      fail('registry_invalid', path, 'duplicate registry host');
    const region = checkRegion(optString(rc, 'region', path), `${path}.region`);
    const insecure =
      read(`${path}.insecure`, () => rc.getOptionalBoolean('insecure')) ??
      false;
    const entry: Settings['registries'][number] = { host, region, insecure };
    const cred = read(`${path}.credentials`, () =>
      rc.getOptionalConfig('credentials'),
    );
    if (cred) {
      const token = optString(cred, 'token', `${path}.credentials`);
      const username = optString(cred, 'username', `${path}.credentials`);
      const password = optString(cred, 'password', `${path}.credentials`);
      if (token && !username && !password) entry.credentials = { token };
      else if (username && password && !token)
        entry.credentials = { username, password };
      else {
        fail(
          'registry_invalid',
          `${path}.credentials`,
          'give either { username, password } or { token }',
        );
      }
    }
    registries.push(entry);
  });

  // layouts
  const layouts: NonNullable<Settings['layouts']> = [];
  const lConfs =
    read('residency.layouts', () => root.getOptionalConfigArray('layouts')) ??
    [];
  lConfs.forEach((lc, i) => {
    const path = `residency.layouts[${i}]`;
    const p = optString(lc, 'path', path);
    if (!p) fail('config_invalid', path, 'path is required');
    const region = checkRegion(optString(lc, 'region', path), `${path}.region`);
    layouts.push({ path: resolveFile(baseDir, p), region });
  });

  // keys
  const keys: KeySetting[] = [];
  const kConfs =
    read('residency.keys', () => root.getOptionalConfigArray('keys')) ?? [];
  kConfs.forEach((kc, i) => {
    const path0 = `residency.keys[${i}]`;
    const id = optString(kc, 'id', path0);
    const path = id ? `${path0} (${id})` : path0;
    if (!id) fail('config_invalid', path, 'id is required');
    if (keys.some(k => k.id === id))
      fail('key_duplicate', path, 'duplicate key id');
    // region
    const explicit = optString(kc, 'region', path);
    const fromId = regionFromKeyId(id);
    let region: string;
    let regionSource: 'id' | 'explicit';
    if (fromId.pinned) {
      if (explicit !== undefined && explicit !== fromId.region) {
        fail(
          'key_region_contradiction',
          path,
          `explicit region "${explicit}" contradicts region "${fromId.region}" in the key id`,
        );
      }
      region = checkRegion(fromId.region, `${path}.id`);
      regionSource = 'id';
    } else {
      if (explicit === undefined) {
        fail(
          'key_region_unpinned',
          path,
          `${fromId.why}; give an explicit region`,
        );
      }
      region = checkRegion(explicit, `${path}.region`);
      regionSource = 'explicit';
    }
    // public key
    const pemInline = optString(kc, 'publicKey', path);
    const pemFile = optString(kc, 'publicKeyFile', path);
    if ((pemInline === undefined) === (pemFile === undefined)) {
      fail(
        'key_unreadable',
        path,
        'give exactly one of publicKey or publicKeyFile',
      );
    }
    let pemText: string;
    if (pemFile !== undefined) {
      try {
        pemText = readCapped(
          resolveFile(baseDir, pemFile),
          MAX_PEM_BYTES,
        ).toString('utf8');
      } catch (e) {
        fail(
          'key_unreadable',
          path,
          `cannot read publicKeyFile: ${(e as Error).message}`,
        );
      }
    } else {
      pemText = pemInline!;
    }
    if (
      pemText.length > MAX_PEM_BYTES ||
      !pemText.includes('-----BEGIN PUBLIC KEY-----')
    ) {
      fail(
        'key_unreadable',
        path,
        'publicKey must be a PEM "PUBLIC KEY" (SubjectPublicKeyInfo)',
      );
    }
    let desc: { algorithm: string; fingerprint: string };
    let pem: string;
    try {
      const ko = createPublicKey({ key: pemText, format: 'pem' });
      if (ko.type !== 'public') throw new Error('not a public key');
      desc = describePublicKey(ko);
      pem = ko.export({ type: 'spki', format: 'pem' }).toString();
    } catch (e) {
      fail(
        'key_unreadable',
        path,
        `unreadable public key: ${(e as Error).message}`,
      );
    }
    const dup = keys.find(k => k.fingerprint === desc.fingerprint);
    if (dup) fail('key_duplicate', path, `same public key as ${dup.id}`);
    const validFrom = checkDate(
      read(`${path}.validFrom`, () => kc.getOptionalString('validFrom')),
      `${path}.validFrom`,
    );
    const validUntil = checkDate(
      read(`${path}.validUntil`, () => kc.getOptionalString('validUntil')),
      `${path}.validUntil`,
    );
    if (validFrom && validUntil && validFrom >= validUntil) {
      fail('config_invalid', path, 'validFrom must be before validUntil');
    }
    const revoked =
      read(`${path}.revoked`, () => kc.getOptionalBoolean('revoked')) ?? false;
    const key: KeySetting = {
      id,
      region,
      regionSource,
      fingerprint: desc.fingerprint,
      algorithm: desc.algorithm,
      publicKeyPem: pem,
      revoked,
    };
    if (validFrom) key.validFrom = validFrom;
    if (validUntil) key.validUntil = validUntil;
    keys.push(key);
  });

  // trusted roots
  const trustedRoots: NonNullable<Settings['trustedRoots']> = [];
  const tConfs =
    read('residency.trustedRoots', () =>
      root.getOptionalConfigArray('trustedRoots'),
    ) ?? [];
  tConfs.forEach((tc, i) => {
    const path = `residency.trustedRoots[${i}]`;
    const publicGood =
      read(`${path}.publicGood`, () => tc.getOptionalBoolean('publicGood')) ??
      false;
    const file = optString(tc, 'path', path);
    const name =
      optString(tc, 'name', path) ??
      (publicGood ? 'sigstore-public-good' : undefined);
    if (!name) fail('config_invalid', path, 'name is required');
    if (publicGood === (file !== undefined)) {
      fail(
        'config_invalid',
        path,
        'give exactly one of path or publicGood: true',
      );
    }
    let bytes: Buffer;
    try {
      bytes =
        file !== undefined
          ? readCapped(resolveFile(baseDir, file), MAX_TRUSTED_ROOT_BYTES)
          : publicGoodTrustedRoot();
    } catch (e) {
      fail(
        'config_invalid',
        path,
        `cannot read trusted root: ${(e as Error).message}`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      fail('config_invalid', path, 'trusted root is not JSON');
    }
    if (!json || typeof json !== 'object' || Array.isArray(json)) {
      fail('config_invalid', path, 'trusted root is not a JSON object');
    }
    const problem = trustedRootProblem(json);
    if (problem) {
      fail(
        'config_invalid',
        path,
        `not a usable Sigstore trusted root: ${problem}`,
      );
    }
    if (trustedRoots.some(t => t.name === name))
      fail('config_invalid', path, 'duplicate trusted root name');
    trustedRoots.push({
      name,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      json,
    });
  });

  // tenants
  const tenants: Record<string, TenantSetting> = {};
  const tenConf = read('residency.tenants', () =>
    root.getOptionalConfig('tenants'),
  );
  for (const name of tenConf?.keys() ?? []) {
    const path = `residency.tenants.${name}`;
    const tc = read(path, () => tenConf!.getOptionalConfig(name));
    if (!tc) fail('config_invalid', path, 'tenant must be an object');
    const boundary = optString(tc, 'boundary', path);
    if (!boundary) fail('boundary_unknown', path, 'boundary is required');
    if (!Object.prototype.hasOwnProperty.call(boundaries, boundary)) {
      fail(
        'boundary_unknown',
        path,
        `boundary "${boundary}" is not defined in residency.boundaries`,
      );
    }
    const require = read(`${path}.require`, () =>
      tc.getOptionalStringArray('require'),
    ) ?? ['signature'];
    for (const r of require) {
      if (!(REQUIREMENTS as readonly string[]).includes(r)) {
        fail(
          'config_invalid',
          `${path}.require`,
          `unknown requirement "${r}" (one of ${REQUIREMENTS.join(', ')})`,
        );
      }
    }
    const allowedHosts = (
      read(`${path}.allowedHosts`, () =>
        tc.getOptionalStringArray('allowedHosts'),
      ) ?? []
    ).map(h => h.toLowerCase());
    const rules: TenantSetting['rules'] = [];
    const ruleConfs =
      read(`${path}.rules`, () => tc.getOptionalConfigArray('rules')) ?? [];
    ruleConfs.forEach((rc, j) => {
      const rpath = `${path}.rules[${j}]`;
      const id = optString(rc, 'id', rpath);
      const expression = optString(rc, 'expression', rpath);
      const message = optString(rc, 'message', rpath) ?? `rule ${id} failed`;
      if (!id || !/^[a-z0-9][a-z0-9_.-]{0,62}$/.test(id)) {
        fail('rule_invalid', rpath, 'id must be a short lowercase identifier');
      }
      if (rules.some(r => r.id === id))
        fail('rule_invalid', rpath, `duplicate rule id "${id}"`);
      if (!expression) fail('rule_invalid', rpath, 'expression is required');
      try {
        compileRule(expression);
      } catch (e) {
        fail(
          'rule_invalid',
          `${rpath} (${id})`,
          `CEL expression does not parse: ${(e as Error).message}`,
        );
      }
      rules.push({ id, expression, message });
    });
    const identities: NonNullable<TenantSetting['identities']> = [];
    const idConfs =
      read(`${path}.identities`, () =>
        tc.getOptionalConfigArray('identities'),
      ) ?? [];
    idConfs.forEach((ic, j) => {
      const ipath = `${path}.identities[${j}]`;
      const subject = optString(ic, 'subject', ipath);
      const subjectRegExp = optString(ic, 'subjectRegExp', ipath);
      const issuer = optString(ic, 'issuer', ipath);
      if ((subject === undefined) === (subjectRegExp === undefined)) {
        fail(
          'config_invalid',
          ipath,
          'give exactly one of subject or subjectRegExp',
        );
      }
      if (!issuer) fail('config_invalid', ipath, 'issuer is required');
      if (subjectRegExp !== undefined) {
        try {
          RegExp(subjectRegExp);
        } catch {
          fail(
            'config_invalid',
            ipath,
            'subjectRegExp is not a valid regular expression',
          );
        }
      }
      const region = checkRegion(
        optString(ic, 'region', ipath),
        `${ipath}.region`,
      );
      const e: NonNullable<TenantSetting['identities']>[number] = {
        issuer,
        region,
      };
      if (subject !== undefined) e.subject = subject;
      if (subjectRegExp !== undefined) e.subjectRegExp = subjectRegExp;
      identities.push(e);
    });
    if (identities.length > 0 && trustedRoots.length === 0) {
      fail(
        'config_invalid',
        `${path}.identities`,
        'keyless identities need residency.trustedRoots',
      );
    }
    const minSignatures = read(`${path}.minSignatures`, () =>
      tc.getOptionalNumber('minSignatures'),
    );
    if (
      minSignatures !== undefined &&
      (!Number.isInteger(minSignatures) ||
        minSignatures < 1 ||
        minSignatures > 16)
    ) {
      fail(
        'config_invalid',
        `${path}.minSignatures`,
        'minSignatures must be an integer from 1 to 16',
      );
    }
    tenants[name] = {
      boundary,
      require: require as TenantSetting['require'],
      allowedHosts,
      rules,
      identities,
      ...(minSignatures !== undefined ? { minSignatures } : {}),
    };
  }

  // limits
  const lim = read('residency.limits', () => root.getOptionalConfig('limits'));
  const limit = (key: keyof typeof DEFAULT_LIMITS) => {
    const v = lim
      ? read(`residency.limits.${key}`, () => lim.getOptionalNumber(key))
      : undefined;
    if (v === undefined) return DEFAULT_LIMITS[key];
    if (!Number.isInteger(v) || v < 1 || v > 10_000) {
      fail(
        'config_invalid',
        `residency.limits.${key}`,
        'must be an integer between 1 and 10000',
      );
    }
    return v;
  };

  return {
    boundaries,
    registries,
    layouts,
    keys,
    trustedRoots,
    tenants,
    limits: {
      imagesPerEntity: limit('imagesPerEntity'),
      concurrencyPerRegistry: limit('concurrencyPerRegistry'),
    },
  };
}

/** The Sigstore public-good trusted_root.json embedded in @sigstore/tuf's seed (offline). */
export function publicGoodTrustedRoot(): Buffer {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const seeds = require('@sigstore/tuf/seeds.json') as Record<
    string,
    { targets: Record<string, string> }
  >;
  const seed = seeds['https://tuf-repo-cdn.sigstore.dev'];
  const b64 = seed?.targets?.['trusted_root.json'];
  if (!b64)
    throw new Error('public-good trusted root not found in @sigstore/tuf seed');
  return Buffer.from(b64, 'base64');
}

/* ---------- a tiny ConfigReader over plain objects (for the CLI) ---------- */

function substitute(
  value: unknown,
  env: Record<string, string | undefined>,
): unknown {
  if (typeof value === 'string') {
    // Backstage semantics: `${VAR}` is replaced, `$${` escapes; a missing
    // variable makes the whole value undefined.
    let missing = false;
    const out = value.replace(
      /\$(\$)?\{([^{}]*)\}/g,
      (all, escape, name: string) => {
        if (escape) return all.slice(1);
        const v = env[name.trim()];
        if (v === undefined) {
          missing = true;
          return '';
        }
        return v;
      },
    );
    return missing ? undefined : out;
  }
  if (Array.isArray(value)) return value.map(v => substitute(v, env));
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const s = substitute(v, env);
      if (s !== undefined) o[k] = s;
    }
    return o;
  }
  return value;
}

class ObjectConfigReader implements ConfigReader {
  constructor(
    private readonly data: Record<string, unknown>,
    private readonly prefix: string,
  ) {}

  private lookup(key: string): unknown {
    let cur: unknown = this.data;
    for (const part of key.split('.')) {
      if (!cur || typeof cur !== 'object' || Array.isArray(cur))
        return undefined;
      if (!Object.prototype.hasOwnProperty.call(cur, part)) return undefined;
      cur = (cur as Record<string, unknown>)[part];
    }
    return cur;
  }

  private where(key: string) {
    return this.prefix ? `${this.prefix}.${key}` : key;
  }

  private typeError(key: string, expected: string): never {
    throw new ResidencyConfigError(
      'config_invalid',
      `${this.where(key)}: expected ${expected}`,
      this.where(key),
    );
  }

  private isObj(v: unknown): v is Record<string, unknown> {
    return (
      !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)
    );
  }

  getOptionalConfig(key: string): ConfigReader | undefined {
    const v = this.lookup(key);
    if (v === undefined || v === null) return undefined;
    if (!this.isObj(v)) this.typeError(key, 'an object');
    return new ObjectConfigReader(v, this.where(key));
  }

  getOptionalConfigArray(key: string): ConfigReader[] | undefined {
    const v = this.lookup(key);
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) this.typeError(key, 'a list');
    return v.map((e, i) => {
      if (!this.isObj(e)) this.typeError(`${key}[${i}]`, 'an object');
      return new ObjectConfigReader(e, `${this.where(key)}[${i}]`);
    });
  }

  getOptionalString(key: string): string | undefined {
    const v = this.lookup(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') this.typeError(key, 'a string');
    return v;
  }

  getOptionalStringArray(key: string): string[] | undefined {
    const v = this.lookup(key);
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || v.some(e => typeof e !== 'string')) {
      this.typeError(key, 'a list of strings');
    }
    return v as string[];
  }

  getOptionalNumber(key: string): number | undefined {
    const v = this.lookup(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && /^-?[0-9]+(\.[0-9]+)?$/.test(v))
      return Number(v);
    return this.typeError(key, 'a number');
  }

  getOptionalBoolean(key: string): boolean | undefined {
    const v = this.lookup(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    if (v === 'true') return true;
    if (v === 'false') return false;
    return this.typeError(key, 'a boolean');
  }

  getString(key: string): string {
    const v = this.getOptionalString(key);
    if (v === undefined) this.typeError(key, 'a string');
    return v;
  }

  keys(): string[] {
    return Object.keys(this.data);
  }

  get(key?: string): unknown {
    return key === undefined ? this.data : this.lookup(key);
  }
}

/**
 * A ConfigReader over a plain object (e.g. parsed app-config.yaml), with
 * Backstage-style `${ENV}` substitution.
 *
 * @public
 */
export function configReaderFromObject(
  obj: unknown,
  opts?: { env?: Record<string, string | undefined> },
): ConfigReader {
  const data = substitute(obj ?? {}, opts?.env ?? process.env);
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    throw new ResidencyConfigError(
      'config_invalid',
      'configuration must be a YAML/JSON object',
    );
  }
  return new ObjectConfigReader(data as Record<string, unknown>, '');
}

/**
 * Parses YAML app-config text (one document) and loads its `residency:` block.
 *
 * @public
 */
export function settingsFromYaml(
  text: string,
  opts?: { baseDir?: string; env?: Record<string, string | undefined> },
): ResidencySettings {
  let obj: unknown;
  try {
    obj = parseYaml(text, { maxAliasCount: 100, uniqueKeys: true });
  } catch (e) {
    throw new ResidencyConfigError(
      'config_invalid',
      `configuration is not valid YAML: ${(e as Error).message}`,
    );
  }
  return loadResidencySettings(
    configReaderFromObject(obj, { env: opts?.env }),
    {
      baseDir: opts?.baseDir,
    },
  );
}
