import type {
  ChainVerification,
  ChainRecord,
  ChainedEvidence,
  ExceptionEventRecord,
  Decision,
  EntityResult,
  EntityStatus,
  EntityStatusSummary,
  EvidenceRecord,
  EvidenceSummary,
  ImageMaterial,
  Page,
  Reason,
  ResidencyState,
} from '@residency-dev/plugin-residency-common';

/**
 * The options of a store method. The interface owns every option shape; the
 * operations in operations/ and the facade take them from here.
 */

/** An entity's recorded residency state (the exceptions' state tracker keeps it). */
export type RecordedEntityState = { state: ResidencyState; transition: number };

export type StoreOptions<K extends keyof ResidencyStore> = Parameters<
  NonNullable<ResidencyStore[K]>
>[0];

/** One replica's claim of an entity in a refresh lane and cycle. */
export interface ClaimKey {
  entityRef: string;
  lane: 'full' | 'delta';
  cycleId: string;
  claimedBy: string;
}

/** What recording an evaluation did to the stored status and evidence. */
export type RecordOutcome =
  /** A new evidence record was appended (decision or inputs changed). */
  | 'appended'
  /** Same decision and inputs: only `last_verified_at` moved. */
  | 'confirmed'
  /** The check could not decide; the last good evidence is kept and marked stale. */
  | 'stale';

/** A stored evidence record with its neighbour link, as served for download. */
export interface StoredEvidence {
  /** A decision record, or an exception event (`isExceptionEventRecord`). */
  evidence: ChainedEvidence<ChainRecord>;
  checkpoint: boolean;
  createdAt: string;
  previous?: { id: string; sequence: number; recordHash: string };
}

export type { RefreshAdmission } from './operations/refreshRequests';
import type { RefreshAdmission } from './operations/refreshRequests';

/** Persistence of statuses, per-digest results, evidence chains and refresh claims. */
export interface ResidencyStore {
  getStatus(options: { entityRef: string }): Promise<EntityStatus | undefined>;

  listStatuses(options: {
    decision?: Decision;
    /** The state shown to people (`resident_by_exception` is counted apart). */
    state?: ResidencyState;
    tenant?: string;
    q?: string;
    cursor?: string;
    limit: number;
  }): Promise<Page<EntityStatusSummary>>;

  /**
   * Stores one evaluation: per-digest results, and in the same transaction the
   * evidence append (only when the decision or its inputs changed) and the status.
   * An evaluation that only confirms the status (same decision and inputs) is one
   * conditional update.
   */
  recordEvaluation(options: {
    entityRef: string;
    title?: string;
    inputsHash: string;
    result: EntityResult;
    record: EvidenceRecord;
    /** Digests whose material the engine reused; their fetch time is kept. */
    reusedDigests?: ReadonlySet<string>;
    /**
     * A held refresh claim to mark done with the evaluation (as `completeClaim`),
     * in the same statement or transaction, so a warm refresh spends no extra
     * round trip on it.
     */
    claim?: {
      entityRef: string;
      lane: 'full' | 'delta';
      cycleId: string;
      claimedBy: string;
    };
    /**
     * Set after `confirmEvaluations` confirmed nothing for this evaluation: its
     * material is stored and the confirmation was tried, so the transaction decides
     * at once (append, stale, or confirm over what a concurrent writer left).
     */
    confirmTried?: boolean;
  }): Promise<{
    status: EntityStatus;
    outcome: RecordOutcome;
    /**
     * The entity's recorded residency state (see the exceptions' state tracker),
     * read in the confirmation's own statement where the database allows it
     * (PostgreSQL): `null` when none is recorded, absent when it was not read.
     */
    entityState?: RecordedEntityState | null;
  }>;

  /**
   * The warm path of `recordEvaluation` for a page of evaluations at once: those
   * whose decision and inputs are their status's evidence are confirmed, their
   * claims marked done, in one statement (PostgreSQL) or one transaction (SQLite).
   * Aligned with `items`; undefined where nothing was confirmed, and that
   * evaluation is then recorded with `recordEvaluation` and `confirmTried`.
   * The evidence chain is never written. Optional.
   */
  confirmEvaluations?(
    items: Parameters<ResidencyStore['recordEvaluation']>[0][],
  ): Promise<
    (
      | {
          status: EntityStatus;
          entityState?: RecordedEntityState | null;
        }
      | undefined
    )[]
  >;

