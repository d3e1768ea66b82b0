export {
  createResidencyColumn,
  EntityResidencyStatusCell,
} from './ResidencyColumn';
export {
  ResidencyCatalogFilter,
  EntityResidencyFilter,
  type ResidencyEntityFilters,
  type ResidencyFilterValue,
} from './ResidencyCatalogFilter';
