import {
  DatabaseService,
  LoggerService,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import type { Knex } from 'knex';
import type {
  ChainVerification,
  Decision,
  EntityStatus,
  EntityStatusSummary,
  EvidenceSummary,
  Page,
  Reason,
} from '@residency-dev/plugin-residency-common';
import { isSqlite, type DbContext } from './tables';
import {
  admitRefresh,
  finishRefresh,
  type RefreshAdmission,
} from './operations/refreshRequests';
import { registerConfigGeneration } from './operations/configGenerations';
import {
  countByTenant,
  deleteStatuses,
  getInputsHashes,
  getStatus,
  listStatuses,
  markStale,
  scanStatuses,
  StatusCountCache,
} from './operations/statuses';
import {
  recordEvaluation,
  type EvaluationInput,
} from './operations/evaluations';
import {
  findImageResult,
  findImageResultsOfEntities,
} from './operations/imageResults';
import {
  applyRetention,
  getEvidence,
  listEvidence,
  verifyChain,
} from './operations/evidence';
import {
  claimEntities,
  completeClaim,
  releaseClaim,
  type ClaimKey,
} from './operations/claims';
import type {
  RecordOutcome,
  ResidencyStore,
  StoredEvidence,
} from './ResidencyStore';

const migrationsDir = resolvePackagePath(
  '@residency-dev/plugin-residency-backend',
  'migrations',
);

/**
 * The knex implementation of {@link ResidencyStore}; SQLite and PostgreSQL.
 * A facade: each method calls the operation of its table in `operations/`
 * (statuses, imageResults, evaluations, evidence, claims, refreshRequests,
 * configGenerations).
 */
export class DatabaseResidencyStore implements ResidencyStore {
  static async create(options: {
    database: DatabaseService;
    logger?: LoggerService;
    skipMigrations?: boolean;
  }): Promise<DatabaseResidencyStore> {
    const client = await options.database.getClient();
    if (!options.skipMigrations && !options.database.migrations?.skip) {
      await client.migrate.latest({ directory: migrationsDir });
    }
    return new DatabaseResidencyStore(client);
  }

  /** Runs the migrations against a client; exported for migration tests. */
  static async migrateUp(knex: Knex): Promise<void> {
    await knex.migrate.latest({ directory: migrationsDir });
  }

  static async migrateDown(knex: Knex): Promise<void> {
    await knex.migrate.rollback({ directory: migrationsDir }, true);
  }

  readonly #ctx: DbContext;
  /** Counts of the list API per filter (StatusCountCache: 10 s, cleared by this store's status writes). */
  readonly #counts = new StatusCountCache();

  private constructor(db: Knex) {
    this.#ctx = { db, sqlite: isSqlite(db) };
  }

  async getStatus(options: {
    entityRef: string;
  }): Promise<EntityStatus | undefined> {
    return getStatus(this.#ctx, options);
  }

  async listStatuses(options: {
    decision?: Decision;
    tenant?: string;
    q?: string;
    cursor?: string;
    limit: number;
  }): Promise<Page<EntityStatusSummary>> {
    return listStatuses(this.#ctx, options, this.#counts);
  }

  async recordEvaluation(
    options: EvaluationInput,
  ): Promise<{ status: EntityStatus; outcome: RecordOutcome }> {
    const recorded = await recordEvaluation(this.#ctx, options);
    // A new decision or title may move the entity between filters (or add it).
    this.#counts.clear();
    return recorded;
  }

  async findImageResult(options: { digest: string; maxAgeSeconds: number }) {
    return findImageResult(this.#ctx, options);
  }

  async findImageResultsOfEntities(options: {
    entityRefs: string[];
    maxAgeSeconds: number;
  }) {
    return findImageResultsOfEntities(this.#ctx, options);
  }

  async listEvidence(options: {
    entityRef: string;
    cursor?: string;
    limit: number;
  }): Promise<Page<EvidenceSummary>> {
    return listEvidence(this.#ctx, options);
  }

  async getEvidence(options: {
    id: string;
  }): Promise<StoredEvidence | undefined> {
    return getEvidence(this.#ctx, options);
  }

  async verifyChain(options: {
    entityRef: string;
  }): Promise<ChainVerification> {
    return verifyChain(this.#ctx, options);
  }

  async countByTenant(): Promise<Record<string, Record<Decision, number>>> {
    return countByTenant(this.#ctx);
  }

  async scanStatuses(options: {
    tenant?: string;
    after?: string;
    limit: number;
  }): Promise<EntityStatus[]> {
    return scanStatuses(this.#ctx, options);
  }

  async getInputsHashes(options: {
    entityRefs: string[];
  }): Promise<Map<string, string>> {
    return getInputsHashes(this.#ctx, options);
  }

  async claimEntities(options: {
    entityRefs: string[];
    lane: 'full' | 'delta';
    cycleId: string;
    claimedBy: string;
    leaseSeconds: number;
  }): Promise<string[]> {
    return claimEntities(this.#ctx, options);
  }

  async completeClaim(options: ClaimKey): Promise<void> {
    await completeClaim(this.#ctx, options);
  }

  async markStale(options: {
    entityRef: string;
    attempt: { decision: Decision; reasons: Reason[]; checkedAt: string };
  }): Promise<boolean> {
    return markStale(this.#ctx, options);
  }

  async releaseClaim(options: ClaimKey): Promise<void> {
    await releaseClaim(this.#ctx, options);
  }

  async applyRetention(options: { keepPerEntity: number }): Promise<number> {
    return applyRetention(this.#ctx, options);
  }

  async admitRefresh(options: {
    entityRef: string;
    principal: string;
    holder: string;
    leaseSeconds: number;
    limit: number;
    windowSeconds: number;
  }): Promise<RefreshAdmission> {
    return admitRefresh(this.#ctx, options);
  }

  async finishRefresh(options: {
    entityRef: string;
    holder: string;
  }): Promise<void> {
    await finishRefresh(this.#ctx, options);
  }

  async registerConfigGeneration(options: {
    configHash: string;
    liveSeconds: number;
  }): Promise<{ newest: boolean; newestHash: string }> {
    return registerConfigGeneration(this.#ctx, options);
  }

  async deleteStatuses(options: { entityRefs: string[] }): Promise<void> {
    this.#counts.clear();
    await deleteStatuses(this.#ctx, options);
    this.#counts.clear();
  }
}
