import { randomUUID } from 'node:crypto';
import type {
  AuthService,
  LoggerService,
  SchedulerService,
  SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import { CATALOG_FILTER_EXISTS } from '@backstage/catalog-client';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { durationToMilliseconds } from '@backstage/types';
import { ANNOTATION_IMAGES } from '@residency-dev/plugin-residency-common';
import type { ClaimKey, ResidencyStore } from '../database/ResidencyStore';
import {
  EntityEvaluator,
  type DecidedEntity,
  readEntityInputs,
  type EntityInputs,
} from './EntityEvaluator';
import { RegistryIsolation, registriesOf } from './registries';

/** Stable id of the scheduled full refresh. */
export const REFRESH_TASK_ID = 'residency-refresh';
/** Stable id of the short-interval pass over changed annotations. */
export const DELTA_TASK_ID = 'residency-refresh-delta';

/**
 * The claim that makes a cycle's end-of-cycle work (removals, retention) run
 * once per cycle across slices and replicas. Not an entity ref (no kind).
 */
export const END_OF_CYCLE_CLAIM = '#end-of-cycle';

/** Longest interval between two slices of the full refresh on one replica. */
const MAX_SLICE_MS = 60_000;

/** What one pass did. */
export interface RefreshSummary {
  cycleId: string;
  /** Entities with the images annotation seen in the catalog. */
  seen: number;
  /** Entities this instance claimed and evaluated. */
  evaluated: number;
  /** Evaluations that threw; their claims expire and are taken over. */
  failed: number;
  /** Checks interrupted by the task's abort signal: not attempts, claims released. */
  aborted: number;
  /**
   * Entities not checked because a registry of theirs was cut off for the cycle
   * (circuit breaker); their last good status is marked stale with the reason.
   */
  skippedUnavailable: number;
  /** Registries cut off for this cycle. */
  unavailableRegistries: string[];
  /** True when the pass did nothing because another replica runs a newer configuration. */
  standingBack?: boolean;
  /** Statuses removed because their entity left the catalog (full pass only). */
  removed: number;
  /** Evidence records pruned by retention (full pass only). */
  pruned: number;
}

const ENTITY_FIELDS = [
  'kind',
  'metadata.namespace',
  'metadata.name',
  'metadata.title',
  'metadata.annotations',
];

/** What a refresher is built from. */
export interface ResidencyRefresherOptions {
  catalog: CatalogService;
  auth: AuthService;
  store: ResidencyStore;
  evaluator: EntityEvaluator;
  logger: LoggerService;
  schedule: SchedulerServiceTaskScheduleDefinition;
  batchSize: number;
  leaseSeconds: number;
  entityConcurrency: number;
  instanceId?: string;
  keepRecordsPerEntity?: number;
  /**
   * Consecutive failed checks (registry unreachable or rate limited) after which
   * a registry is cut off for the rest of the cycle. Default 3.
   */
  registryFailureThreshold?: number;
}

/**
 * Keeps every annotated entity's status current. Replicas share the work through
 * expiring claims in the database: within one cycle each entity is evaluated once.
 */
export class ResidencyRefresher {
  readonly #catalog: CatalogService;
  readonly #auth: AuthService;
  readonly #store: ResidencyStore;
  readonly #evaluator: EntityEvaluator;
  readonly #logger: LoggerService;
  readonly #instanceId: string;
  readonly #batchSize: number;
  readonly #leaseSeconds: number;
  readonly #concurrency: number;
  readonly #cycleMs: number;
  readonly #keepRecordsPerEntity?: number;
  readonly #registryFailureThreshold: number;
  readonly #sliceMs: number;
  readonly #manual: boolean;

  static create(options: ResidencyRefresherOptions): ResidencyRefresher {
    return new ResidencyRefresher(options);
  }

  private constructor(options: ResidencyRefresherOptions) {
    this.#keepRecordsPerEntity = options.keepRecordsPerEntity;
    this.#catalog = options.catalog;
    this.#auth = options.auth;
    this.#store = options.store;
    this.#evaluator = options.evaluator;
    this.#logger = options.logger;
    this.#instanceId = options.instanceId ?? randomUUID();
    this.#batchSize = options.batchSize;
    this.#leaseSeconds = options.leaseSeconds;
    this.#concurrency = options.entityConcurrency;
    this.#registryFailureThreshold = options.registryFailureThreshold ?? 3;
    const frequency = options.schedule.frequency;
    this.#manual = 'trigger' in frequency;
    // One cycle per window of the configured frequency (a cron schedule counts
    // as 10 minutes): every slice on every replica within a window continues
    // the same cycle, and entities done in it are skipped.
    this.#cycleMs = Math.max(
      1000,
      'cron' in frequency || 'trigger' in frequency
        ? 10 * 60_000
        : durationToMilliseconds(frequency as any),
    );
    this.#sliceMs = Math.max(
      1000,
      Math.min(this.#cycleMs, this.#leaseSeconds * 1000, MAX_SLICE_MS),
    );
  }

  /**
   * The full task as registered. It runs on every replica (scope `local`) as
   * slices: every min(frequency, lease, 60 s), each slice continuing the cycle
   * of the current frequency window, with the lease as its timeout. Replicas
   * share the work through the claims alone, so takeover after a crash follows
   * the lease: a dead replica's claims expire after it, and the next slice of
   * any live replica takes them (no wait for the scheduler's janitor, which
   * frees a dead global run only every 60 s after its timeout).
   * A manually triggered schedule stays manual.
   */
  fullTaskSchedule(
    schedule: SchedulerServiceTaskScheduleDefinition,
  ): SchedulerServiceTaskScheduleDefinition {
    return {
      ...schedule,
      ...(this.#manual
        ? {}
        : { frequency: { seconds: Math.round(this.#sliceMs / 1000) } }),
      timeout: { seconds: this.#leaseSeconds },
    };
  }

  /** Registers the full and the delta task with the scheduler. */
  async schedule(options: {
    scheduler: SchedulerService;
    schedule: SchedulerServiceTaskScheduleDefinition;
    deltaSchedule: SchedulerServiceTaskScheduleDefinition;
  }): Promise<void> {
    await options.scheduler.scheduleTask({
      id: REFRESH_TASK_ID,
      ...this.fullTaskSchedule(options.schedule),
      // Local: each replica runs its own slices; the claims coordinate them.
      // After the spread: a schedule read from config carries `scope`.
      scope: 'local',
      fn: async signal => {
        await this.runOnce(signal);
      },
    });
    await options.scheduler.scheduleTask({
      id: DELTA_TASK_ID,
      scope: 'global',
      ...options.deltaSchedule,
      fn: async signal => {
        await this.runDelta(signal);
      },
    });
  }

  /**
   * One full refresh cycle: pages through the catalog, claims batches of annotated
   * entities and evaluates the claimed ones. Safe to run on several replicas at once.
   */
  async runOnce(
    signal?: AbortSignal,
    options?: { cycleId?: string },
  ): Promise<RefreshSummary> {
    const cycleId =
      options?.cycleId ?? `full-${Math.floor(Date.now() / this.#cycleMs)}`;
    // A new pass asks each registry afresh whether it serves the referrers API
    // (the engine remembers an absent one for the rest of the pass). Registry
    // isolation itself is this refresher's per-cycle breaker, below.
    this.#evaluator.engine.newCycle?.();
    const summary: RefreshSummary = {
      cycleId,
      seen: 0,
      evaluated: 0,
      failed: 0,
      aborted: 0,
      skippedUnavailable: 0,
      unavailableRegistries: [],
      removed: 0,
      pruned: 0,
    };
    if (!(await this.#mayDecide(summary))) {
      return summary;
    }
    const present = new Set<string>();
    const startedAt = new Date().toISOString();
    const isolation = this.#isolation();
    let listed = false;
    let inFlight: Promise<void>[] = [];
    try {
      for await (const page of this.#pages()) {
        const inputs = page.flatMap(e => readEntityInputs(e) ?? []);
        inputs.forEach(i => present.add(i.entityRef));
        summary.seen += inputs.length;
        // Aborted: keep listing the catalog (cheap) so the removals below still
        // know every entity, but claim nothing more.
        if (signal?.aborted) {
          continue;
        }
        const claimed = new Set(
          await this.#store.claimEntities({
            entityRefs: inputs.map(i => i.entityRef),
            lane: 'full',
            cycleId,
            claimedBy: this.#instanceId,
            leaseSeconds: this.#leaseSeconds,
          }),
        );
        // Two pages in flight: a slow registry in one page does not hold the
        // next page's healthy entities, and no more is claimed than is worked on.
        inFlight.push(
          this.#evaluateAll(
            inputs.filter(i => claimed.has(i.entityRef)),
            'full',
            () => cycleId,
            summary,
            isolation,
            signal,
          ),
        );
        if (inFlight.length >= 2) {
          await inFlight.shift();
        }
      }
      listed = true;
    } finally {
      await Promise.allSettled(inFlight);
      inFlight = [];
      // End-of-cycle work runs whatever happened before: timeouts, aborts and
      // failed checks do not skip it. Removal needs the whole catalog listing.
      // Once per cycle: the first slice (on any replica) that listed the whole
      // catalog does it; later slices of the cycle skip it.
      if (listed) {
        await this.#endOfCycleOnce({ cycleId, present, startedAt, summary });
      }
    }
    this.#logger.info(
      `Residency refresh ${cycleId}: ${summary.seen} entities, ${
        summary.evaluated
      } evaluated here, ${summary.failed} failed, ${summary.aborted} aborted, ${
        summary.skippedUnavailable
      } skipped on unavailable registries [${summary.unavailableRegistries.join(
        ', ',
      )}], ${summary.removed} removed, ${summary.pruned} pruned`,
    );
    return summary;
  }

  async #endOfCycleOnce(options: {
    cycleId: string;
    present: Set<string>;
    startedAt: string;
    summary: RefreshSummary;
  }) {
    const claim = {
      entityRef: END_OF_CYCLE_CLAIM,
      lane: 'full' as const,
      cycleId: options.cycleId,
      claimedBy: this.#instanceId,
    };
    let claimed: string[];
    try {
      claimed = await this.#store.claimEntities({
        ...claim,
        entityRefs: [END_OF_CYCLE_CLAIM],
        leaseSeconds: this.#leaseSeconds,
      });
    } catch (error) {
      this.#logger.warn(
        'Residency could not claim the end-of-cycle work; the next slice tries again',
        error as Error,
      );
      return;
    }
    if (!claimed.length) {
      // Done in this cycle already, or under way on another replica.
      return;
    }
    await this.#endOfCycle(options);
    await this.#store
      .completeClaim(claim)
      .catch(error =>
        this.#logger.warn(
          'Residency could not record the end-of-cycle work as done',
          error as Error,
        ),
      );
  }

  async #endOfCycle(options: {
    present: Set<string>;
    startedAt: string;
    summary: RefreshSummary;
  }) {
    const { summary } = options;
    try {
      summary.removed = await this.#removeVanished(
        options.present,
        options.startedAt,
      );
    } catch (error) {
      this.#logger.warn(
        'Residency could not remove statuses of vanished entities',
        error as Error,
      );
    }
    if (this.#keepRecordsPerEntity) {
      try {
        summary.pruned = await this.#store.applyRetention({
          keepPerEntity: this.#keepRecordsPerEntity,
        });
      } catch (error) {
        this.#logger.warn(
          'Residency could not apply evidence retention',
          error as Error,
        );
      }
    }
  }

  /** False (and logged) when another replica runs a newer configuration. */
  async #mayDecide(summary: RefreshSummary): Promise<boolean> {
    if (await this.#evaluator.isNewestConfiguration()) {
      return true;
    }
    summary.standingBack = true;
    this.#logger.warn(
      `Residency ${summary.cycleId} pass skipped: another replica runs a newer trust or policy configuration; this one decides nothing until it runs the same`,
    );
    return false;
  }

  #isolation(): RegistryIsolation {
    return new RegistryIsolation({
      concurrency: this.#concurrency,
      perRegistryConcurrency: Math.max(1, Math.ceil(this.#concurrency / 2)),
      threshold: this.#registryFailureThreshold,
    });
  }

  /**
   * The short-interval pass: evaluates entities whose annotations, tenant policy or
   * trust configuration changed since their stored status (or that have none).
   */
  async runDelta(signal?: AbortSignal): Promise<RefreshSummary> {
    const summary: RefreshSummary = {
      cycleId: 'delta',
      seen: 0,
      evaluated: 0,
      failed: 0,
      aborted: 0,
      skippedUnavailable: 0,
      unavailableRegistries: [],
      removed: 0,
      pruned: 0,
    };
    if (!(await this.#mayDecide(summary))) {
      return summary;
    }
    const isolation = this.#isolation();
    for await (const page of this.#pages()) {
      if (signal?.aborted) {
        break;
      }
      const inputs = page.flatMap(e => readEntityInputs(e) ?? []);
      summary.seen += inputs.length;
      const stored = await this.#store.getInputsHashes({
        entityRefs: inputs.map(i => i.entityRef),
      });
      const hashes = new Map(
        inputs.map(i => [i.entityRef, this.#evaluator.inputsHash(i)]),
      );
      const changed: EntityInputs[] = [];
      for (const input of inputs) {
        const hash = hashes.get(input.entityRef)!;
        if (stored.get(input.entityRef) === hash) {
          continue;
        }
        // One claim per change: the cycle of a delta claim is the new inputs hash.
        const got = await this.#store.claimEntities({
          entityRefs: [input.entityRef],
          lane: 'delta',
          cycleId: `delta-${hash}`,
          claimedBy: this.#instanceId,
          leaseSeconds: this.#leaseSeconds,
        });
        if (got.length) {
          changed.push(input);
        }
      }
      await this.#evaluateAll(
        changed,
        'delta',
        ref => `delta-${hashes.get(ref)}`,
        summary,
        isolation,
        signal,
      );
    }
    if (summary.evaluated || summary.failed) {
      this.#logger.info(
        `Residency delta pass: ${summary.evaluated} changed entities evaluated, ${summary.failed} failed`,
      );
    }
    return summary;
  }

  async *#pages() {
    const credentials = await this.#auth.getOwnServiceCredentials();
    yield* this.#catalog.streamEntities(
      {
        filter: {
          [`metadata.annotations.${ANNOTATION_IMAGES}`]: CATALOG_FILTER_EXISTS,
        },
        fields: ENTITY_FIELDS,
        pageSize: this.#batchSize,
      },
      { credentials },
    );
  }

  async #evaluateAll(
    inputs: EntityInputs[],
    lane: 'full' | 'delta',
    cycleOf: (entityRef: string) => string,
    summary: RefreshSummary,
    isolation: RegistryIsolation,
    signal?: AbortSignal,
  ) {
    // The page's reusable per-digest results in one statement, not one per image.
    await this.#evaluator.prefetch(inputs.map(i => i.entityRef));
    // Entities on registries that already failed go last, so healthy registries finish first.
    const ordered = inputs
      .map(input => ({ input, registries: registriesOf(input.images) }))
      .sort(
        (a, b) =>
          Math.max(0, ...a.registries.map(r => isolation.failuresOf(r))) -
          Math.max(0, ...b.registries.map(r => isolation.failuresOf(r))),
      );
    // Each entity is decided within its registries' limits; the decided ones
    // are then recorded together, the page's plain confirmations in one
    // statement (recordDecided), outside the registry slots.
    const decided: { entity: DecidedEntity; claim: ClaimKey }[] = [];
    await Promise.all(
      ordered.map(async ({ input, registries }) => {
        const claim = {
          entityRef: input.entityRef,
          lane,
          cycleId: cycleOf(input.entityRef),
          claimedBy: this.#instanceId,
        };
        const entity = await isolation.run(registries, () =>
          this.#decideOne(input, registries, claim, summary, isolation, signal),
        );
        if (entity) {
          decided.push({ entity, claim });
        }
      }),
    );
    if (decided.length) {
      const recorded = await this.#evaluator.recordDecided(
        decided,
        this.#concurrency,
      );
      recorded.forEach((r, i) => {
        if (r.ok) {
          summary.evaluated += 1;
        } else {
          this.#failed(summary, decided[i].entity.inputs.entityRef, r.error);
        }
      });
    }
    for (const registry of isolation.openAmong(
      registriesOf(inputs.flatMap(i => i.images)),
    )) {
      if (!summary.unavailableRegistries.includes(registry)) {
        summary.unavailableRegistries.push(registry);
      }
    }
  }

  /**
   * Decides one claimed entity; undefined when there is nothing to record (aborted,
   * failed, or marked stale because its registry is cut off: all handled here).
   */
  async #decideOne(
    input: EntityInputs,
    registries: string[],
    claim: ClaimKey,
    summary: RefreshSummary,
    isolation: RegistryIsolation,
    signal?: AbortSignal,
  ): Promise<DecidedEntity | undefined> {
    if (signal?.aborted) {
      // Never started: not an attempt; the claim goes back for the next pass.
      summary.aborted += 1;
      await this.#release(claim);
      return undefined;
    }
    const open = isolation.openAmong(registries);
    try {
      if (open.length) {
        // The registry is cut off for this cycle: the entity goes stale at once
        // with the reason, without waiting on the registry again.
        await this.#store.markStale({
          entityRef: input.entityRef,
          attempt: {
            decision: 'unknown',
            reasons: open.map(registry => ({
              code: 'registry_unreachable',
              message: `Registry ${registry} failed ${isolation.threshold} consecutive checks in this refresh cycle; it is asked again in the next one.`,
              details: { registry, circuitOpen: true },
            })),
            checkedAt: new Date().toISOString(),
          },
        });
        await this.#store.completeClaim(claim);
        summary.skippedUnavailable += 1;
        return undefined;
      }
      const entity = await this.#evaluator.decide({ inputs: input, signal });
      // At once, not after the page's record: the breaker must see a failing
      // registry while the rest of the page is still being decided.
      isolation.record(entity.result);
      return entity;
    } catch (error) {
      if (signal?.aborted) {
        // Aborted: not an attempt. Give the claim back so the next pass (on
        // any replica) takes the entity at once instead of after the lease.
        summary.aborted += 1;
        await this.#release(claim);
        return undefined;
      }
      this.#failed(summary, input.entityRef, error);
      return undefined;
    }
  }

  /** A check that failed, in its decision or its record: the claim is retried. */
  #failed(summary: RefreshSummary, entityRef: string, error: unknown) {
    summary.failed += 1;
    this.#logger.warn(
      `Residency evaluation of ${entityRef} failed; the claim will be retried`,
      error as Error,
    );
  }

  async #release(claim: {
    entityRef: string;
    lane: 'full' | 'delta';
    cycleId: string;
    claimedBy: string;
  }) {
    await this.#store
      .releaseClaim(claim)
      .catch(error =>
        this.#logger.warn(
          `Residency could not release the claim on ${claim.entityRef}; its lease will expire`,
          error as Error,
        ),
      );
  }

  /**
   * Drops statuses of entities the pass did not see. Statuses written after the
   * pass started (an entity added meanwhile, evaluated by the delta pass) stay.
   */
  async #removeVanished(
    present: Set<string>,
    startedAt: string,
  ): Promise<number> {
    const gone: string[] = [];
    // Summaries (keyset pages without the stored results): only the ref and the
    // time are needed, never each entity's full result.
    let cursor: string | undefined;
    for (;;) {
      const page = await this.#store.listStatuses({
        limit: 500,
        ...(cursor ? { cursor } : {}),
      });
      for (const row of page.items) {
        if (!present.has(row.entityRef) && row.checkedAt < startedAt) {
          gone.push(row.entityRef);
        }
      }
      if (!page.nextCursor) {
        break;
      }
      cursor = page.nextCursor;
    }
    if (gone.length) {
      await this.#store.deleteStatuses({ entityRefs: gone });
    }
    return gone.length;
  }
}
