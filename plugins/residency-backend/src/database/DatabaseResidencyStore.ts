import {
  DatabaseService,
  LoggerService,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import type { Knex } from 'knex';
import { isSqlite, type DbContext } from './tables';
import { StatusCountCache } from './operations/statuses';
import * as claims from './operations/claims';
import * as configGenerations from './operations/configGenerations';
import * as evaluations from './operations/evaluations';
import * as evidence from './operations/evidence';
import * as imageResults from './operations/imageResults';
import * as refreshRequests from './operations/refreshRequests';
import * as statuses from './operations/statuses';
import type { ResidencyStore, StoreOptions } from './ResidencyStore';

/** Every operation, by the store method it serves. */
const ops = {
  ...statuses,
  ...evaluations,
  ...imageResults,
  ...evidence,
  ...claims,
  ...refreshRequests,
  ...configGenerations,
};

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

  getStatus(options: StoreOptions<'getStatus'>) {
    return ops.getStatus(this.#ctx, options);
  }

  listStatuses(options: StoreOptions<'listStatuses'>) {
    return ops.listStatuses(this.#ctx, options, this.#counts);
  }

  async recordEvaluation(options: StoreOptions<'recordEvaluation'>) {
    const recorded = await ops.recordEvaluation(this.#ctx, options);
    // A new decision or title may move the entity between filters (or add it).
    this.#counts.clear();
    return recorded;
  }

  async confirmEvaluations(items: StoreOptions<'recordEvaluation'>[]) {
    const confirmed = await ops.confirmEvaluations(this.#ctx, items);
    // A confirmation may change a title (a filter of the list API).
    this.#counts.clear();
    return confirmed;
  }

  findImageResult(options: StoreOptions<'findImageResult'>) {
    return ops.findImageResult(this.#ctx, options);
  }

  findImageResultsOfEntities(
    options: StoreOptions<'findImageResultsOfEntities'>,
  ) {
    return ops.findImageResultsOfEntities(this.#ctx, options);
  }

  listEvidence(options: StoreOptions<'listEvidence'>) {
    return ops.listEvidence(this.#ctx, options);
  }

  getEvidence(options: StoreOptions<'getEvidence'>) {
    return ops.getEvidence(this.#ctx, options);
  }

  verifyChain(options: StoreOptions<'verifyChain'>) {
    return ops.verifyChain(this.#ctx, options);
  }

  appendExceptionEvent(options: StoreOptions<'appendExceptionEvent'>) {
    return ops.appendExceptionEvent(this.#ctx, options);
  }

  listDecisionLog() {
    return ops.listDecisionLog(this.#ctx);
  }

  countByTenant() {
    return ops.countByTenant(this.#ctx);
  }

  countResidentByExceptionByTenant() {
    return ops.countResidentByExceptionByTenant(this.#ctx);
  }

  scanStatuses(options: StoreOptions<'scanStatuses'>) {
    return ops.scanStatuses(this.#ctx, options);
  }

  getInputsHashes(options: StoreOptions<'getInputsHashes'>) {
    return ops.getInputsHashes(this.#ctx, options);
  }

  claimEntities(options: StoreOptions<'claimEntities'>) {
    return ops.claimEntities(this.#ctx, options);
  }

  completeClaim(options: StoreOptions<'completeClaim'>) {
    return ops.completeClaim(this.#ctx, options);
  }

  markStale(options: StoreOptions<'markStale'>) {
    return ops.markStale(this.#ctx, options);
  }

  releaseClaim(options: StoreOptions<'releaseClaim'>) {
    return ops.releaseClaim(this.#ctx, options);
  }

  applyRetention(options: StoreOptions<'applyRetention'>) {
    return ops.applyRetention(this.#ctx, options);
  }

  admitRefresh(options: StoreOptions<'admitRefresh'>) {
    return ops.admitRefresh(this.#ctx, options);
  }

  finishRefresh(options: StoreOptions<'finishRefresh'>) {
    return ops.finishRefresh(this.#ctx, options);
  }

  registerConfigGeneration(options: StoreOptions<'registerConfigGeneration'>) {
    return ops.registerConfigGeneration(this.#ctx, options);
  }

  async deleteStatuses(options: StoreOptions<'deleteStatuses'>) {
    this.#counts.clear();
    await ops.deleteStatuses(this.#ctx, options);
    this.#counts.clear();
  }
}
