/**
 * Residency frontend plugin: residency cards, the Residency page and evidence
 * downloads, for the legacy frontend system (see `/alpha` for the new one).
 *
 * @packageDocumentation
 */
export {
  residencyPlugin,
  EntityResidencyCard,
  EntityResidencySummaryCard,
  EntityResidencyContent,
  ResidencyPage,
} from './plugin';
export { isResidencyAvailable, isResidencyApplicable } from './helpers';
export { rootRouteRef as residencyRouteRef } from './routes';
export * from './api';
export {
  createResidencyColumn,
  EntityResidencyStatusCell,
  ResidencyCatalogFilter,
  EntityResidencyFilter,
  type ResidencyEntityFilters,
  type ResidencyFilterValue,
} from './components/Catalog';
