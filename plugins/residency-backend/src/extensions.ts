import { createExtensionPoint } from '@backstage/backend-plugin-api';
import type { ResidencyEngine } from '@residency-dev/plugin-residency-node';

/**
 * Lets a backend module replace the verification engine (tests, custom sources).
 *
 * @public
 */
export interface ResidencyEngineExtensionPoint {
  /** Uses this engine instead of the default one built from `residency:` config. */
  setEngine(engine: ResidencyEngine): void;
}

/**
 * The extension point behind {@link ResidencyEngineExtensionPoint}.
 *
 * @public
 */
export const residencyEngineExtensionPoint =
  createExtensionPoint<ResidencyEngineExtensionPoint>({
    id: 'residency.engine',
  });
