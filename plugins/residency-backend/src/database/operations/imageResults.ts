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
