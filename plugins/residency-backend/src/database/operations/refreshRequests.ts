import type { StoreOptions } from '../ResidencyStore';
import { TABLES, nowPlus, now, type DbContext } from '../tables';

/** Why an on-demand refresh may not start now. */
export type RefreshAdmission =
  | { admitted: true }
  | {
      admitted: false;
      reason: 'in_flight' | 'rate_limited';
      retryAfterSeconds: number;
    };

/**
 * Admits an on-demand refresh: at most one in flight per entity (a claim in the
 * `manual` lane, shared with every replica) and at most `limit` per principal
 * within `windowSeconds`. Two replicas admitting at the same instant may both
 * pass the count (the limit is approximate by at most the replica count); the
 * in-flight claim is exact (compare-and-set).
 */
export async function admitRefresh(
  ctx: DbContext,
  options: StoreOptions<'admitRefresh'>,
): Promise<RefreshAdmission> {
  const { db } = ctx;
  // Requests older than the window no longer count.
  await db(TABLES.refreshRequests)
    .where('requested_at', '<', nowPlus(ctx, -options.windowSeconds))
    .delete();
  const [{ count }] = await db(TABLES.refreshRequests)
    .where({ principal: options.principal })
    .where('requested_at', '>=', nowPlus(ctx, -options.windowSeconds))
    .count({ count: '*' });
  if (Number(count) >= options.limit) {
    return {
      admitted: false,
      reason: 'rate_limited',
      retryAfterSeconds: options.windowSeconds,
    };
  }

  const claim = {
    cycle_id: `manual-${options.holder}`,
    claimed_by: options.holder,
    lease_expires_at: nowPlus(ctx, options.leaseSeconds),
    done: false,
  };
  await db(TABLES.claims)
    .insert({ entity_ref: options.entityRef, lane: 'manual', ...claim })
    .onConflict(['entity_ref', 'lane'])
    .ignore();
  await db(TABLES.claims)
    .where({ entity_ref: options.entityRef, lane: 'manual' })
    .whereNot('claimed_by', options.holder)
    .where(q =>
      q.where('done', true).orWhere('lease_expires_at', '<', now(ctx)),
    )
    .update(claim);
  const held = await db(TABLES.claims)
    .where({
      entity_ref: options.entityRef,
      lane: 'manual',
      claimed_by: options.holder,
      done: false,
    })
    .first();
  if (!held) {
    return {
      admitted: false,
      reason: 'in_flight',
      retryAfterSeconds: Math.min(options.leaseSeconds, 10),
    };
  }
  await db(TABLES.refreshRequests).insert({
    principal: options.principal,
    entity_ref: options.entityRef,
    requested_at: now(ctx),
  });
  return { admitted: true };
}

/** Ends an admitted on-demand refresh (the entity may be refreshed again). */
export async function finishRefresh(
  ctx: DbContext,
  options: StoreOptions<'finishRefresh'>,
): Promise<void> {
  await ctx
    .db(TABLES.claims)
    .where({
      entity_ref: options.entityRef,
      lane: 'manual',
      claimed_by: options.holder,
    })
    .update({ done: true });
}
