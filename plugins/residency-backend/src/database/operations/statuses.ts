import { createHash } from 'node:crypto';
import {
  DECISIONS,
  stateOfDecision,
  type Decision,
  type EntityResult,
  type EntityStatus,
  type EntityStatusSummary,
  type Page,
  type ResidencyState,
} from '@residency-dev/plugin-residency-common';
import type { Knex } from 'knex';
import type { StoreOptions } from '../ResidencyStore';
import { TABLES, now, type DbContext } from '../tables';
import { decodeCursor, encodeCursor, toIso, type StatusRow } from './rows';

/**
 * The full status of a row (the stored EntityResult plus the row's own columns).
 * `checkedAt` comes from its column: a confirmation moves it without rewriting
 * `detail`, whose reports then describe the check that wrote it.
 */
export function toStatus(row: StatusRow): EntityStatus {
  return statusOf(JSON.parse(row.detail) as EntityResult, row);
}

/**
 * The status of a stored (or just confirmed) EntityResult and its row's own
 * columns: what `toStatus` reads, and what a confirmation returns without
 * serialising the result and parsing it back.
 */
export function statusOf(
  detail: EntityResult,
  row: Pick<
    StatusRow,
    'checked_at' | 'stale' | 'last_verified_at' | 'evidence_id' | 'title'
  > & { last_attempt?: string | null },
): EntityStatus {
  const lastAttempt = row.last_attempt
    ? JSON.parse(row.last_attempt)
    : undefined;
  return {
    ...detail,
    checkedAt: row.checked_at,
    stale: Boolean(row.stale),
    ...(row.last_verified_at
      ? { lastVerifiedAt: toIso(row.last_verified_at) }
      : {}),
    ...(row.evidence_id ? { evidenceId: row.evidence_id } : {}),
    ...(row.title ? { title: row.title } : {}),
    ...(lastAttempt ? { lastAttempt } : {}),
  };
}

function toSummary(row: StatusRow): EntityStatusSummary {
  return {
    entityRef: row.entity_ref,
    ...(row.title ? { title: row.title } : {}),
    ...(row.tenant ? { tenant: row.tenant } : {}),
    ...(row.declared_region ? { declaredRegion: row.declared_region } : {}),
    decision: row.decision as Decision,
    stale: Boolean(row.stale),
    reasonCodes: JSON.parse(row.reason_codes),
    images: JSON.parse(row.images),
    checkedAt: row.checked_at,
    ...(row.last_verified_at
      ? { lastVerifiedAt: toIso(row.last_verified_at) }
      : {}),
  };
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, c => `\\${c}`);
}

export async function getStatus(
  ctx: DbContext,
  options: StoreOptions<'getStatus'>,
): Promise<EntityStatus | undefined> {
  const row = await ctx
    .db<StatusRow>(TABLES.status)
    .where({ entity_ref: options.entityRef })
    .first();
  return row ? toStatus(row) : undefined;
}

/** The columns a summary reads: never `detail` (the whole EntityResult, ~2 KB). */
const SUMMARY_COLUMNS = [
  'entity_ref',
  'title',
  'tenant',
  'declared_region',
  'decision',
  'stale',
  'reason_codes',
  'images',
  'checked_at',
  'last_verified_at',
] as const;

type ListCursor = { after: string; total?: number; filter?: string };

function isListCursor(v: any): v is ListCursor {
  return (
    typeof v?.after === 'string' &&
    (v.total === undefined ||
      (Number.isSafeInteger(v.total) && v.total >= 0)) &&
    (v.filter === undefined || typeof v.filter === 'string')
  );
}

/** A short fingerprint of the filters, so a cursor's count is only reused for them. */
function filterKey(options: {
  decision?: string;
  tenant?: string;
  q?: string;
  state?: string;
}): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        options.decision ?? null,
        options.tenant ?? null,
        options.q ?? null,
        ...(options.state ? [options.state] : []),
      ]),
    )
    .digest('base64url')
    .slice(0, 16);
}

/**
 * Counts of `listStatuses` per filter, kept `ttlMs` in this process. Writes of the
 * same store that can change which rows match (a new evidence record, a deletion)
 * clear it; writes of other replicas show after at most `ttlMs`.
 */
export class StatusCountCache {
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { count: number; at: number }>();

  constructor(options?: { ttlMs?: number; now?: () => number }) {
    this.#ttlMs = options?.ttlMs ?? 10_000;
    this.#now = options?.now ?? Date.now;
  }

  get(key: string): number | undefined {
    const hit = this.#entries.get(key);
    if (hit && this.#now() - hit.at < this.#ttlMs) {
      return hit.count;
    }
    this.#entries.delete(key);
    return undefined;
  }

