import type { ConfigReader, ResidencySettings } from '../api';
import { compileRule } from '../cel';
import { identityMatcher } from './identityPattern';
import { parseDurationSeconds } from '../report';
import {
  checkRegion,
  ConfigIssues,
  fail,
  optConfigArray,
  optString,
  read,
} from './read';

type Tenant = ResidencySettings['tenants'][string];
type Identity = NonNullable<Tenant['identities']>[number];

const REQUIREMENTS = ['signature', 'provenance', 'sbom', 'residency'] as const;

/** `residency.tenants`: boundary, requirements, allowed hosts, CEL rules, keyless identities. */
export function readTenants(
  root: ConfigReader,
  boundaries: ResidencySettings['boundaries'],
  hasTrustedRoots: boolean,
  issues = new ConfigIssues(),
): ResidencySettings['tenants'] {
  const tenants: Record<string, Tenant> = {};
  const conf = issues.attempt(() =>
    read('residency.tenants', () => root.getOptionalConfig('tenants')),
  );
  for (const name of conf?.keys() ?? []) {
    const path = `residency.tenants.${name}`;
    const tenant = issues.attempt(() => {
      const tc = read(path, () => conf!.getOptionalConfig(name));
      if (!tc) fail('config_invalid', path, 'tenant must be an object');
      return readTenant(tc, path, boundaries, hasTrustedRoots);
    });
    if (tenant) tenants[name] = tenant;
  }
  return tenants;
}

function readTenant(
  tc: ConfigReader,
  path: string,
  boundaries: ResidencySettings['boundaries'],
  hasTrustedRoots: boolean,
): Tenant {
  const boundary = tenantBoundary(tc, path, boundaries);
  const identities = readIdentities(tc, path);
  if (identities.length > 0 && !hasTrustedRoots) {
    fail(
      'config_invalid',
      `${path}.identities`,
      'keyless identities need residency.trustedRoots',
    );
  }
  return {
    boundary,
    require: readRequirements(tc, path),
    allowedHosts: (
      read(`${path}.allowedHosts`, () =>
        tc.getOptionalStringArray('allowedHosts'),
      ) ?? []
    ).map(h => h.toLowerCase()),
    rules: readRules(tc, path),
    identities,
    ...readMinSignatures(tc, path),
    ...readMaxAge(tc, path),
  };
}

/**
 * `maxAge`: per attestation kind, the largest age of the newest verified attestation,
 * as `<n>s|m|h|d|w` (e.g. `7d`); measured from its trustworthy signed time.
 */
function readMaxAge(
  tc: ConfigReader,
  path: string,
): { maxAgeSeconds?: NonNullable<Tenant['maxAgeSeconds']> } {
  const conf = read(`${path}.maxAge`, () => tc.getOptionalConfig('maxAge'));
  if (!conf) return {};
  const out: NonNullable<Tenant['maxAgeSeconds']> = {};
  for (const kind of conf.keys()) {
    const kpath = `${path}.maxAge.${kind}`;
    if (kind !== 'provenance' && kind !== 'sbom' && kind !== 'residency')
      fail(
        'config_invalid',
        kpath,
        'maxAge applies to provenance, sbom or residency',
      );
    const text = read(kpath, () => conf.getString(kind));
    const seconds = parseDurationSeconds(text);
    if (seconds === undefined)
      fail(
        'config_invalid',
        kpath,
        'maxAge must be a duration such as 30m, 12h, 7d or 2w',
      );
    out[kind] = seconds;
  }
  return Object.keys(out).length > 0 ? { maxAgeSeconds: out } : {};
}

/** `minSignatures`: distinct signers a tenant asks for (1 to 16; default 1). */
function readMinSignatures(
  tc: ConfigReader,
  path: string,
): { minSignatures?: number } {
  const minSignatures = read(`${path}.minSignatures`, () =>
    tc.getOptionalNumber('minSignatures'),
  );
  if (minSignatures === undefined) return {};
  if (
    !Number.isInteger(minSignatures) ||
    minSignatures < 1 ||
    minSignatures > 16
  ) {
    fail(
      'config_invalid',
      `${path}.minSignatures`,
      'minSignatures must be an integer from 1 to 16',
    );
  }
  return { minSignatures };
}

function tenantBoundary(
  tc: ConfigReader,
  path: string,
  boundaries: ResidencySettings['boundaries'],
): string {
  const boundary = optString(tc, 'boundary', path);
  if (!boundary) fail('boundary_unknown', path, 'boundary is required');
  if (!Object.hasOwn(boundaries, boundary)) {
    fail(
      'boundary_unknown',
      path,
      `boundary "${boundary}" is not defined in residency.boundaries`,
    );
  }
  return boundary;
}

function readRequirements(tc: ConfigReader, path: string): Tenant['require'] {
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
  return require as Tenant['require'];
}

function readRules(tc: ConfigReader, path: string): Tenant['rules'] {
  const rules: Tenant['rules'] = [];
  optConfigArray(tc, 'rules', `${path}.rules`).forEach((rc, j) => {
    const rpath = `${path}.rules[${j}]`;
    const id = optString(rc, 'id', rpath);
    const expression = optString(rc, 'expression', rpath);
    const message = optString(rc, 'message', rpath) ?? `rule ${id} failed`;
    if (!id || !/^[a-z0-9][a-z0-9_.-]{0,62}$/.test(id)) {
      fail('rule_invalid', rpath, 'id must be a short lowercase identifier');
    }
    if (rules.some(r => r.id === id)) {
      fail('rule_invalid', rpath, `duplicate rule id "${id}"`);
    }
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
  return rules;
}

function readIdentities(tc: ConfigReader, path: string): Identity[] {
  return optConfigArray(tc, 'identities', `${path}.identities`).map((ic, j) =>
    readIdentity(ic, `${path}.identities[${j}]`),
  );
}

function readIdentity(ic: ConfigReader, ipath: string): Identity {
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
      identityMatcher(subjectRegExp);
    } catch (e) {
      fail(
        'config_invalid',
        `${ipath}.subjectRegExp`,
        `not a regular expression the linear-time (RE2) matcher accepts: ${
          (e as Error).message
        }`,
      );
    }
  }
  const region = checkRegion(optString(ic, 'region', ipath), `${ipath}.region`);
  return {
    issuer,
    region,
    ...(subject !== undefined ? { subject } : {}),
    ...(subjectRegExp !== undefined ? { subjectRegExp } : {}),
  };
}
