import { stringifyEntityRef, type Entity } from '@backstage/catalog-model';
import {
  ANNOTATION_IMAGES,
  ANNOTATION_REGION,
  ANNOTATION_TENANT,
  type EntityStatus,
} from '@residency-dev/plugin-residency-common';
import {
  splitImagesAnnotation,
  type ResidencyEngine,
} from '@residency-dev/plugin-residency-node';
import { canonicalJson, sha256Hex } from '../database/chain';
import type { RecordOutcome, ResidencyStore } from '../database/ResidencyStore';

/** The residency inputs an entity declares through its annotations. */
export interface EntityInputs {
  entityRef: string;
  title?: string;
  images: string[];
  tenant?: string;
  declaredRegion?: string;
}

/** Reads an entity's inputs; undefined when it does not declare images. */
export function readEntityInputs(entity: Entity): EntityInputs | undefined {
  const annotations = entity.metadata.annotations ?? {};
  const raw = annotations[ANNOTATION_IMAGES];
  if (typeof raw !== 'string') {
    return undefined;
  }
  const tenant = annotations[ANNOTATION_TENANT]?.trim() || undefined;
  const declaredRegion = annotations[ANNOTATION_REGION]?.trim() || undefined;
  return {
    entityRef: stringifyEntityRef(entity),
    ...(entity.metadata.title ? { title: entity.metadata.title } : {}),
    images: splitImagesAnnotation(raw),
    ...(tenant ? { tenant } : {}),
    ...(declaredRegion ? { declaredRegion } : {}),
  };
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
  ) => Promise<unknown>;

  constructor(options: {
    engine: ResidencyEngine;
    store: ResidencyStore;
    revalidateAfterSeconds: number;
    /** After each recorded evaluation (e.g. VsaIssuer.onRecorded); must not throw. */
    onRecorded?: (
      status: EntityStatus,
      outcome: RecordOutcome,
    ) => Promise<unknown>;
  }) {
    this.#engine = options.engine;
    this.#store = options.store;
    this.#revalidateAfterSeconds = options.revalidateAfterSeconds;
    this.#onRecorded = options.onRecorded;
  }

  get engine(): ResidencyEngine {
    return this.#engine;
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
  }): Promise<{ status: EntityStatus; outcome: RecordOutcome }> {
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
        const hit = await this.#store.findImageResult({
          digest,
          maxAgeSeconds: this.#revalidateAfterSeconds,
        });
        if (hit) {
          reusedDigests.add(digest);
        }
        return hit;
      },
    });
    const recorded = await this.#store.recordEvaluation({
      entityRef: inputs.entityRef,
      title: inputs.title,
      inputsHash: this.inputsHash(inputs),
      result,
      record,
      reusedDigests,
    });
    await this.#onRecorded?.(recorded.status, recorded.outcome);
    return recorded;
  }
}
