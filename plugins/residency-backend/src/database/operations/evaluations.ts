import type {
  EntityResult,
  EntityStatus,
  Reason,
} from '@residency-dev/plugin-residency-common';
import { canonicalJson, sha256Hex } from '../chain';
import { TABLES, now, type DbContext } from '../tables';
import type { RecordOutcome, StoreOptions } from '../ResidencyStore';
import { appendEvidence } from './evidence';
import { storeImageResults } from './imageResults';
import { isUniqueViolation, type StatusRow } from './rows';
import { getStatus } from './statuses';

/** Reason codes of an entity and of its images, deduplicated, entity's first. */
export function reasonCodesOf(result: EntityResult): string[] {
  const codes = new Set<string>(result.reasons.map(r => r.code));
  for (const image of result.images) {
    for (const reason of image.reasons) {
      codes.add(reason.code);
    }
  }
  return [...codes];
}

/**
 * Why a check could not decide: the entity's own reasons and every image's
 * (registry faults are reported per image), each image reason naming its image.
 */
export function attemptReasonsOf(result: EntityResult): Reason[] {
  return [
    ...result.reasons,
    ...result.images.flatMap(image =>
      image.reasons.map(r => ({
        ...r,
        details: { ...(r.details ?? {}), image: image.reference },
      })),
    ),
  ];
}

/**
 * The key of a decision and its inputs: when it is unchanged, a new check only
 * confirms the existing evidence record.
 */
export function evidenceKeyOf(result: EntityResult): string {
  return sha256Hex(
    canonicalJson({
      decision: result.decision,
      reasons: result.reasons.map(r => r.code),
      tenant: result.tenant ?? null,
      declaredRegion: result.declaredRegion ?? null,
      boundary: result.boundary ?? null,
      policyHash: result.policyHash,
      trustHash: result.trustHash,
      images: result.images.map(i => ({
        reference: i.reference,
        digest: i.digest ?? null,
        decision: i.decision,
        reasons: i.reasons.map(r => r.code),
        signatures: i.signatures.map(s => [s.verified, s.key?.id ?? null]),
        attestations: i.attestations.map(a => [
          a.kind,
          a.verified,
          a.key?.id ?? null,
        ]),
      })),
    }),
  );
}

/**
 * Stores one evaluation across three tables: the per-digest cache, then in one
 * transaction the evidence append (only when the decision or its inputs
 * changed) and the status.
 */
export async function recordEvaluation(
  ctx: DbContext,
  options: StoreOptions<'recordEvaluation'>,
): Promise<{ status: EntityStatus; outcome: RecordOutcome }> {
  // The per-digest cache is written on its own, outside the evidence
  // transaction: it is shared across entities, and holding its rows while
  // waiting for an entity would let writers deadlock.
  await storeImageResults(ctx, options);
  // A concurrent append for the same entity loses on the unique (entity_ref,
  // sequence) constraint; the retry then sees the winner and only confirms.
  for (let attempt = 0; ; attempt++) {
    try {
      const outcome = await recordOnce(ctx, options);
      const status = (await getStatus(ctx, { entityRef: options.entityRef }))!;
      return { outcome, status };
    } catch (error) {
      if (attempt >= 2 || !isUniqueViolation(error)) {
        throw error;
      }
    }
  }
}

async function recordOnce(
  ctx: DbContext,
  options: StoreOptions<'recordEvaluation'>,
): Promise<RecordOutcome> {
  const { entityRef, result, record } = options;
  return ctx.db.transaction(async trx => {
    // One writer per entity at a time: an advisory lock keyed by the entity
    // serializes writers even before the status row exists, and is the only
    // lock taken first, so writers cannot deadlock.
    if (!ctx.sqlite) {
      await trx.raw('select pg_advisory_xact_lock(hashtextextended(?, 0))', [
        `residency:${entityRef}`,
      ]);
    }
    const existingQuery = trx<StatusRow>(TABLES.status).where({
      entity_ref: entityRef,
    });
    if (!ctx.sqlite) {
      existingQuery.forUpdate();
    }
    const existing = await existingQuery.first();
    const base = {
      title: options.title ?? null,
      inputs_hash: options.inputsHash,
      updated_at: now(ctx),
    };

    // Could not decide: keep the last good evidence, mark it stale.
    if (
      result.decision === 'unknown' &&
      existing &&
      existing.decision !== 'unknown' &&
      existing.evidence_id
    ) {
      await trx(TABLES.status)
        .where({ entity_ref: entityRef })
        .update({
          ...base,
          stale: true,
          last_attempt: JSON.stringify({
            decision: result.decision,
            reasons: attemptReasonsOf(result),
            checkedAt: result.checkedAt,
          }),
        });
      return 'stale';
    }

    const evidenceKey = evidenceKeyOf(result);
    const summaryColumns = {
      ...base,
      tenant: result.tenant ?? null,
      declared_region: result.declaredRegion ?? null,
      decision: result.decision,
      stale: false,
      reason_codes: JSON.stringify(reasonCodesOf(result)),
      images: JSON.stringify(result.images.map(i => i.reference)),
      detail: JSON.stringify(result),
      last_attempt: null,
      checked_at: result.checkedAt,
      last_verified_at: now(ctx),
    };

    if (
      existing &&
      existing.evidence_key === evidenceKey &&
      existing.evidence_id
    ) {
      await trx(TABLES.status)
        .where({ entity_ref: entityRef })
        .update(summaryColumns);
      return 'confirmed';
    }

    const id = await appendEvidence(ctx, trx, {
      entityRef,
      record,
      reasonCodes: reasonCodesOf(record.result),
    });
    await trx(TABLES.status)
      .insert({
        entity_ref: entityRef,
        ...summaryColumns,
        evidence_key: evidenceKey,
        evidence_id: id,
      })
      .onConflict('entity_ref')
      .merge();
    return 'appended';
  });
}
