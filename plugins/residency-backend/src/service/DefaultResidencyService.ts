import type {
  AuthService,
  BackstageCredentials,
} from '@backstage/backend-plugin-api';
import { NotFoundError, ServiceUnavailableError } from '@backstage/errors';
import { randomUUID } from 'node:crypto';
import { RefreshThrottledError } from './errors';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import {
  DECISIONS,
  EVIDENCE_BUNDLE_SCHEMA,
  type Decision,
  type EntityStatus,
  type EvidenceBundle,
  type Mismatch,
  type TenantSummary,
  type ResidencyState,
} from '@residency-dev/plugin-residency-common';
import type { ResidencyEngine } from '@residency-dev/plugin-residency-node';
import type { ResidencyStore } from '../database/ResidencyStore';
import { EntityEvaluator, readEntityInputs } from '../refresh/EntityEvaluator';
import type { ResidencyService, ServiceOptions } from './ResidencyService';
import {
  aggregateComplianceHistory,
  type ComplianceDay,
} from './complianceHistory';

/** On-demand refreshes one principal may ask for per window, by default. */
export const DEFAULT_REFRESH_LIMIT = { perPrincipal: 10, windowSeconds: 60 };
/** How long an on-demand refresh holds its entity if its replica dies. */
const ON_DEMAND_LEASE_SECONDS = 120;

/** Cap on the mismatches one request returns. */
export const MAX_MISMATCHES = 1000;

function principalRef(credentials: BackstageCredentials): string | undefined {
  const p = credentials.principal as {
    type: string;
    userEntityRef?: string;
    subject?: string;
  };
  if (p.type === 'user') {
    return p.userEntityRef;
  }
  if (p.type === 'service') {
    return p.subject;
  }
  return undefined;
}

/** What {@link DefaultResidencyService.create} needs. */
export interface DefaultResidencyServiceOptions {
  store: ResidencyStore;
  evaluator: EntityEvaluator;
  catalog: CatalogService;
  auth: AuthService;
  refreshLimit?: { perPrincipal: number; windowSeconds: number };
  /** The clock of the compliance history (tests set it). */
  now?: () => Date;
}

/** The residency service without authorization; wrap it in AuthorizedResidencyService. */
export class DefaultResidencyService implements ResidencyService {
  readonly #store: ResidencyStore;
  readonly #evaluator: EntityEvaluator;
  readonly #catalog: CatalogService;
  readonly #auth: AuthService;
  readonly #refreshLimit: { perPrincipal: number; windowSeconds: number };
  readonly #now: () => Date;

  static create(
    options: DefaultResidencyServiceOptions,
  ): DefaultResidencyService {
    return new DefaultResidencyService(options);
  }

  private constructor(options: DefaultResidencyServiceOptions) {
    this.#now = options.now ?? (() => new Date());
    this.#refreshLimit = options.refreshLimit ?? DEFAULT_REFRESH_LIMIT;
    this.#store = options.store;
    this.#evaluator = options.evaluator;
    this.#catalog = options.catalog;
    this.#auth = options.auth;
  }

