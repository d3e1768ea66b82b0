import { createExtensionPoint } from '@backstage/backend-plugin-api';
import type { ResidencyEngine } from '@residency-dev/plugin-residency-node';

/**
 * Lets a backend module replace the verification engine (tests, custom sources).
 *
 * @public
 */
export interface ResidencyEngineExtensionPoint {
  setEngine(engine: ResidencyEngine): void;
}

/** @public */
export const residencyEngineExtensionPoint =
  createExtensionPoint<ResidencyEngineExtensionPoint>({
    id: 'residency.engine',
  });
