import type { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import { parseEntityRef } from '@backstage/catalog-model';
import type {
  ChainVerification,
  EntityStatus,
  EntityStatusSummary,
  EvidenceSummary,
  Mismatch,
  Page,
  ResidencyException,
  TenantSummary,
} from '@residency-dev/plugin-residency-common';
import type {
  ComplianceDay,
  DownloadEvidenceOptions,
  DownloadedEvidence,
  DownloadedVsa,
  EntityExceptions,
  ExceptionRequest,
  ListEntitiesOptions,
  ResidencyApi,
  ResidencyEntityRef,
} from './ResidencyApi';
import {
  evidenceFilename,
  filenameFromContentDisposition,
  vsaFilename,
} from './filename';

/** Saves a downloaded blob; replaceable in tests and non-browser hosts. @public */
export type SaveBlob = (blob: Blob, filename: string) => void;

/** Saves a blob through a temporary object URL and a synthetic link click. */
export const saveBlobInBrowser: SaveBlob = (blob, filename) => {
  const url = URL.createObjectURL(blob);
  try {
    const a = document.createElement('a');
    a.href = url;
    a.download = filename;
    a.rel = 'noopener';
    a.style.display = 'none';
    document.body.appendChild(a);
    a.click();
    a.remove();
  } finally {
    // Give the browser a moment to start the download before revoking.
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
};

/**
 * Talks to the Residency backend through the discovery and fetch APIs, so
 * the Backstage token is attached by the fetch middleware.
 *
 * @public
 */
export class ResidencyClient implements ResidencyApi {
  private readonly discoveryApi: DiscoveryApi;
  private readonly fetchApi: FetchApi;
  private readonly saveBlob: SaveBlob;

  constructor(options: {
    discoveryApi: DiscoveryApi;
    fetchApi: FetchApi;
    saveBlob?: SaveBlob;
  }) {
    this.discoveryApi = options.discoveryApi;
    this.fetchApi = options.fetchApi;
    this.saveBlob = options.saveBlob ?? saveBlobInBrowser;
  }

  async getStatus(options: {
    entityRef: ResidencyEntityRef;
  }): Promise<EntityStatus | undefined> {
    const response = await this.request(
      `${entityPath(options.entityRef)}/status`,
      { allowNotFound: true },
    );
    return response ? ((await response.json()) as EntityStatus) : undefined;
  }

  async listEntities(
    options: ListEntitiesOptions = {},
  ): Promise<Page<EntityStatusSummary>> {
    const response = await this.request(
      `/entities${query({
        status: options.status,
        state: options.state,
        tenant: options.tenant,
        q: options.q,
        cursor: options.cursor,
        limit: options.limit,
      })}`,
    );
    return (await response!.json()) as Page<EntityStatusSummary>;
  }

  async refresh(options: {
    entityRef: ResidencyEntityRef;
  }): Promise<EntityStatus> {
    const response = await this.request(
      `${entityPath(options.entityRef)}/refresh`,
      { method: 'POST' },
    );
    return (await response!.json()) as EntityStatus;
  }

  async listEvidence(options: {
    entityRef: ResidencyEntityRef;
    cursor?: string;
    limit?: number;
  }): Promise<Page<EvidenceSummary>> {
    const response = await this.request(
      `${entityPath(options.entityRef)}/evidence${query({
        cursor: options.cursor,
        limit: options.limit,
      })}`,
    );
    return (await response!.json()) as Page<EvidenceSummary>;
  }

  async verifyChain(options: {
    entityRef: ResidencyEntityRef;
  }): Promise<ChainVerification> {
    const response = await this.request(
      `${entityPath(options.entityRef)}/evidence/verify`,
    );
    return (await response!.json()) as ChainVerification;
  }

  async downloadEvidence(
    options: DownloadEvidenceOptions,
  ): Promise<DownloadedEvidence> {
    const response = await this.request(
      `/evidence/${encodeURIComponent(options.id)}`,
      { accept: 'application/json' },
    );
    const blob = await response!.blob();
    const filename =
      filenameFromContentDisposition(
        response!.headers.get('content-disposition'),
      ) ??
      evidenceFilename({
        entityRef: options.entityRef,
        sequence: options.sequence,
        id: options.id,
      });
    this.saveBlob(blob, filename);
    return { filename, size: blob.size };
  }

  /** Saves the record's VSAs (`{ items }` as served); `undefined` when none were issued. */
  async downloadVsa(
    options: DownloadEvidenceOptions,
  ): Promise<DownloadedVsa | undefined> {
    const response = await this.request(
      `/evidence/${encodeURIComponent(options.id)}/vsa`,
      { allowNotFound: true },
    );
    if (!response) {
      return undefined;
    }
    const body = (await response.json()) as { items?: unknown };
    if (!Array.isArray(body.items) || body.items.length === 0) {
      return undefined;
    }
    const blob = new Blob([`${JSON.stringify(body, null, 2)}\n`], {
      type: 'application/json',
    });
    const filename = vsaFilename({
      entityRef: options.entityRef,
      sequence: options.sequence,
      id: options.id,
    });
    this.saveBlob(blob, filename);
    return { filename, size: blob.size, count: body.items.length };
  }

  async listTenants(): Promise<{ items: TenantSummary[] }> {
    const response = await this.request('/tenants');
    return (await response!.json()) as { items: TenantSummary[] };
  }

  async listMismatches(
    options: { tenant?: string } = {},
  ): Promise<{ items: Mismatch[] }> {
    const response = await this.request(
      `/mismatches${query({ tenant: options.tenant })}`,
    );
    return (await response!.json()) as { items: Mismatch[] };
  }

  async getComplianceHistory(
    options: { days?: number } = {},
  ): Promise<{ days: ComplianceDay[] }> {
    const response = await this.request(
      `/compliance/history${query({
        days: options.days === undefined ? undefined : String(options.days),
      })}`,
    );
    return (await response!.json()) as { days: ComplianceDay[] };
  }

  async listExceptions(options: {
    entityRef: ResidencyEntityRef;
  }): Promise<EntityExceptions> {
    const response = await this.request(
      `${entityPath(options.entityRef)}/exceptions`,
    );
    return (await response!.json()) as EntityExceptions;
  }

  async requestException(options: {
    entityRef: ResidencyEntityRef;
    request: ExceptionRequest;
  }): Promise<ResidencyException> {
    const response = await this.request(
      `${entityPath(options.entityRef)}/exceptions`,
      { method: 'POST', body: options.request },
    );
    return (await response!.json()) as ResidencyException;
  }

  async decideException(options: {
    id: string;
    action: 'approve' | 'reject' | 'revoke';
    comment?: string;
  }): Promise<ResidencyException> {
    const response = await this.request(
      `/exceptions/${encodeURIComponent(options.id)}/${options.action}`,
      {
        method: 'POST',
        body: options.comment ? { comment: options.comment } : {},
      },
    );
    return (await response!.json()) as ResidencyException;
  }

  private async request(
    path: string,
    options: {
      method?: 'GET' | 'POST';
      allowNotFound?: boolean;
      accept?: string;
      /** A JSON body. */
      body?: unknown;
    } = {},
  ): Promise<Response | undefined> {
    const baseUrl = await this.discoveryApi.getBaseUrl('residency');
    const response = await this.fetchApi.fetch(`${baseUrl}${path}`, {
      method: options.method ?? 'GET',
      headers: {
        Accept: options.accept ?? 'application/json',
        ...(options.body !== undefined
          ? { 'Content-Type': 'application/json' }
          : {}),
      },
      ...(options.body !== undefined
        ? { body: JSON.stringify(options.body) }
        : {}),
    });
    if (options.allowNotFound && response.status === 404) {
      return undefined;
    }
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    return response;
  }
}

function entityPath(ref: ResidencyEntityRef): string {
  const { kind, namespace, name } =
    typeof ref === 'string' ? parseEntityRef(ref) : ref;
  return `/entities/${encodeURIComponent(kind)}/${encodeURIComponent(
    namespace,
  )}/${encodeURIComponent(name)}`;
}

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') {
      search.set(key, String(value));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
