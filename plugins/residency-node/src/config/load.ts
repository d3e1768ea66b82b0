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
import { read } from './read';
import { readRegistries } from './registries';
import { checkKnownKeys } from './schema';
import { readTenants } from './tenants';
import { readTrustedRoots } from './trustedRoots';

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
  checkKnownKeys(root);
  const baseDir = opts?.baseDir;
  const boundaries = readBoundaries(root);
  const registries = readRegistries(root);
  const layouts = readLayouts(root, baseDir);
  const keys = readKeys(root, baseDir);
  const trustedRoots = readTrustedRoots(root, baseDir);
  const tenants = readTenants(root, boundaries, trustedRoots.length > 0);
  const limits = readLimits(root);
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
