import type { Knex } from 'knex';

/** Every table of the plugin, in one place (migrations/ creates them). */
export const TABLES = {
  status: 'residency_entity_status',
  images: 'residency_image_results',
  evidence: 'residency_evidence',
  claims: 'residency_refresh_claims',
  refreshRequests: 'residency_refresh_requests',
  configGenerations: 'residency_config_generations',
  exceptions: 'residency_exceptions',
  entityState: 'residency_entity_state',
  notificationsSent: 'residency_notifications_sent',
} as const;

/** A row of residency_refresh_requests. */
export interface RefreshRequestRow {
  id: number;
  principal: string;
  entity_ref: string;
  requested_at: string | Date;
}

/** A row of residency_config_generations. */
export interface ConfigGenerationRow {
  generation: number;
  config_hash: string;
  first_seen_at: string | Date;
  last_seen_at: string | Date;
}

/** What an operation needs: the client and the database time in its dialect. */
export interface DbContext {
  db: Knex;
  sqlite: boolean;
}

export function isSqlite(db: Knex): boolean {
  return String(db.client.config.client).includes('sqlite');
}

/** Database time plus (or minus) a number of seconds. */
export function nowPlus(ctx: DbContext, seconds: number): Knex.Raw {
  const s = Math.trunc(seconds);
  if (ctx.sqlite) {
    return ctx.db.raw(`datetime('now', ?)`, [
      `${s >= 0 ? '+' : ''}${s} seconds`,
    ]);
  }
  return ctx.db.raw(`now() + (? * interval '1 second')`, [s]);
}

/** Database time now. */
export function now(ctx: DbContext): Knex.Raw {
  return ctx.sqlite ? ctx.db.raw(`datetime('now')`) : ctx.db.raw('now()');
}
