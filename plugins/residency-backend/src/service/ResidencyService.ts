import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import type {
  ChainVerification,
  Decision,
  EntityStatus,
  EntityStatusSummary,
  EvidenceBundle,
  EvidenceSummary,
  Mismatch,
  Page,
  TenantSummary,
  ResidencyState,
} from '@residency-dev/plugin-residency-common';
import type { ComplianceDay } from './complianceHistory';

/** The options of a service method (the interface owns every option shape). */
export type ServiceOptions<K extends keyof ResidencyService> = Parameters<
  ResidencyService[K]
>[0];

/** Everything the HTTP API can do; one options object per method. */
export interface ResidencyService {
  getStatus(options: {
    entityRef: string;
    credentials: BackstageCredentials;
  }): Promise<EntityStatus>;

  listEntities(options: {
    decision?: Decision;
    /** The state shown to people (`resident_by_exception` is counted apart). */
    state?: ResidencyState;
    tenant?: string;
    q?: string;
    cursor?: string;
    limit: number;
    credentials: BackstageCredentials;
  }): Promise<Page<EntityStatusSummary>>;

  refresh(options: {
    entityRef: string;
    credentials: BackstageCredentials;
    signal?: AbortSignal;
  }): Promise<EntityStatus>;

  listEvidence(options: {
    entityRef: string;
    cursor?: string;
    limit: number;
    credentials: BackstageCredentials;
  }): Promise<Page<EvidenceSummary>>;

  getEvidenceBundle(options: {
    id: string;
    credentials: BackstageCredentials;
  }): Promise<EvidenceBundle>;

  verifyChain(options: {
    entityRef: string;
    credentials: BackstageCredentials;
  }): Promise<ChainVerification>;

  listTenants(options: {
    credentials: BackstageCredentials;
  }): Promise<{ items: TenantSummary[] }>;

  listMismatches(options: {
    tenant?: string;
    credentials: BackstageCredentials;
  }): Promise<{ items: Mismatch[] }>;

  /** Compliance over the last `days` UTC days, across the whole catalog. */
  getComplianceHistory(options: {
    days: number;
    credentials: BackstageCredentials;
  }): Promise<{ days: ComplianceDay[] }>;
}
