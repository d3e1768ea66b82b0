export { ResidencyPage, ResidencyPageContent } from './ResidencyPage';
