export { EntityResidencyCard } from './EntityResidencyCard';
