import type {
  EntityResult,
  EvidenceRecord,
  ImageMaterial,
} from '@residency-dev/plugin-residency-common';
import type { StoreOptions } from '../ResidencyStore';
import { TABLES, now, nowPlus, type DbContext } from '../tables';

/**
 * Stores the material of each definitively decided image of an evaluation in
 * the per-digest cache. Digests whose material was itself reused are skipped,
 * so they keep the time they were fetched.
 */
export async function storeImageResults(
  ctx: DbContext,
  options: {
    result: EntityResult;
    record: EvidenceRecord;
    reusedDigests?: ReadonlySet<string>;
  },
): Promise<void> {
  const { result, record } = options;
  for (const image of result.images) {
    // Only definitive verifications are worth reusing; reused ones keep their time.
    if (
      !image.digest ||
      options.reusedDigests?.has(image.digest) ||
      (image.decision !== 'compliant' && image.decision !== 'non_compliant')
    ) {
      continue;
    }
    const material = record.material.find(m => m.digest === image.digest);
    if (!material) {
      continue;
    }
    await ctx
      .db(TABLES.images)
      .insert({
        digest: image.digest,
        verified_at: now(ctx),
        material: JSON.stringify(material),
      })
      .onConflict(['digest'])
      .merge();
  }
}

/**
 * The cached material of a digest younger than `maxAgeSeconds`. One row per digest,
 * whatever trust or policy it was decided under: what is reused is the registry
 * material, and the engine decides it again under the current keys and policy.
 * A key rotation or a tenant change therefore re-decides entities without
 * fetching their signatures again.
 */
export async function findImageResult(
  ctx: DbContext,
  options: StoreOptions<'findImageResult'>,
): Promise<{ material: ImageMaterial } | undefined> {
  if (options.maxAgeSeconds <= 0) {
    return undefined;
  }
  const row = await ctx
    .db(TABLES.images)
    .where({ digest: options.digest })
    .where('verified_at', '>', nowPlus(ctx, -options.maxAgeSeconds))
    .first();
  if (!row) {
    return undefined;
  }
  return { material: JSON.parse(row.material) as ImageMaterial };
}

/**
 * The cached entries younger than `maxAgeSeconds` of every digest the current
 * statuses of `entityRefs` show, in one statement: a refresh asks for a whole page
 * of entities before evaluating it, instead of one `findImageResult` per image.
 */
export async function findImageResultsOfEntities(
  ctx: DbContext,
  options: StoreOptions<'findImageResultsOfEntities'>,
): Promise<Map<string, { material: ImageMaterial }>> {
  const out = new Map<string, { material: ImageMaterial }>();
  if (options.maxAgeSeconds <= 0 || options.entityRefs.length === 0) {
    return out;
  }
  for (let i = 0; i < options.entityRefs.length; i += 500) {
    const refs = options.entityRefs.slice(i, i + 500);
    // The digests the statuses show, read from their stored EntityResult.
    const digests = ctx.sqlite
      ? `select distinct json_extract(j.value, '$.digest') from ${
          TABLES.status
        } s, json_each(s.detail, '$.images') j where s.entity_ref in (${refs
          .map(() => '?')
          .join(', ')})`
      : `select distinct (jsonb_array_elements(s.detail::jsonb -> 'images') ->> 'digest') from ${TABLES.status} s where s.entity_ref = any(?)`;
    const rows = await ctx
      .db(TABLES.images)
      .whereRaw(`digest in (${digests})`, ctx.sqlite ? refs : [refs])
      .where('verified_at', '>', nowPlus(ctx, -options.maxAgeSeconds));
    for (const row of rows) {
      out.set(row.digest, {
        material: JSON.parse(row.material) as ImageMaterial,
      });
    }
  }
  return out;
}
