import type { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import { parseEntityRef } from '@backstage/catalog-model';
import type {
  ExceptionVerdict,
  ResidencyException,
} from '@residency-dev/plugin-residency-common';

/** An entity's exceptions, whether the caller may decide them, and the verdict. @public */
export interface EntityExceptions {
  items: ResidencyException[];
  canApprove: boolean;
  verdict?: ExceptionVerdict;
}

/** What a request for an exception names. @public */
export interface ExceptionRequest {
  reasonCodes: string[];
  digests: string[];
  justification: string;
  reference: string;
  expiresAt?: string;
}

/**
 * Client of the exception routes of /api/residency (see the backend's
 * openapi.yaml); one private request() over discoveryApi and fetchApi.
 *
 * @public
 */
export class ExceptionsClient {
  constructor(
    private readonly options: {
      discoveryApi: DiscoveryApi;
      fetchApi: FetchApi;
    },
  ) {}

  async list(entityRef: string): Promise<EntityExceptions> {
    return (await this.request(
      `${entityPath(entityRef)}/exceptions`,
    )) as EntityExceptions;
  }

  async requestException(
    entityRef: string,
    body: ExceptionRequest,
  ): Promise<ResidencyException> {
    return (await this.request(`${entityPath(entityRef)}/exceptions`, {
      method: 'POST',
      body,
    })) as ResidencyException;
  }

  async decide(
    id: string,
    action: 'approve' | 'reject' | 'revoke',
    comment?: string,
  ): Promise<ResidencyException> {
    return (await this.request(
      `/exceptions/${encodeURIComponent(id)}/${action}`,
      { method: 'POST', body: comment ? { comment } : {} },
    )) as ResidencyException;
  }

  private async request(
    path: string,
    init: { method?: 'GET' | 'POST'; body?: unknown } = {},
  ): Promise<unknown> {
    const baseUrl = await this.options.discoveryApi.getBaseUrl('residency');
    const response = await this.options.fetchApi.fetch(`${baseUrl}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        Accept: 'application/json',
        ...(init.body !== undefined
          ? { 'Content-Type': 'application/json' }
          : {}),
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    if (!response.ok) throw await ResponseError.fromResponse(response);
    return response.json();
  }
}

function entityPath(ref: string): string {
  const { kind, namespace, name } = parseEntityRef(ref);
  return `/entities/${encodeURIComponent(kind)}/${encodeURIComponent(
    namespace,
  )}/${encodeURIComponent(name)}`;
}
