export { EntityResidencyCard } from './EntityResidencyCard';
export { EntityResidencySummaryCard } from './EntityResidencySummaryCard';
