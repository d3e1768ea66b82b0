import { createApiRef } from '@backstage/core-plugin-api';
import type { CompoundEntityRef } from '@backstage/catalog-model';
import type {
  ChainVerification,
  Decision,
  EntityStatus,
  EntityStatusSummary,
  EvidenceSummary,
  ExceptionVerdict,
  Mismatch,
  Page,
  ResidencyException,
  TenantSummary,
  ResidencyState,
} from '@residency-dev/plugin-residency-common';

/**
 * An entity, either as a string reference (`component:default/payments`) or
 * as its parts.
 *
 * @public
 */
export type ResidencyEntityRef = string | CompoundEntityRef;

/** Status filter of the entity list: the stored decision. @public */
export type ResidencyStatusFilter = Decision;

/** Options of {@link ResidencyApi.listEntities}. @public */
export interface ListEntitiesOptions {
  status?: ResidencyStatusFilter;
  /**
   * The state shown to people: `resident_by_exception` is counted apart from
   * `not_resident` (non_compliant or invalid decisions not waived).
   */
  state?: ResidencyState;
  tenant?: string;
  q?: string;
  cursor?: string;
  limit?: number;
}

/** Options of {@link ResidencyApi.downloadEvidence}. @public */
export interface DownloadEvidenceOptions {
  id: string;
  /** Used for the file name when the server does not name the file. */
  entityRef?: ResidencyEntityRef;
  /** Used for the file name when the server does not name the file. */
  sequence?: number;
}

/** What {@link ResidencyApi.downloadEvidence} saved. @public */
export interface DownloadedEvidence {
  filename: string;
  size: number;
}

/** What {@link ResidencyApi.downloadVsa} saved. @public */
export interface DownloadedVsa {
  /** The saved file's name (`residency-vsa-<kind>-<namespace>-<name>-<seq>.json`). */
  filename: string;
  /** Bytes saved. */
  size: number;
  /** How many signed summaries (one per decided image digest) the file holds. */
  count: number;
}

/**
 * Client of the Residency backend (`/api/residency`).
 *
 * @public
 */
export interface ResidencyApi {
  /** The entity's status, or `undefined` when the backend has not checked it (404). */
  getStatus(options: {
    entityRef: ResidencyEntityRef;
  }): Promise<EntityStatus | undefined>;
  listEntities(
    options?: ListEntitiesOptions,
  ): Promise<Page<EntityStatusSummary>>;
  refresh(options: { entityRef: ResidencyEntityRef }): Promise<EntityStatus>;
  listEvidence(options: {
    entityRef: ResidencyEntityRef;
    cursor?: string;
    limit?: number;
  }): Promise<Page<EvidenceSummary>>;
  verifyChain(options: {
    entityRef: ResidencyEntityRef;
  }): Promise<ChainVerification>;
  /** Fetches an evidence bundle (with the caller's credentials) and saves it as a file. */
  downloadEvidence(
    options: DownloadEvidenceOptions,
  ): Promise<DownloadedEvidence>;
  /**
   * Fetches the signed SLSA verification summaries (VSA v1) of an evidence
   * record and saves them as one JSON file. `undefined` (nothing saved) when
   * the portal issued none: VSAs not configured (empty list) or 404.
   */
  downloadVsa(
    options: DownloadEvidenceOptions,
  ): Promise<DownloadedVsa | undefined>;
  listTenants(): Promise<{ items: TenantSummary[] }>;
  /** The entity's exceptions (absent in implementations without exceptions). */
  listExceptions?(options: {
    entityRef: ResidencyEntityRef;
  }): Promise<EntityExceptions>;
  /** Requests an exception for the entity. */
  requestException?(options: {
    entityRef: ResidencyEntityRef;
    request: ExceptionRequest;
  }): Promise<ResidencyException>;
  /** Approves, rejects or revokes an exception. */
  decideException?(options: {
    id: string;
    action: 'approve' | 'reject' | 'revoke';
    comment?: string;
  }): Promise<ResidencyException>;
  listMismatches(options?: { tenant?: string }): Promise<{ items: Mismatch[] }>;
  /** Per UTC day, how many entities were resident, not resident, unknown, unchecked (one request). */
  getComplianceHistory(options?: {
    days?: number;
  }): Promise<{ days: ComplianceDay[] }>;
}

/** One day of the compliance history (`GET /compliance/history`). @public */
export interface ComplianceDay {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  resident: number;
  notResident: number;
  unknown: number;
  /** Entities without any evidence yet on that day. */
  unchecked: number;
}

/** An entity's exceptions, whether the caller may decide them, and the verdict. @public */
export interface EntityExceptions {
  items: ResidencyException[];
  canApprove: boolean;
  /** The caller's user entity ref. */
  viewer?: string;
  verdict?: ExceptionVerdict;
}

/** What a request for an exception names. @public */
export interface ExceptionRequest {
  reasonCodes: string[];
  digests: string[];
  justification: string;
  reference: string;
  /** ISO 8601; default: the tenant's longest window. */
  expiresAt?: string;
}

/** @public */
export const residencyApiRef = createApiRef<ResidencyApi>({
  id: 'plugin.residency.service',
});
