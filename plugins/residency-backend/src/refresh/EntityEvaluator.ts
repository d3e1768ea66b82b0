import type { Entity } from '@backstage/catalog-model';
import {
  type EntityStatus,
  readResidencyInputs,
  type EntityResidencyInputs,
  type EntityResult,
  type EvidenceRecord,
} from '@residency-dev/plugin-residency-common';
import { type ResidencyEngine } from '@residency-dev/plugin-residency-node';
import { canonicalJson, sha256Hex } from '../database/chain';
import type {
  ClaimKey,
  RecordOutcome,
  ResidencyStore,
} from '../database/ResidencyStore';
import type { RecordedCheck } from './afterRecorded';

/**
 * A configuration counts as live while some replica registered it this recently
 * (every refresh pass and on-demand refresh registers; the delta pass runs every minute).
 */
export const CONFIG_LIVE_SECONDS = 600;

/** How long a result fetched ahead for a page may wait for its evaluation. */
const PREFETCH_TTL_MS = 10_000;
/** Results fetched ahead kept at most (two pages in flight need 50 or so). */
const PREFETCH_MAX_ENTRIES = 1_000;

/** The residency inputs an entity declares through its annotations. */
export type EntityInputs = EntityResidencyInputs;

/** An entity the engine decided, before its record (see `recordDecided`). */
export interface DecidedEntity {
  inputs: EntityInputs;
  result: EntityResult;
  record: EvidenceRecord;
  /** Digests whose material the engine reused. */
  reusedDigests: Set<string>;
  /** An on-demand check (everything fetched again). */
  fresh: boolean;
}

/** Reads an entity's inputs; undefined when it does not declare images. */
export function readEntityInputs(entity: Entity): EntityInputs | undefined {
  return readResidencyInputs(entity);
}

/**
 * Evaluates one entity with the engine, reusing young per-digest results, and
 * records the outcome. Shared by the scheduled refresher and on-demand refresh.
 */
