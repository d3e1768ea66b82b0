import type { Knex } from 'knex';
import type {
  ExceptionStatus,
  ResidencyException,
  ResidencyState,
} from '@residency-dev/plugin-residency-common';
import { isSqlite, type DbContext } from '../database/tables';
import * as ops from '../database/operations/exceptions';

export type { StateChange } from '../database/operations/exceptions';

/**
 * Persistence of exceptions, the residency state per entity and notification
 * dedup keys (tables created by the plugin's migrations). Exception events go
 * to the entity's evidence chain (ResidencyStore.appendExceptionEvent).
 */
export class ExceptionStore {
  readonly #ctx: DbContext;

  constructor(db: Knex) {
    this.#ctx = { db, sqlite: isSqlite(db) };
  }

  insert(e: ResidencyException) {
    return ops.insertException(this.#ctx, e);
  }
  get(id: string) {
    return ops.getException(this.#ctx, id);
  }
  list(options: { entityRef?: string; statuses?: ExceptionStatus[] }) {
    return ops.listExceptions(this.#ctx, options);
  }
  transition(options: Parameters<typeof ops.transitionException>[1]) {
    return ops.transitionException(this.#ctx, options);
  }
  listLapsed(at: string) {
    return ops.listLapsed(this.#ctx, at);
  }
  listExpiringBetween(from: string, until: string) {
    return ops.listExpiringBetween(this.#ctx, from, until);
  }
  recordState(options: {
    entityRef: string;
    state: ResidencyState;
    detail: unknown;
    redetail?: boolean;
  }) {
    return ops.recordEntityState(this.#ctx, options);
  }
  claimNotification(key: string) {
    return ops.claimNotification(this.#ctx, key);
  }
}
