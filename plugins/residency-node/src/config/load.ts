/*
 * Loads and validates the top-level `residency:` configuration block. Every
 * failure is a ResidencyConfigError whose message names the offending entry; a
 * configuration that loads is internally consistent (every key pinned to a region,
 * every tenant's boundary defined, every rule compiled).
 */
import type { ConfigReader, ResidencySettings } from '../api';
import { readBoundaries } from './boundaries';
import { readKeys } from './keys';
import { readLayouts } from './layouts';
import { DEFAULT_LIMITS, readLimits } from './limits';
import { ConfigIssues, read } from './read';
import { readRegistries } from './registries';
import { checkKnownKeys } from './schema';
import { readTenants } from './tenants';
import { readTrustedRoots } from './trustedRoots';

/** A broken trusted root is reported once, not again by every tenant with identities. */
function hasTrustedRootEntries(root: ConfigReader): boolean {
  const v = root.getOptional('trustedRoots');
  return Array.isArray(v) && v.length > 0;
}

function emptySettings(): ResidencySettings {
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

/**
 * Loads `residency:` from a Backstage config. Throws a ResidencyConfigError
 * naming the entry on any inconsistency.
 *
 * @public
 */
export function loadResidencySettings(
  config: ConfigReader,
  opts?: { baseDir?: string },
): ResidencySettings {
  const root = read('residency', () => config.getOptionalConfig('residency'));
  if (!root) return emptySettings();
  const issues = new ConfigIssues();
  const baseDir = opts?.baseDir;
  issues.attempt(() => checkKnownKeys(root));
  const boundaries = readBoundaries(root, issues);
  const registries = readRegistries(root, issues);
  const layouts = readLayouts(root, baseDir, issues);
  const keys = readKeys(root, baseDir, issues);
  const trustedRoots = readTrustedRoots(root, baseDir, issues);
  const tenants = readTenants(
    root,
    boundaries,
    trustedRoots.length > 0 || hasTrustedRootEntries(root),
    issues,
  );
  const limits = readLimits(root, issues);
  issues.throwIfAny();
  return {
    boundaries,
    registries,
    layouts,
    keys,
    trustedRoots,
    tenants,
    limits,
  };
}
