import type { StoreOptions } from '../ResidencyStore';
import { TABLES, now, nowPlus, type DbContext } from '../tables';

/**
 * Claims entities for a refresh cycle and returns those this replica holds:
 * new ones by insert, existing ones by compare-and-set over claims of another
 * cycle or unfinished ones whose lease expired.
 */
export async function claimEntities(
  ctx: DbContext,
  options: StoreOptions<'claimEntities'>,
): Promise<string[]> {
  const { db } = ctx;
  const { lane, cycleId, claimedBy } = options;
  const claimed: string[] = [];
  for (let i = 0; i < options.entityRefs.length; i += 500) {
    const refs = options.entityRefs.slice(i, i + 500);
    const fresh = () => ({
      cycle_id: cycleId,
      claimed_by: claimedBy,
      lease_expires_at: nowPlus(ctx, options.leaseSeconds),
      done: false,
    });
    // Entities never claimed before: the insert is the claim; a concurrent
    // insert of the same key is ignored and loses.
    await db(TABLES.claims)
      .insert(refs.map(entity_ref => ({ entity_ref, lane, ...fresh() })))
      .onConflict(['entity_ref', 'lane'])
      .ignore();
    // Compare-and-set over existing claims: a claim of another cycle, or an
    // unfinished one whose lease expired (its replica crashed or stalled).
    // PostgreSQL re-checks the condition on each row after taking its lock.
    await db(TABLES.claims)
      .where({ lane })
      .whereIn('entity_ref', refs)
      .where(q =>
        q
          .whereNot('cycle_id', cycleId)
          .orWhere(inner =>
            inner.where('done', false).where('lease_expires_at', '<', now(ctx)),
          ),
      )
      .update(fresh());
    const rows = await db(TABLES.claims)
      .where({ lane, cycle_id: cycleId, claimed_by: claimedBy, done: false })
      .whereIn('entity_ref', refs)
      .select('entity_ref');
    const held = new Set(rows.map(r => r.entity_ref as string));
    claimed.push(...refs.filter(r => held.has(r)));
  }
  return claimed;
}

/** The row key of a held claim of one refresh lane (`manual` belongs to refreshRequests.ts). */
export function claimRow(options: StoreOptions<'completeClaim'>) {
  return {
    entity_ref: options.entityRef,
    lane: options.lane,
    cycle_id: options.cycleId,
    claimed_by: options.claimedBy,
  };
}

/** Marks a held claim done: the entity was evaluated in this cycle. */
export async function completeClaim(
  ctx: DbContext,
  options: StoreOptions<'completeClaim'>,
): Promise<void> {
  await ctx.db(TABLES.claims).where(claimRow(options)).update({ done: true });
}

/** Gives an unfinished claim back, so another replica may take it at once. */
export async function releaseClaim(
  ctx: DbContext,
  options: StoreOptions<'releaseClaim'>,
): Promise<void> {
  await ctx
    .db(TABLES.claims)
    .where({ ...claimRow(options), done: false })
    .delete();
}
