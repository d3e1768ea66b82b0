/**
 * Residency frontend plugin: residency cards, the Residency page and evidence
 * downloads, for the legacy frontend system (see `/alpha` for the new one).
 *
 * @packageDocumentation
 */
export {
  residencyPlugin,
  EntityResidencyCard,
  EntityResidencyContent,
  ResidencyPage,
} from './plugin';
export { isResidencyAvailable } from './helpers';
export { rootRouteRef as residencyRouteRef } from './routes';
export * from './api';
