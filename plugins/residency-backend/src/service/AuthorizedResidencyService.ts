import type {
  BackstageCredentials,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { NotAllowedError, NotFoundError } from '@backstage/errors';
import {
  AuthorizeResult,
  type BasicPermission,
  type ResourcePermission,
} from '@backstage/plugin-permission-common';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import {
  residencyEvidenceReadPermission,
  residencyRefreshPermission,
  residencyTenantsReadPermission,
} from '@residency-dev/plugin-residency-common';
import type { ResidencyService, ServiceOptions } from './ResidencyService';

/**
 * Every authorization decision of the API, in one place:
 * - status and lists follow catalog read access to the entity (404 when the caller
 *   cannot see it, never 403, so existence does not leak);
 * - evidence needs `residency.evidence.read` on the entity (403);
 * - refresh needs `residency.refresh` on the entity (403);
 * - tenants and mismatches need `residency.tenants.read` (403).
 */
export class AuthorizedResidencyService implements ResidencyService {
  readonly #inner: ResidencyService;
  readonly #catalog: CatalogService;
  readonly #permissions: PermissionsService;

  constructor(options: {
    inner: ResidencyService;
    catalog: CatalogService;
    permissions: PermissionsService;
  }) {
    this.#inner = options.inner;
    this.#catalog = options.catalog;
    this.#permissions = options.permissions;
  }

  async #ensureVisible(entityRef: string, credentials: BackstageCredentials) {
    const entity = await this.#catalog.getEntityByRef(entityRef, {
      credentials,
    });
    if (!entity) {
      throw new NotFoundError(`No residency status for ${entityRef}`);
    }
  }

  async #ensureAllowed(
    permission: ResourcePermission<'catalog-entity'> | BasicPermission,
    credentials: BackstageCredentials,
    resourceRef?: string,
  ) {
    const [decision] = await this.#permissions.authorize(
      [
        resourceRef
          ? {
              permission: permission as ResourcePermission<'catalog-entity'>,
              resourceRef,
            }
          : { permission: permission as BasicPermission },
      ],
      { credentials },
    );
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(`Missing permission ${permission.name}`);
    }
  }

  /** The entity is visible to the caller (else 404) and the permission allows it (else 403). */
  async #ensureEntityAllowed(
    permission: ResourcePermission<'catalog-entity'>,
    options: { entityRef: string; credentials: BackstageCredentials },
  ) {
    await this.#ensureVisible(options.entityRef, options.credentials);
    await this.#ensureAllowed(
      permission,
      options.credentials,
      options.entityRef,
    );
  }

  async getStatus(options: ServiceOptions<'getStatus'>) {
    await this.#ensureVisible(options.entityRef, options.credentials);
    return this.#inner.getStatus(options);
  }

  async listEntities(options: ServiceOptions<'listEntities'>) {
    const page = await this.#inner.listEntities(options);
    if (page.items.length === 0) {
      return page;
    }
    // Rows the caller cannot read in the catalog are dropped; the page may then be
    // shorter than the limit, and the total is no longer exact, so it is omitted.
    const { items } = await this.#catalog.getEntitiesByRefs(
      {
        entityRefs: page.items.map(i => i.entityRef),
        fields: ['kind', 'metadata.name'],
      },
      { credentials: options.credentials },
    );
    const visible = page.items.filter((_, i) => Boolean(items[i]));
    return {
      items: visible,
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
      ...(visible.length === page.items.length && page.totalCount !== undefined
        ? { totalCount: page.totalCount }
        : {}),
    };
  }

  async refresh(options: ServiceOptions<'refresh'>) {
    await this.#ensureEntityAllowed(residencyRefreshPermission, options);
    return this.#inner.refresh(options);
  }

  async listEvidence(options: ServiceOptions<'listEvidence'>) {
    await this.#ensureEntityAllowed(residencyEvidenceReadPermission, options);
    return this.#inner.listEvidence(options);
  }

  async getEvidenceBundle(options: ServiceOptions<'getEvidenceBundle'>) {
    const bundle = await this.#inner.getEvidenceBundle(options);
    const entityRef = bundle.evidence.record.entityRef;
    // Same answer as an unknown id, so ids do not reveal hidden entities.
    await this.#ensureVisible(entityRef, options.credentials).catch(error => {
      throw error?.name === 'NotFoundError'
        ? new NotFoundError(`No evidence record ${options.id}`)
        : error;
    });
    await this.#ensureAllowed(
      residencyEvidenceReadPermission,
      options.credentials,
      entityRef,
    );
    return bundle;
  }

  async verifyChain(options: ServiceOptions<'verifyChain'>) {
    await this.#ensureEntityAllowed(residencyEvidenceReadPermission, options);
    return this.#inner.verifyChain(options);
  }

  async listTenants(options: { credentials: BackstageCredentials }) {
    await this.#ensureAllowed(
      residencyTenantsReadPermission,
      options.credentials,
    );
    return this.#inner.listTenants(options);
  }

  async listMismatches(options: ServiceOptions<'listMismatches'>) {
    await this.#ensureAllowed(
      residencyTenantsReadPermission,
      options.credentials,
    );
    return this.#inner.listMismatches(options);
  }

  // Across the whole catalog: platform owners and auditors, like tenants.
  async getComplianceHistory(options: ServiceOptions<'getComplianceHistory'>) {
    await this.#ensureAllowed(
      residencyTenantsReadPermission,
      options.credentials,
    );
    return this.#inner.getComplianceHistory(options);
  }
}
