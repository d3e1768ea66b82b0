import type { StoreOptions } from '../ResidencyStore';
import { TABLES, nowPlus, now, type DbContext } from '../tables';

/**
 * Records that this replica runs configuration `configHash` and answers whether
 * it is the newest live one: the configuration first seen last (highest
 * generation, assigned by the database on first insert) among
 * those some replica ran within `liveSeconds`. A configuration nobody runs any
 * more (rolled back, replicas gone) stops counting after `liveSeconds`.
 */
export async function registerConfigGeneration(
  ctx: DbContext,
  options: StoreOptions<'registerConfigGeneration'>,
): Promise<{ newest: boolean; newestHash: string }> {
  const { db } = ctx;
  await db(TABLES.configGenerations)
    .insert({
      config_hash: options.configHash,
      first_seen_at: now(ctx),
      last_seen_at: now(ctx),
    })
    .onConflict('config_hash')
    .merge({ last_seen_at: now(ctx) });
  const newest = await db(TABLES.configGenerations)
    .where('last_seen_at', '>=', nowPlus(ctx, -options.liveSeconds))
    .orderBy('generation', 'desc')
    .first('config_hash');
  const newestHash = newest?.config_hash ?? options.configHash;
  return { newest: newestHash === options.configHash, newestHash };
}