export class EntityEvaluator {
  readonly #engine: ResidencyEngine;
  readonly #store: ResidencyStore;
  readonly #revalidateAfterSeconds: number;
  readonly #onRecorded?: (
    status: EntityStatus,
    outcome: RecordOutcome,
    check: RecordedCheck,
  ) => Promise<unknown>;

  constructor(options: {
    engine: ResidencyEngine;
    store: ResidencyStore;
    revalidateAfterSeconds: number;
    /** After each recorded evaluation (the plugin's `afterRecorded`); must not throw. */
    onRecorded?: (
      status: EntityStatus,
      outcome: RecordOutcome,
      check: RecordedCheck,
    ) => Promise<unknown>;
  }) {
    this.#engine = options.engine;
    this.#store = options.store;
    this.#revalidateAfterSeconds = options.revalidateAfterSeconds;
    this.#onRecorded = options.onRecorded;
  }

  /** Reusable results fetched ahead for a page of entities, by digest, with when. */
  readonly #prefetched = new Map<
    string,
    {
      at: number;
      hit: NonNullable<Awaited<ReturnType<ResidencyStore['findImageResult']>>>;
    }
  >();

  /**
   * Reads the reusable per-digest results of a page of entities in one statement
   * (their current statuses name the digests), so that their evaluations need no
   * `findImageResult` each. Digests not found this way are looked up as before.
   */
  async prefetch(entityRefs: string[]): Promise<void> {
    if (!this.#store.findImageResultsOfEntities || entityRefs.length === 0) {
      return;
    }
    const found = await this.#store.findImageResultsOfEntities({
      entityRefs,
      maxAgeSeconds: this.#revalidateAfterSeconds,
    });
    const at = Date.now();
    // A few pages' worth at most (pages are evaluated within seconds).
    if (this.#prefetched.size + found.size > PREFETCH_MAX_ENTRIES) {
      this.#prefetched.clear();
    }
    for (const [digest, hit] of found) {
      this.#prefetched.set(digest, { at, hit });
    }
  }

  #takePrefetched(digest: string) {
    const entry = this.#prefetched.get(digest);
    if (!entry) {
      return undefined;
    }
    // Kept for a page's evaluation (entities of a page may share a digest), never
    // as a long-lived cache.
    if (Date.now() - entry.at >= PREFETCH_TTL_MS) {
      this.#prefetched.delete(digest);
      return undefined;
    }
    return entry.hit;
  }

  get engine(): ResidencyEngine {
    return this.#engine;
  }

  /**
   * The configuration generation this replica decides under: the trust hash and
   * the policy hash of every tenant.
   */
  configHash(): string {
    const tenants = Object.keys(this.#engine.settings.tenants ?? {}).sort();
    return sha256Hex(
      canonicalJson({
        trustHash: this.#engine.trustHash(),
        policies: tenants.map(t => [t, this.#engine.policyHash(t)]),
        defaultPolicy: this.#engine.policyHash(undefined),
      }),
    );
  }

  /**
   * Whether this replica runs the newest configuration recorded by any live
   * replica. During a rolling key change, replicas still on the old one stand
   * back instead of deciding every entity back and forth.
   */
  async isNewestConfiguration(): Promise<boolean> {
    const { newest } = await this.#store.registerConfigGeneration({
      configHash: this.configHash(),
      liveSeconds: CONFIG_LIVE_SECONDS,
    });
    return newest;
  }

  /**
   * Hash of everything a decision depends on besides the registry: the annotations,
   * the tenant policy and the trust configuration. A change re-evaluates the entity
   * in the next delta pass.
   */
  inputsHash(inputs: EntityInputs): string {
    return sha256Hex(
      canonicalJson({
        images: inputs.images,
        tenant: inputs.tenant ?? null,
        declaredRegion: inputs.declaredRegion ?? null,
        policyHash: this.#engine.policyHash(inputs.tenant),
        trustHash: this.#engine.trustHash(),
      }),
    );
  }

  /**
   * With `fresh`, every digest is fetched and verified again: an on-demand refresh
   * is asked for precisely because something changed in the registry (a new
   * signature, a revoked attestation), so a young cached result must not answer it.
   */
  async evaluate(options: {
    inputs: EntityInputs;
    signal?: AbortSignal;
    fresh?: boolean;
    /** A refresh claim the store marks done with the evaluation's record. */
    claim?: ClaimKey;
  }): Promise<{
    status: EntityStatus;
    outcome: RecordOutcome;
    /** The engine's result of this attempt (the status may show an older one). */
    result: EntityResult;
  }> {
    const decided = await this.decide(options);
    const recorded = await this.#store.recordEvaluation(
      this.#recordOptions(decided, options.claim),
    );
    await this.#afterRecorded(decided, recorded);
    return {
      status: recorded.status,
      outcome: recorded.outcome,
      result: decided.result,
    };
  }

  /**
   * The engine's decision of an entity, not yet recorded (`recordDecided` records
   * a page of them). Throws when the signal aborted the check.
   */
  async decide(options: {
    inputs: EntityInputs;
    signal?: AbortSignal;
    fresh?: boolean;
  }): Promise<DecidedEntity> {
    const { inputs } = options;
    const reusedDigests = new Set<string>();
    const { result, record } = await this.#engine.evaluateEntity({
      entityRef: inputs.entityRef,
      images: inputs.images,
      tenant: inputs.tenant,
      declaredRegion: inputs.declaredRegion,
      signal: options.signal,
      reuse: async digest => {
        if (options.fresh) {
          return undefined;
        }
        const hit =
          this.#takePrefetched(digest) ??
          (await this.#store.findImageResult({
            digest,
            maxAgeSeconds: this.#revalidateAfterSeconds,
          }));
        if (hit) {
          reusedDigests.add(digest);
        }
        return hit;
      },
    });
    // An aborted check (cancel, task timeout, shutdown) is no attempt: whatever the
    // engine made of the interrupted fetches is dropped, the entity stays as it was.
    options.signal?.throwIfAborted();
    return {
      inputs,
      result,
      record,
      reusedDigests,
      fresh: Boolean(options.fresh),
    };
  }

  /**
   * Records a page of decided entities: the plain confirmations (same decision and
   * inputs as the status's evidence) all in one statement with their claims, every
   * other one (first check, changed evidence, could not decide, or a confirmation a
   * concurrent writer overtook) on its own as `evaluate` does, at most
   * `concurrency` at a time. The after-check hook runs per entity, as for a single
   * check. Aligned with `decided`; a failure is that entity's alone.
   */
  async recordDecided(
    decided: { entity: DecidedEntity; claim?: ClaimKey }[],
    concurrency: number,
  ): Promise<
    (
      | { ok: true; status: EntityStatus; outcome: RecordOutcome }
      | { ok: false; error: unknown }
    )[]
  > {
    const items = decided.map(d => this.#recordOptions(d.entity, d.claim));
    let confirmed: Awaited<
      ReturnType<NonNullable<ResidencyStore['confirmEvaluations']>>
    >;
    let tried = false;
    try {
      confirmed = this.#store.confirmEvaluations
        ? await this.#store.confirmEvaluations(items)
        : items.map(() => undefined);
      tried = Boolean(this.#store.confirmEvaluations);
    } catch {
      // The batch failed as a whole (connection lost, deadlock with another
      // writer, ...): nothing of it was written; each entity is then recorded on
      // its own, where a lasting failure shows as that entity's error.
      confirmed = items.map(() => undefined);
    }
    const out: Awaited<ReturnType<EntityEvaluator['recordDecided']>> = [];
    let next = 0;
    const worker = async () => {
      for (;;) {
        const i = next++;
        if (i >= items.length) {
          return;
        }
        try {
          const hit = confirmed[i];
          const recorded = hit
            ? { outcome: 'confirmed' as const, ...hit }
            : await this.#store.recordEvaluation({
                ...items[i],
                ...(tried ? { confirmTried: true } : {}),
              });
          await this.#afterRecorded(decided[i].entity, recorded);
          out[i] = {
            ok: true,
            status: recorded.status,
            outcome: recorded.outcome,
          };
        } catch (error) {
          out[i] = { ok: false, error };
        }
      }
    };
    await Promise.all(
      Array.from(
        { length: Math.max(1, Math.min(concurrency, items.length)) },
        worker,
      ),
    );
    return out;
  }

  #recordOptions(
    decided: DecidedEntity,
    claim: ClaimKey | undefined,
  ): Parameters<ResidencyStore['recordEvaluation']>[0] {
    const { inputs } = decided;
    return {
      entityRef: inputs.entityRef,
      title: inputs.title,
      inputsHash: this.inputsHash(inputs),
      result: decided.result,
      record: decided.record,
      reusedDigests: decided.reusedDigests,
      ...(claim ? { claim } : {}),
    };
  }

  async #afterRecorded(
    decided: DecidedEntity,
    recorded: Awaited<ReturnType<ResidencyStore['recordEvaluation']>>,
  ) {
    await this.#onRecorded?.(recorded.status, recorded.outcome, {
      fresh: decided.fresh,
      ...(recorded.entityState !== undefined
        ? { entityState: recorded.entityState }
        : {}),
    });
  }
}
