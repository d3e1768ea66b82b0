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
import type { ResidencyStore } from '../database/ResidencyStore';
import {
  EntityEvaluator,
  readEntityInputs,
  type EntityInputs,
} from './EntityEvaluator';

/** Stable id of the scheduled full refresh. */
export const REFRESH_TASK_ID = 'residency-refresh';
/** Stable id of the short-interval pass over changed annotations. */
export const DELTA_TASK_ID = 'residency-refresh-delta';

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
    // Runs of the schedule land in distinct windows; replicas starting the same
    // run share one. Half the frequency keeps drift from merging two runs.
    const frequency = options.schedule.frequency;
    const frequencyMs =
      'cron' in frequency || 'trigger' in frequency
        ? 10 * 60_000
        : durationToMilliseconds(frequency as any);
    this.#cycleMs = Math.max(1000, Math.floor(frequencyMs / 2));
  }

  /** Registers the full and the delta task with the scheduler. */
  async schedule(options: {
    scheduler: SchedulerService;
    schedule: SchedulerServiceTaskScheduleDefinition;
    deltaSchedule: SchedulerServiceTaskScheduleDefinition;
  }): Promise<void> {
    await options.scheduler.scheduleTask({
      id: REFRESH_TASK_ID,
      scope: 'global',
      ...options.schedule,
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
    const summary: RefreshSummary = {
      cycleId,
      seen: 0,
      evaluated: 0,
      failed: 0,
      aborted: 0,
      removed: 0,
      pruned: 0,
    };
    const present = new Set<string>();
    const startedAt = new Date().toISOString();
    let complete = true;
    for await (const page of this.#pages()) {
      if (signal?.aborted) {
        complete = false;
        break;
      }
      const inputs = page.flatMap(e => readEntityInputs(e) ?? []);
      inputs.forEach(i => present.add(i.entityRef));
      summary.seen += inputs.length;
      const claimed = new Set(
        await this.#store.claimEntities({
          entityRefs: inputs.map(i => i.entityRef),
          lane: 'full',
          cycleId,
          claimedBy: this.#instanceId,
          leaseSeconds: this.#leaseSeconds,
        }),
      );
      await this.#evaluateAll(
        inputs.filter(i => claimed.has(i.entityRef)),
        'full',
        () => cycleId,
        summary,
        signal,
      );
    }
    if (complete && !signal?.aborted) {
      summary.removed = await this.#removeVanished(present, startedAt);
      if (this.#keepRecordsPerEntity) {
        summary.pruned = await this.#store.applyRetention({
          keepPerEntity: this.#keepRecordsPerEntity,
        });
      }
    }
    this.#logger.info(
      `Residency refresh ${cycleId}: ${summary.seen} entities, ${summary.evaluated} evaluated here, ${summary.failed} failed, ${summary.removed} removed`,
    );
    return summary;
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
      removed: 0,
      pruned: 0,
    };
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
    signal?: AbortSignal,
  ) {
    let next = 0;
    const worker = async () => {
      while (next < inputs.length && !signal?.aborted) {
        const input = inputs[next++];
        try {
          await this.#evaluator.evaluate({ inputs: input, signal });
          await this.#store.completeClaim({
            entityRef: input.entityRef,
            lane,
            cycleId: cycleOf(input.entityRef),
            claimedBy: this.#instanceId,
          });
          summary.evaluated += 1;
        } catch (error) {
          if (signal?.aborted) {
            // Aborted: not an attempt. Give the claim back so the next pass (on
            // any replica) takes the entity at once instead of after the lease.
            summary.aborted += 1;
            await this.#store
              .releaseClaim({
                entityRef: input.entityRef,
                lane,
                cycleId: cycleOf(input.entityRef),
                claimedBy: this.#instanceId,
              })
              .catch(releaseError =>
                this.#logger.warn(
                  `Residency could not release the claim on ${input.entityRef}; its lease will expire`,
                  releaseError as Error,
                ),
              );
            continue;
          }
          summary.failed += 1;
          this.#logger.warn(
            `Residency evaluation of ${input.entityRef} failed; the claim will be retried`,
            error as Error,
          );
        }
      }
    };
    await Promise.all(
      Array.from(
        { length: Math.min(this.#concurrency, inputs.length) },
        worker,
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
    let after: string | undefined;
    for (;;) {
      const rows = await this.#store.scanStatuses({ after, limit: 500 });
      for (const row of rows) {
        if (!present.has(row.entityRef) && row.checkedAt < startedAt) {
          gone.push(row.entityRef);
        }
      }
      if (rows.length < 500) {
        break;
      }
      after = rows[rows.length - 1].entityRef;
    }
    if (gone.length) {
      await this.#store.deleteStatuses({ entityRefs: gone });
    }
    return gone.length;
  }
}
