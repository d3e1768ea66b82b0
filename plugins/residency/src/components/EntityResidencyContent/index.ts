export { EntityResidencyContent } from './EntityResidencyContent';