  /**
   * The material of a digest fetched less than `maxAgeSeconds` ago, under any
   * trust configuration or policy: the engine decides it again.
   */
  findImageResult(options: {
    digest: string;
    maxAgeSeconds: number;
  }): Promise<{ material: ImageMaterial } | undefined>;

  /**
   * As `findImageResult`, at once for every digest the current statuses of
   * `entityRefs` show (one statement per page of a refresh). Optional.
   */
  findImageResultsOfEntities?(options: {
    entityRefs: string[];
    maxAgeSeconds: number;
  }): Promise<Map<string, { material: ImageMaterial }>>;

  listEvidence(options: {
    entityRef: string;
    cursor?: string;
    limit: number;
  }): Promise<Page<EvidenceSummary>>;

  getEvidence(options: { id: string }): Promise<StoredEvidence | undefined>;

  verifyChain(options: { entityRef: string }): Promise<ChainVerification>;

  /**
   * Appends an exception event to the entity's evidence chain (after its
   * decision records), retrying when another replica appended first. `decision`
   * and `reasonCodes` fill the summary columns (the decision in force, the
   * exception's codes); they are not part of the hashed record.
   */
  appendExceptionEvent(options: {
    record: ExceptionEventRecord;
    decision: Decision;
    reasonCodes: string[];
  }): Promise<{ id: string; sequence: number }>;

  /** Entity, decision and time of every stored evidence record. */
  listDecisionLog(): Promise<
    { entity_ref: string; decision: string; created_at: Date | string }[]
  >;

  /** Status counts per tenant (`''` for entities without a tenant). */
  countByTenant(): Promise<Record<string, Record<Decision, number>>>;

  /** Resident-by-exception entities per tenant (`''` for none), at this moment. */
  countResidentByExceptionByTenant(): Promise<Record<string, number>>;

  /** Stored statuses in entity-ref order, for scans (mismatches). */
  scanStatuses(options: {
    tenant?: string;
    after?: string;
    limit: number;
  }): Promise<EntityStatus[]>;

  /** Stored inputs hashes of the given entities (missing ones are absent). */
  getInputsHashes(options: {
    entityRefs: string[];
  }): Promise<Map<string, string>>;

  /**
   * Compare-and-set claim of entities for one cycle of a lane: an entity is claimed
   * when it has no claim, a claim of another cycle, or an unfinished claim whose
   * lease expired. Returns the refs this caller now holds.
   */
  claimEntities(options: {
    entityRefs: string[];
    lane: 'full' | 'delta';
    cycleId: string;
    claimedBy: string;
    leaseSeconds: number;
  }): Promise<string[]>;

  /** Marks a claimed entity done for the cycle (only if the caller still holds it). */
  completeClaim(options: ClaimKey): Promise<void>;

  /**
   * Marks an entity's last good status stale with the reasons of an attempt that
   * never reached the engine (its registry was cut off for the cycle). Entities
   * without good evidence are left as they are. Returns whether one was marked.
   */
  markStale(options: {
    entityRef: string;
    attempt: { decision: Decision; reasons: Reason[]; checkedAt: string };
  }): Promise<boolean>;

  /**
   * Gives a claim back unfinished (the check was aborted): the entity keeps its
   * status and any replica may claim it again at once. Only the holder releases.
   */
  releaseClaim(options: ClaimKey): Promise<void>;

  /**
   * Retention: keeps the newest `keepPerEntity` records of each chain. The oldest
   * kept record becomes a checkpoint: the chain verifies from it, and its previous
   * hash still names the pruned record. Returns the number of records removed.
   */
  applyRetention(options: { keepPerEntity: number }): Promise<number>;

  /** Drops statuses (and claims) of entities no longer in the catalog; evidence is kept. */
  deleteStatuses(options: { entityRefs: string[] }): Promise<void>;

  /**
   * Admits an on-demand refresh: one in flight per entity across replicas, at
   * most `limit` per principal within `windowSeconds`.
   */
  admitRefresh(options: {
    entityRef: string;
    principal: string;
    holder: string;
    leaseSeconds: number;
    limit: number;
    windowSeconds: number;
  }): Promise<RefreshAdmission>;

  /** Ends an admitted on-demand refresh. */
  finishRefresh(options: { entityRef: string; holder: string }): Promise<void>;

  /**
   * Records the configuration this replica runs with and tells whether it is the
   * newest live one (only then may the replica decide).
   */
  registerConfigGeneration(options: {
    configHash: string;
    liveSeconds: number;
  }): Promise<{ newest: boolean; newestHash: string }>;
}
