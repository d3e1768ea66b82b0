/*
 * Exceptions, the residency state last seen per entity and the notification
 * dedup keys (exception events are evidence records: operations/evidence.ts). Every write that more than one replica may race
 * on is a compare-and-set or a primary-key insert.
 */
import type {
  ExceptionStatus,
  ResidencyException,
  ResidencyState,
} from '@residency-dev/plugin-residency-common';
import { TABLES, now, type DbContext } from '../tables';

interface ExceptionRow {
  id: string;
  entity_ref: string;
  status: string;
  reason_codes: string;
  digests: string;
  justification: string;
  reference: string;
  requested_by: string;
  requested_at: string;
  expires_at: string;
  decided_by: string | null;
  decided_at: string | null;
  comment: string | null;
  envelope: string | null;
  key_fingerprint: string | null;
  public_key_pem?: string | null;
}

function fromRow(r: ExceptionRow): ResidencyException {
  return {
    id: r.id,
    entityRef: r.entity_ref,
    status: r.status as ExceptionStatus,
    reasonCodes: JSON.parse(r.reason_codes),
    digests: JSON.parse(r.digests),
    justification: r.justification,
    reference: r.reference,
    requestedBy: r.requested_by,
    requestedAt: r.requested_at,
    expiresAt: r.expires_at,
    ...(r.decided_by ? { decidedBy: r.decided_by } : {}),
    ...(r.decided_at ? { decidedAt: r.decided_at } : {}),
    ...(r.comment ? { comment: r.comment } : {}),
    ...(r.envelope ? { envelope: r.envelope } : {}),
    ...(r.key_fingerprint ? { keyFingerprint: r.key_fingerprint } : {}),
    ...(r.public_key_pem ? { publicKeyPem: r.public_key_pem } : {}),
  };
}

export async function insertException(
  ctx: DbContext,
  e: ResidencyException,
): Promise<void> {
  const row: ExceptionRow = {
    id: e.id,
    entity_ref: e.entityRef,
    status: e.status,
    reason_codes: JSON.stringify(e.reasonCodes),
    digests: JSON.stringify(e.digests),
    justification: e.justification,
    reference: e.reference,
    requested_by: e.requestedBy,
    requested_at: e.requestedAt,
    expires_at: e.expiresAt,
    decided_by: null,
    decided_at: null,
    comment: null,
    envelope: null,
    key_fingerprint: null,
  };
  await ctx.db(TABLES.exceptions).insert(row);
}

export async function getException(
  ctx: DbContext,
  id: string,
): Promise<ResidencyException | undefined> {
  const row = await ctx
    .db<ExceptionRow>(TABLES.exceptions)
    .where({ id })
    .first();
  return row ? fromRow(row) : undefined;
}

export async function listExceptions(
  ctx: DbContext,
  options: { entityRef?: string; statuses?: ExceptionStatus[] },
): Promise<ResidencyException[]> {
  let q = ctx.db<ExceptionRow>(TABLES.exceptions);
  if (options.entityRef) q = q.where({ entity_ref: options.entityRef });
  if (options.statuses) q = q.whereIn('status', options.statuses);
  const rows = await q.orderBy('requested_at', 'desc').orderBy('id');
  return rows.map(fromRow);
}

/**
 * Compare-and-set status change: only from `from` (so two approvers, or an
 * approval racing an expiry, cannot both win). Returns the updated exception or
 * undefined when it was no longer in `from`.
 */
export async function transitionException(
  ctx: DbContext,
  options: {
    id: string;
    from: ExceptionStatus;
    to: ExceptionStatus;
    by?: string;
    at: string;
    comment?: string;
    envelope?: string;
    keyFingerprint?: string;
    publicKeyPem?: string;
  },
): Promise<ResidencyException | undefined> {
  const changed = await ctx
    .db(TABLES.exceptions)
    .where({ id: options.id, status: options.from })
    .update({
      status: options.to,
      ...(options.by ? { decided_by: options.by, decided_at: options.at } : {}),
      ...(options.comment !== undefined ? { comment: options.comment } : {}),
      ...(options.envelope ? { envelope: options.envelope } : {}),
      ...(options.keyFingerprint
        ? { key_fingerprint: options.keyFingerprint }
        : {}),
      ...(options.publicKeyPem ? { public_key_pem: options.publicKeyPem } : {}),
    });
  return changed === 1 ? getException(ctx, options.id) : undefined;
}

