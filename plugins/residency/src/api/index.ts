export { residencyApiRef } from './ResidencyApi';
export type {
  ResidencyApi,
  ResidencyEntityRef,
  ResidencyStatusFilter,
  ListEntitiesOptions,
  DownloadEvidenceOptions,
  DownloadedEvidence,
  DownloadedVsa,
  ComplianceDay,
  EntityExceptions,
  ExceptionRequest,
} from './ResidencyApi';
export { ResidencyClient } from './ResidencyClient';
export type { SaveBlob } from './ResidencyClient';
