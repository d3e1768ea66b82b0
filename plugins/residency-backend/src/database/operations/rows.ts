import { InputError } from '@backstage/errors';
import type { Knex } from 'knex';
import type { Page } from '@residency-dev/plugin-residency-common';
import type { DbContext } from '../tables';

/** A row of residency_entity_status. */
export type StatusRow = {
  entity_ref: string;
  title: string | null;
  tenant: string | null;
  declared_region: string | null;
  decision: string;
  stale: boolean | number;
  reason_codes: string;
  images: string;
  inputs_hash: string;
  evidence_key: string | null;
  evidence_id: string | null;
  detail: string;
  /** Fingerprint of `detail` without its check time and reports (see detailKeyOf). */
  detail_key?: string | null;
  last_attempt: string | null;
  checked_at: string;
  last_verified_at: Date | string | null;
  updated_at: Date | string;
};

/** A row of residency_evidence. */
export type EvidenceRow = {
  id: string;
  entity_ref: string;
  sequence: number;
  previous_hash: string | null;
  record_hash: string;
  decision: string;
  reason_codes: string;
  checkpoint: boolean | number;
  record: string;
  /** `decision`, or the exception event kind. */
  kind: string;
  created_at: Date | string;
};

/** Converts a database timestamp (Date on PostgreSQL, text on SQLite) to ISO 8601. */
export function toIso(
  value: Date | string | number | null | undefined,
): string | undefined {
  if (value === null || value === undefined) {
    return undefined;
  }
  if (value instanceof Date) {
    return value.toISOString();
  }
  if (typeof value === 'number') {
    return new Date(value).toISOString();
  }
  // SQLite's CURRENT_TIMESTAMP / datetime(): 'YYYY-MM-DD HH:MM:SS' in UTC.
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)$/.exec(value);
  if (m) {
    return new Date(`${m[1]}T${m[2]}Z`).toISOString();
  }
  return new Date(value).toISOString();
}

/** An opaque page cursor: base64url of a small JSON object. */
export function encodeCursor(value: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** Reads a cursor made by {@link encodeCursor}; anything else is an InputError. */
export function decodeCursor<T>(cursor: string, check: (v: any) => v is T): T {
  try {
    if (cursor.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
      throw new Error('bad cursor');
    }
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (check(value)) {
      return value;
    }
  } catch {
    // fall through
  }
  throw new InputError('Malformed cursor');
}

/**
 * A page from a keyset query that asked for `limit + 1` rows: the extra row
 * only tells that there is a next page, whose cursor comes from the last item.
 */
export function pageOf<R, T>(options: {
  rows: R[];
  limit: number;
  countRow: unknown;
  toItem: (row: R) => T;
  cursorOf: (last: T) => Record<string, unknown>;
}): Page<T> {
  const items = options.rows.slice(0, options.limit).map(options.toItem);
  return {
    items,
    ...(options.rows.length > options.limit
      ? { nextCursor: encodeCursor(options.cursorOf(items[items.length - 1])) }
      : {}),
    totalCount: Number((options.countRow as any)?.count ?? 0),
  };
}

/** True for a unique-constraint violation on PostgreSQL or SQLite. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return (
    e?.code === '23505' ||
    e?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    /UNIQUE constraint failed/.test(String(e?.message))
  );
}

/**
 * Takes the entity's writer lock for the rest of `trx` on PostgreSQL: every
 * writer of an entity's status or evidence chain (decisions and exception
 * events) takes this one lock first, so they are serialized even before the
 * status row exists and cannot deadlock. SQLite has a single writer.
 */
export async function lockEntity(
  ctx: DbContext,
  trx: Knex.Transaction,
  entityRef: string,
): Promise<void> {
  if (!ctx.sqlite) {
    await trx.raw('select pg_advisory_xact_lock(hashtextextended(?, 0))', [
      `residency:${entityRef}`,
    ]);
  }
}