  get #engine(): ResidencyEngine {
    return this.#evaluator.engine;
  }

  async getStatus(options: { entityRef: string }): Promise<EntityStatus> {
    const status = await this.#store.getStatus({
      entityRef: options.entityRef,
    });
    if (!status) {
      throw new NotFoundError(`No residency status for ${options.entityRef}`);
    }
    return status;
  }

  async listEntities(options: {
    decision?: Decision;
    state?: ResidencyState;
    tenant?: string;
    q?: string;
    cursor?: string;
    limit: number;
  }) {
    return this.#store.listStatuses(options);
  }

  async refresh(options: {
    entityRef: string;
    credentials?: BackstageCredentials;
    signal?: AbortSignal;
  }) {
    // Read with the plugin's own credentials: the caller's visibility was checked
    // by the authorized layer, and the engine must see the whole entity.
    const entity = await this.#catalog.getEntityByRef(options.entityRef, {
      credentials: await this.#auth.getOwnServiceCredentials(),
    });
    const inputs = entity && readEntityInputs(entity);
    if (!inputs) {
      throw new NotFoundError(
        `${options.entityRef} does not exist or declares no residency.dev/images`,
      );
    }
    if (!(await this.#evaluator.isNewestConfiguration())) {
      throw new ServiceUnavailableError(
        'This replica runs an older trust or policy configuration than another one; it does not decide until it is updated.',
      );
    }
    const holder = randomUUID();
    const principal =
      (options.credentials && principalRef(options.credentials)) ?? 'anonymous';
    const admission = await this.#store.admitRefresh({
      entityRef: options.entityRef,
      principal,
      holder,
      leaseSeconds: ON_DEMAND_LEASE_SECONDS,
      limit: this.#refreshLimit.perPrincipal,
      windowSeconds: this.#refreshLimit.windowSeconds,
    });
    if (!admission.admitted) {
      throw new RefreshThrottledError(
        admission.reason === 'in_flight'
          ? `A refresh of ${options.entityRef} is already running`
          : `Too many refreshes: at most ${
              this.#refreshLimit.perPrincipal
            } per ${this.#refreshLimit.windowSeconds} s`,
        admission.reason,
        admission.retryAfterSeconds,
      );
    }
    try {
      const { status } = await this.#evaluator.evaluate({
        inputs,
        signal: options.signal,
        fresh: true,
      });
      return status;
    } finally {
      await this.#store.finishRefresh({
        entityRef: options.entityRef,
        holder,
      });
    }
  }

  async listEvidence(options: {
    entityRef: string;
    cursor?: string;
    limit: number;
  }) {
    return this.#store.listEvidence(options);
  }

  async getEvidenceBundle(
    options: ServiceOptions<'getEvidenceBundle'>,
  ): Promise<EvidenceBundle> {
    const stored = await this.#store.getEvidence({ id: options.id });
    if (!stored) {
      throw new NotFoundError(`No evidence record ${options.id}`);
    }
    const exportedBy = principalRef(options.credentials);
    return {
      schema: EVIDENCE_BUNDLE_SCHEMA,
      evidence: stored.evidence,
      ...(stored.previous ? { previous: stored.previous } : {}),
      exportedAt: new Date().toISOString(),
      ...(exportedBy ? { exportedBy } : {}),
    };
  }

  async verifyChain(options: { entityRef: string }) {
    return this.#store.verifyChain({ entityRef: options.entityRef });
  }

  async listTenants(): Promise<{ items: TenantSummary[] }> {
    const settings = this.#engine.settings;
    const [counts, byException] = await Promise.all([
      this.#store.countByTenant(),
      this.#store.countResidentByExceptionByTenant(),
    ]);
    const items = Object.entries(settings.tenants)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([id, tenant]): TenantSummary => {
        const regions = settings.boundaries[tenant.boundary] ?? [];
        const inside = (region: string) => regions.includes(region);
        return {
          id,
          boundary: { name: tenant.boundary, regions },
          require: tenant.require,
          registries: settings.registries.map(r => ({
            host: r.host,
            region: r.region,
            insideBoundary: inside(r.region),
          })),
          layouts: (settings.layouts ?? []).map(l => ({
            path: l.path,
            region: l.region,
            insideBoundary: inside(l.region),
          })),
          keys: settings.keys.map(k => ({
            id: k.id,
            fingerprint: k.fingerprint,
            region: k.region,
            regionSource: k.regionSource,
            algorithm: k.algorithm,
            ...(k.validFrom ? { validFrom: k.validFrom } : {}),
            ...(k.validUntil ? { validUntil: k.validUntil } : {}),
            revoked: k.revoked,
            insideBoundary: inside(k.region),
          })),
          counts:
            counts[id] ??
            (Object.fromEntries(DECISIONS.map(d => [d, 0])) as Record<
              Decision,
              number
            >),
          residentByException: byException[id] ?? 0,
        };
      });
    return { items };
  }

  async listMismatches(options: {
    tenant?: string;
  }): Promise<{ items: Mismatch[] }> {
    const items: Mismatch[] = [];
    let after: string | undefined;
    const batch = 200;
    while (items.length < MAX_MISMATCHES) {
      const statuses = await this.#store.scanStatuses({
        tenant: options.tenant,
        after,
        limit: batch,
      });
      for (const status of statuses) {
        items.push(...mismatchesOf({ status, engine: this.#engine }));
      }
      if (statuses.length < batch) {
        break;
      }
      after = statuses[statuses.length - 1].entityRef;
    }
    return { items: items.slice(0, MAX_MISMATCHES) };
  }

  async getComplianceHistory(options: {
    days: number;
  }): Promise<{ days: ComplianceDay[] }> {
    const log = await this.#store.listDecisionLog();
    return {
      days: aggregateComplianceHistory(log, {
        days: options.days,
        now: this.#now(),
      }),
    };
  }
}

const BUILD_REGION_FACTS = ['buildRegion', 'region', 'builderRegion'];

/** Everything about one entity that lies outside its tenant's boundary. */
export function mismatchesOf(options: {
  status: EntityStatus;
  engine: ResidencyEngine;
}): Mismatch[] {
  const { status, engine } = options;
  const out: Mismatch[] = [];
  const { entityRef, tenant } = status;
  const configured = tenant ? engine.settings.tenants[tenant] : undefined;
  if (tenant && !configured) {
    out.push({ entityRef, tenant, kind: 'tenant_unknown', value: tenant });
    return out;
  }
  if (!configured) {
    return out;
  }
  const boundary = {
    name: configured.boundary,
    regions: engine.settings.boundaries[configured.boundary] ?? [],
  };
  const outside = (region: string | undefined): region is string =>
    typeof region === 'string' && !boundary.regions.includes(region);
  const seen = new Set<string>();
  const add = (m: Omit<Mismatch, 'entityRef' | 'tenant' | 'boundary'>) => {
    const key = `${m.kind}\n${m.value}\n${m.where ?? ''}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push({ entityRef, tenant, boundary, ...m });
    }
  };
  if (outside(status.declaredRegion)) {
    add({ kind: 'declared_region', value: status.declaredRegion });
  }
  for (const image of status.images ?? []) {
    if (outside(image.registryRegion)) {
      add({
        kind: 'registry_region',
        value: image.registryRegion,
        where: image.reference,
      });
    }
    // `key` is only ever the pinned key whose signature check passed (never a hint
    // from the artifact), so a key outside the boundary is a real mapping mismatch
    // even though that signature is, for this reason, not accepted (verified: false).
    for (const s of image.signatures ?? []) {
      if (s.key && outside(s.key.region)) {
        add({ kind: 'key_region', value: s.key.region, where: s.key.id });
      }
    }
    for (const a of image.attestations ?? []) {
      if (a.key && outside(a.key.region)) {
        add({ kind: 'key_region', value: a.key.region, where: a.key.id });
      }
      for (const fact of BUILD_REGION_FACTS) {
        const value = a.verified ? a.facts?.[fact] : undefined;
        if (typeof value === 'string' && outside(value)) {
          add({ kind: 'build_region', value, where: image.reference });
        }
      }
    }
  }
  return out;
}
