export type { ComplianceDay } from '../../api';