/** Approved exceptions whose window ended at or before `at`. */
export async function listLapsed(
  ctx: DbContext,
  at: string,
): Promise<ResidencyException[]> {
  const rows = await ctx
    .db<ExceptionRow>(TABLES.exceptions)
    .where({ status: 'approved' })
    .where('expires_at', '<=', at)
    .limit(500);
  return rows.map(fromRow);
}

/** Approved exceptions ending in (from, until]. */
export async function listExpiringBetween(
  ctx: DbContext,
  from: string,
  until: string,
): Promise<ResidencyException[]> {
  const rows = await ctx
    .db<ExceptionRow>(TABLES.exceptions)
    .where({ status: 'approved' })
    .where('expires_at', '>', from)
    .where('expires_at', '<=', until)
    .limit(500);
  return rows.map(fromRow);
}

/** What recording a state did. */
export interface StateChange {
  /** True only for the one caller (across replicas) that made the change. */
  changed: boolean;
  /** True only for the one caller that recorded the entity's first state (not a change). */
  first?: boolean;
  /**
   * True only for the one caller that recorded a new detail under an unchanged
   * state (with `redetail`): e.g. other exceptions now keep the entity resident
   * by exception. Not a transition: the counter stays.
   */
  detailChanged?: boolean;
  previous?: ResidencyState;
  state: ResidencyState;
  /** Counter of the change (part of the notification dedup key). */
  transition: number;
}

/**
 * Records the residency state of an entity. The first state seen is not a
 * transition (`first` for the one caller that recorded it). A change is a
 * compare-and-set on the transition counter: of several replicas seeing the same
 * change, exactly one gets `changed: true`. With `redetail`, a different detail
 * under the same state is recorded too, as a compare-and-set on the stored detail:
 * exactly one caller gets `detailChanged: true`. The caller passes the detail in
 * a canonical form, so an equal detail is an equal string.
 */
export async function recordEntityState(
  ctx: DbContext,
  options: {
    entityRef: string;
    state: ResidencyState;
    detail: unknown;
    redetail?: boolean;
  },
): Promise<StateChange> {
  const { db } = ctx;
  const detail = JSON.stringify(options.detail ?? null);
  for (let attempt = 0; attempt < 3; attempt++) {
    const row = await db(TABLES.entityState)
      .where({ entity_ref: options.entityRef })
      .first();
    if (!row) {
      // Of replicas inserting the first state at once, only the one whose row
      // was written gets it back (the others' inserts are ignored).
      const inserted = await db(TABLES.entityState)
        .insert({
          entity_ref: options.entityRef,
          state: options.state,
          transition: 0,
          detail,
          changed_at: now(ctx),
        })
        .onConflict('entity_ref')
        .ignore()
        .returning('entity_ref')
        .then(
          rows => Array.isArray(rows) && rows.length === 1,
          () => false,
        );
      if (inserted)
        return {
          changed: false,
          first: true,
          state: options.state,
          transition: 0,
        };
      continue;
    }
    const transition = Number(row.transition);
    if (row.state === options.state) {
      if (!options.redetail || row.detail === detail)
        return { changed: false, state: options.state, transition };
      const redetailed = await db(TABLES.entityState)
        .where({
          entity_ref: options.entityRef,
          transition,
          state: row.state,
          detail: row.detail,
        })
        .update({ detail });
      if (redetailed === 1)
        return {
          changed: false,
          detailChanged: true,
          state: options.state,
          transition,
        };
      // Another caller changed the row first: read it again.
      continue;
    }
    const updated = await db(TABLES.entityState)
      .where({ entity_ref: options.entityRef, transition })
      .update({
        state: options.state,
        transition: transition + 1,
        detail,
        changed_at: now(ctx),
      });
    if (updated === 1) {
      return {
        changed: true,
        previous: row.state as ResidencyState,
        state: options.state,
        transition: transition + 1,
      };
    }
  }
  return { changed: false, state: options.state, transition: -1 };
}

/**
 * Claims a notification key: true for exactly one caller across replicas (the one
 * whose insert created the row).
 */
export async function claimNotification(
  ctx: DbContext,
  key: string,
): Promise<boolean> {
  const existing = await ctx
    .db(TABLES.notificationsSent)
    .where({ dedup_key: key })
    .first();
  if (existing) return false;
  try {
    await ctx
      .db(TABLES.notificationsSent)
      .insert({ dedup_key: key, sent_at: now(ctx) });
    return true;
  } catch {
    return false;
  }
}