  set(key: string, count: number): void {
    if (this.#entries.size >= 1000) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    this.#entries.set(key, { count, at: this.#now() });
  }

  /** Counts being read now, per filter, and the clear() generation they started in. */
  readonly #pending = new Map<string, Promise<number>>();
  #generation = 0;

  /**
   * The cached count of `key`, or the one being read now, or a new read by
   * `count`: first pages asking at once (as every client does when the entry
   * expires) share one count query. A count started before a clear() is
   * answered to its callers but not kept.
   */
  shared(key: string, count: () => Promise<number>): Promise<number> {
    const hit = this.get(key);
    if (hit !== undefined) {
      return Promise.resolve(hit);
    }
    const running = this.#pending.get(key);
    if (running) {
      return running;
    }
    const generation = this.#generation;
    const read = count().then(
      n => {
        if (this.#pending.get(key) === read) this.#pending.delete(key);
        if (generation === this.#generation) this.set(key, n);
        return n;
      },
      error => {
        if (this.#pending.get(key) === read) this.#pending.delete(key);
        throw error;
      },
    );
    this.#pending.set(key, read);
    return read;
  }

  clear(): void {
    this.#entries.clear();
    this.#pending.clear();
    this.#generation++;
  }
}

/**
 * One page of status summaries, by entity ref, filtered.
 *
 * Keyset pagination on the primary key (`entity_ref > after`, limit + 1), summary
 * columns only. `totalCount` is counted once, on the first page, and carried in the
 * cursor: later pages do not recount, so their count is the one of the first page
 * (exact when it was read; rows added or removed while paging are not reflected).
 * A cursor made for other filters, or without a count, is counted again. With
 * `counts`, a first page takes the count of the same filters from that cache.
 * On PostgreSQL, `q=` uses the trigram indexes of the search-index migration.
 */
export async function listStatuses(
  ctx: DbContext,
  options: StoreOptions<'listStatuses'>,
  counts?: StatusCountCache,
): Promise<Page<EntityStatusSummary>> {
  const at = new Date();
  const filtered = () => {
    const query = ctx.db<StatusRow>(TABLES.status);
    if (options.decision) {
      query.where('decision', options.decision);
    }
    if (options.tenant) {
      query.where('tenant', options.tenant);
    }
    if (options.state) {
      whereState(ctx, query, options.state, at);
    }
    if (options.q) {
      const like = `%${escapeLike(options.q.toLocaleLowerCase('en-US'))}%`;
      query.where(inner =>
        inner
          .whereRaw(`lower(entity_ref) like ? escape '\\'`, [like])
          .orWhereRaw(`lower(coalesce(title, '')) like ? escape '\\'`, [like]),
      );
    }
    return query;
  };
  const filter = filterKey(options);
  const query = filtered()
    .select(...SUMMARY_COLUMNS)
    .orderBy('entity_ref', 'asc')
    .limit(options.limit + 1);
  let carried: number | undefined;
  if (options.cursor) {
    const cursor = decodeCursor(options.cursor, isListCursor);
    query.where('entity_ref', '>', cursor.after);
    if (cursor.filter === filter) {
      carried = cursor.total;
    }
  }
  const countNow = () =>
    filtered()
      .count({ count: '*' })
      .first()
      .then(row => Number((row as any)?.count ?? 0));
  let total: Promise<number>;
  if (carried !== undefined) {
    total = Promise.resolve(carried);
  } else if (options.state) {
    // Exceptions lapse with time, not only with writes: counted every time.
    total = countNow();
  } else if (counts && !options.cursor) {
    total = counts.shared(filter, countNow);
  } else {
    total = countNow().then(count => {
      counts?.set(filter, count);
      return count;
    });
  }
  const [rows, totalCount] = await Promise.all([
    query as unknown as Promise<StatusRow[]>,
    total,
  ]);
  const page = rows.slice(0, options.limit);
  const byException = await byExceptionRefs(ctx, page, at);
  const items = page.map(row => ({
    ...toSummary(row),
    state: byException.has(row.entity_ref)
      ? ('resident_by_exception' as const)
      : stateOfDecision(row.decision as Decision),
  }));
  const more = rows.length > options.limit;
  return {
    items,
    ...(more
      ? {
          nextCursor: encodeCursor({
            after: items[items.length - 1].entityRef,
            total: totalCount,
            filter,
          }),
        }
      : {}),
    totalCount,
  };
}

/**
 * The condition, on status rows, of being resident by exception at `at`: a
 * current (not stale) `non_compliant` decision whose last recorded state (the
 * exception tracker's, re-decided after every check, approval, revocation and
 * expiry) is `resident_by_exception`, and that still has an approved exception
 * inside its window (one past its window counts as lapsed before the scheduled
 * pass marks it expired). The one rule behind the list's `state=` filter, each
 * row's `state` and the per-tenant counts.
 */
function residentByException(ctx: DbContext, at: Date) {
  return (q: Knex.QueryBuilder) =>
    q
      .where('decision', 'non_compliant')
      .where('stale', false)
      .whereIn(
        'entity_ref',
        ctx
          .db(TABLES.entityState)
          .where('state', 'resident_by_exception')
          .select('entity_ref'),
      )
      .whereIn(
        'entity_ref',
        ctx
          .db(TABLES.exceptions)
          .where('status', 'approved')
          .where('expires_at', '>', at.toISOString())
          .select('entity_ref'),
      );
}

/**
 * Restricts a status query to one state, in SQL: `resident_by_exception` as
 * {@link residentByException}; `not_resident` is every other `non_compliant`
 * or `invalid` decision.
 */
function whereState(
  ctx: DbContext,
  query: Knex.QueryBuilder,
  state: ResidencyState,
  at: Date,
): void {
  const byException = residentByException(ctx, at);
  switch (state) {
    case 'resident':
      query.where('decision', 'compliant');
      return;
    case 'resident_by_exception':
      query.where(byException);
      return;
    case 'not_resident':
      query
        .whereIn('decision', ['non_compliant', 'invalid'])
        .whereNot(byException);
      return;
    default:
      query.where('decision', 'unknown');
  }
}

/** The rows of a page that are resident by exception at `at`. */
async function byExceptionRefs(
  ctx: DbContext,
  rows: StatusRow[],
  at: Date,
): Promise<Set<string>> {
  const refs = rows
    .filter(r => r.decision === 'non_compliant' && !r.stale)
    .map(r => r.entity_ref);
  if (refs.length === 0) return new Set();
  const found = await ctx
    .db(TABLES.status)
    .whereIn('entity_ref', refs)
    .where(residentByException(ctx, at))
    .select('entity_ref');
  return new Set((found as { entity_ref: string }[]).map(r => r.entity_ref));
}

/** Resident-by-exception entities per tenant ('' for none), now. */
export async function countResidentByExceptionByTenant(
  ctx: DbContext,
): Promise<Record<string, number>> {
  const rows = await ctx
    .db(TABLES.status)
    .where(residentByException(ctx, new Date()))
    .select('tenant')
    .count({ count: '*' })
    .groupBy('tenant');
  const out: Record<string, number> = {};
  for (const row of rows as any[]) {
    out[row.tenant ?? ''] = Number(row.count);
  }
  return out;
}

/** Entities per tenant ('' for none) and decision. */
export async function countByTenant(
  ctx: DbContext,
): Promise<Record<string, Record<Decision, number>>> {
  const rows = await ctx
    .db(TABLES.status)
    .select('tenant', 'decision')
    .count({ count: '*' })
    .groupBy('tenant', 'decision');
  const out: Record<string, Record<Decision, number>> = {};
  for (const row of rows as any[]) {
    const tenant = row.tenant ?? '';
    out[tenant] ??= Object.fromEntries(DECISIONS.map(d => [d, 0])) as Record<
      Decision,
      number
    >;
    if ((DECISIONS as readonly string[]).includes(row.decision)) {
      out[tenant][row.decision as Decision] = Number(row.count);
    }
  }
  return out;
}

/** Full statuses by entity ref after `after` (keyset scan). */
export async function scanStatuses(
  ctx: DbContext,
  options: StoreOptions<'scanStatuses'>,
): Promise<EntityStatus[]> {
  const query = ctx
    .db<StatusRow>(TABLES.status)
    .orderBy('entity_ref', 'asc')
    .limit(options.limit);
  if (options.tenant) {
    query.where('tenant', options.tenant);
  }
  if (options.after) {
    query.where('entity_ref', '>', options.after);
  }
  return (await query).map(toStatus);
}

/** The inputs hash each known entity was last evaluated with. */
export async function getInputsHashes(
  ctx: DbContext,
  options: StoreOptions<'getInputsHashes'>,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < options.entityRefs.length; i += 500) {
    const rows = await ctx
      .db<StatusRow>(TABLES.status)
      .whereIn('entity_ref', options.entityRefs.slice(i, i + 500))
      .select('entity_ref', 'inputs_hash');
    for (const row of rows) {
      out.set(row.entity_ref, row.inputs_hash);
    }
  }
  return out;
}

/** Marks decided evidence stale after a failed attempt; false when there is none. */
export async function markStale(
  ctx: DbContext,
  options: StoreOptions<'markStale'>,
): Promise<boolean> {
  const updated = await ctx
    .db(TABLES.status)
    .where({ entity_ref: options.entityRef })
    .whereNotNull('evidence_id')
    .whereNot('decision', 'unknown')
    .update({
      stale: true,
      last_attempt: JSON.stringify(options.attempt),
      updated_at: now(ctx),
    });
  return Number(updated) > 0;
}

/**
 * Forgets entities: their status and, in the same transaction, their refresh
 * claims. The evidence chain stays.
 */
export async function deleteStatuses(
  ctx: DbContext,
  options: StoreOptions<'deleteStatuses'>,
): Promise<void> {
  for (let i = 0; i < options.entityRefs.length; i += 500) {
    const refs = options.entityRefs.slice(i, i + 500);
    await ctx.db.transaction(async trx => {
      await trx(TABLES.status).whereIn('entity_ref', refs).delete();
      await trx(TABLES.claims).whereIn('entity_ref', refs).delete();
    });
  }
}
