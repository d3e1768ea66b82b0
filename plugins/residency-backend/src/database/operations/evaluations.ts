import type { Knex } from 'knex';
import type {
  EntityResult,
  EntityStatus,
  Reason,
} from '@residency-dev/plugin-residency-common';
import { canonicalJson, sha256Hex } from '../chain';
import { TABLES, now, type DbContext } from '../tables';
import type {
  ClaimKey,
  RecordOutcome,
  RecordedEntityState,
  StoreOptions,
} from '../ResidencyStore';
import { appendEvidence } from './evidence';
import { storeImageResults } from './imageResults';
import { isUniqueViolation, lockEntity, type StatusRow } from './rows';
import { getStatus, statusOf } from './statuses';
import { claimRow } from './claims';

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
 * The fingerprint of what a status's stored EntityResult (`detail`) says besides
 * the time of the check (`checkedAt`, kept in its own column) and the verification
 * reports (which checks ran and how long they took: the same checks for the same
 * decision and material, with this check's timings). While it matches, a
 * confirmation leaves `detail` as the check that wrote it left it; anything else in
 * it that changed (when an image's signatures were fetched, the engine version,
 * labels, ...) makes the confirmation write it again.
 */
export function detailKeyOf(result: EntityResult): string {
  return sha256Hex(
    JSON.stringify({
      ...result,
      checkedAt: undefined,
      report: undefined,
      images: result.images.map(i => ({ ...i, report: undefined })),
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
): Promise<{
  status: EntityStatus;
  outcome: RecordOutcome;
  entityState?: RecordedEntityState | null;
}> {
  // The per-digest cache is written on its own, outside the evidence
  // transaction: it is shared across entities, and holding its rows while
  // waiting for an entity would let writers deadlock.
  // After a batch's confirmation (confirmEvaluations) that matched nothing, the
  // material is stored and the confirmation tried: the transaction decides.
  if (!options.confirmTried) {
    await storeImageResults(ctx, options);
    const confirmed = await confirmUnchanged(ctx, options);
    if (confirmed) {
      return { outcome: 'confirmed', ...confirmed };
    }
  }
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
    // One writer per entity at a time (see lockEntity).
    await lockEntity(ctx, trx, entityRef);
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
      await completeIn(trx, options.claim);
      return 'stale';
    }

    const evidenceKey = evidenceKeyOf(result);
    const summaryColumns = statusColumns(ctx, options, detailKeyOf(result));

    if (
      existing &&
      existing.evidence_key === evidenceKey &&
      existing.evidence_id
    ) {
      await trx(TABLES.status)
        .where({ entity_ref: entityRef })
        .update(summaryColumns);
      await completeIn(trx, options.claim);
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
    await completeIn(trx, options.claim);
    return 'appended';
  });
}

/** The status columns an evaluation writes (all but the evidence link). */
function statusColumns(
  ctx: DbContext,
  options: StoreOptions<'recordEvaluation'>,
  detailKey: string,
) {
  const { result } = options;
  return {
    ...timeColumns(ctx, options),
    tenant: result.tenant ?? null,
    declared_region: result.declaredRegion ?? null,
    decision: result.decision,
    reason_codes: JSON.stringify(reasonCodesOf(result)),
    images: JSON.stringify(result.images.map(i => i.reference)),
    detail: JSON.stringify(result),
    detail_key: detailKey,
  };
}

/**
 * The columns a confirmation moves when `detail` stays: the check's time, the
 * confirmation's, and the entity's own (title, inputs) which no evidence covers.
 */
function timeColumns(
  ctx: DbContext,
  options: StoreOptions<'recordEvaluation'>,
) {
  return {
    title: options.title ?? null,
    inputs_hash: options.inputsHash,
    updated_at: now(ctx),
    stale: false,
    last_attempt: null,
    checked_at: options.result.checkedAt,
    last_verified_at: now(ctx),
  };
}

async function completeIn(trx: Knex, claim: ClaimKey | undefined) {
  if (claim) {
    await trx(TABLES.claims).where(claimRow(claim)).update({ done: true });
  }
}

/**
 * What a confirmation reads back: the columns it does not write, the database's
 * time, and the fingerprint of the stored `detail`.
 */
const CONFIRMED_COLUMNS = [
  'evidence_id',
  'last_verified_at',
  'detail_key',
] as const;
type ConfirmedColumn = (typeof CONFIRMED_COLUMNS)[number];

/** A confirmed row as read back, with the entity's state where it was read too. */
type ConfirmedRow = Pick<StatusRow, ConfirmedColumn> & {
  entity_state?: string | null;
  entity_transition?: number | string | null;
};

/** What a confirmation returns for its entity. */
export interface Confirmed {
  status: EntityStatus;
  entityState?: RecordedEntityState | null;
}

/**
 * The single confirmation's update: the status row of this entity, when its
 * evidence is this evaluation's, gets the new times (returning what the status
 * needs back).
 */
function confirmUpdate(
  ctx: DbContext,
  db: Knex,
  options: StoreOptions<'recordEvaluation'>,
) {
  return db(TABLES.status)
    .where({
      entity_ref: options.entityRef,
      evidence_key: evidenceKeyOf(options.result),
      decision: options.result.decision,
    })
    .whereNotNull('evidence_id')
    .update(timeColumns(ctx, options))
    .returning([...CONFIRMED_COLUMNS]);
}

/**
 * The warm path: the decision and its inputs are those of the status's evidence,
 * so the evaluation only confirms it. One conditional update (with the claim marked
 * done in the same statement on PostgreSQL) that returns the row; undefined when the
 * row is missing or its evidence differs, and the transaction below decides.
 *
 * The update moves only the small columns (times, title, inputs): the stored
 * `detail` (~20 KB, TOASTed on PostgreSQL) is neither sent nor rewritten, and a
 * read of the status takes `checkedAt` from its column. Only when the stored
 * `detail` says something else than this check's result besides its time and
 * reports (`detail_key` differs: new material was fetched, another engine version)
 * does a second statement write it.
 *
 * Safe without the advisory lock: the update locks the row, and PostgreSQL checks
 * the condition again on the newest version after a concurrent writer commits, so
 * an append that changed the evidence makes this update match nothing.
 */
async function confirmUnchanged(
  ctx: DbContext,
  options: StoreOptions<'recordEvaluation'>,
): Promise<Confirmed | undefined> {
  const update = confirmUpdate(ctx, ctx.db, options);
  let row: ConfirmedRow | undefined;
  if (ctx.sqlite) {
    row = ((await update) as unknown as ConfirmedRow[])[0];
    if (row && options.claim) {
      await completeIn(ctx.db, options.claim);
    }
  } else {
    // One statement: the confirmation, the claim, and the entity's recorded
    // residency state, which the state tracker would otherwise read next.
    let query = ctx.db.with('confirmed', update);
    if (options.claim) {
      query = query.with(
        'claim',
        ctx
          .db(TABLES.claims)
          .where(claimRow(options.claim))
          .whereExists(ctx.db.select(ctx.db.raw('1')).from('confirmed'))
          .update({ done: true }),
      );
    }
    row = (
      await query
        .select(
          ...CONFIRMED_COLUMNS.map(c => `confirmed.${c}`),
          'es.state as entity_state',
          'es.transition as entity_transition',
        )
        .from('confirmed')
        .leftJoin(`${TABLES.entityState} as es`, join =>
          join.on('es.entity_ref', '=', ctx.db.raw('?', [options.entityRef])),
        )
    )[0];
  }
  if (!row) {
    return undefined;
  }
  return confirmedStatus(ctx, options, row);
}

/**
 * A confirmed row's status: `detail` written again only when its fingerprint
 * differs, the rest built from this check's result in memory.
 */
async function confirmedStatus(
  ctx: DbContext,
  options: StoreOptions<'recordEvaluation'>,
  row: ConfirmedRow,
): Promise<Confirmed> {
  const { result } = options;
  const detailKey = detailKeyOf(result);
  if (row.detail_key !== detailKey) {
    // Only over the evidence just confirmed: a writer that appended since has
    // written a newer detail of its own.
    await ctx
      .db(TABLES.status)
      .where({ entity_ref: options.entityRef, evidence_id: row.evidence_id })
      .update({ detail: JSON.stringify(result), detail_key: detailKey });
  }
  // The status is this check's result (the same as the stored one but for its
  // reports' timings) plus the row's columns, built without serialising and
  // parsing it again.
  const status = statusOf(result, {
    ...row,
    checked_at: result.checkedAt,
    stale: false,
    title: options.title ?? null,
  });
  if (ctx.sqlite) {
    return { status };
  }
  return {
    status,
    entityState: row.entity_state
      ? {
          state: row.entity_state as RecordedEntityState['state'],
          transition: Number(row.entity_transition),
        }
      : null,
  };
}

/**
 * The warm path for a page of evaluations at once: every evaluation whose decision
 * and inputs are those of its status's evidence is confirmed (the same columns as
 * `confirmUnchanged`, with its claim marked done) in one statement on PostgreSQL,
 * in one transaction on SQLite. The answer is aligned with `items`: undefined where
 * nothing was confirmed (no status, other evidence, a concurrent writer changed it,
 * or the entity's ref came twice), and the caller then records that evaluation on
 * its own (`recordEvaluation` with `confirmTried`), exactly as a single check would.
 *
 * Safe without the advisory lock for the same reason as `confirmUnchanged`: the
 * update locks each row and PostgreSQL checks the whole condition, the join with
 * this batch's values included, again on the newest row version after a concurrent
 * writer commits.
 */
export async function confirmEvaluations(
  ctx: DbContext,
  items: StoreOptions<'recordEvaluation'>[],
): Promise<(Confirmed | undefined)[]> {
  // As in recordEvaluation: the shared per-digest cache first, outside any
  // transaction (a warm check reused all its material: nothing to write).
  for (const item of items) {
    await storeImageResults(ctx, item);
  }
  // One row per entity: a second evaluation of the same entity in the batch
  // goes the single path, after the first.
  const seen = new Set<string>();
  const batch: number[] = [];
  items.forEach((item, i) => {
    if (!seen.has(item.entityRef)) {
      seen.add(item.entityRef);
      batch.push(i);
    }
  });
  const rows = new Map<number, ConfirmedRow>();
  if (batch.length === 0) {
    return items.map(() => undefined);
  }
  if (ctx.sqlite) {
    // One writer at a time anyway: one transaction instead of one per entity.
    await ctx.db.transaction(async trx => {
      for (const i of batch) {
        const item = items[i];
        const row = (
          (await confirmUpdate(ctx, trx, item)) as unknown as ConfirmedRow[]
        )[0];
        if (row) {
          await completeIn(trx, item.claim);
          rows.set(i, row);
        }
      }
    });
  } else {
    // The batch's values as one JSON parameter (no limit on bound parameters,
    // every value typed by the record definition below).
    const values = batch.map(i => {
      const item = items[i];
      return {
        i,
        entity_ref: item.entityRef,
        evidence_key: evidenceKeyOf(item.result),
        decision: item.result.decision,
        title: item.title ?? null,
        inputs_hash: item.inputsHash,
        checked_at: item.result.checkedAt,
        lane: item.claim?.lane ?? null,
        cycle_id: item.claim?.cycleId ?? null,
        claimed_by: item.claim?.claimedBy ?? null,
      };
    });
    const result = await ctx.db.raw(
      `with v as (
         select * from jsonb_to_recordset(?::jsonb) as v(
           i int, entity_ref text, evidence_key text, decision text, title text,
           inputs_hash text, checked_at text, lane text, cycle_id text, claimed_by text)
       ), confirmed as (
         update ${TABLES.status} s
            set title = v.title, inputs_hash = v.inputs_hash, updated_at = now(),
                stale = false, last_attempt = null, checked_at = v.checked_at,
                last_verified_at = now()
           from v
          where s.entity_ref = v.entity_ref
            and s.evidence_key = v.evidence_key
            and s.decision = v.decision
            and s.evidence_id is not null
         returning v.i, s.entity_ref, s.evidence_id, s.last_verified_at, s.detail_key
       ), claim as (
         update ${TABLES.claims} c
            set done = true
           from confirmed join v on v.i = confirmed.i
          where c.entity_ref = v.entity_ref and c.lane = v.lane
            and c.cycle_id = v.cycle_id and c.claimed_by = v.claimed_by
       )
       select confirmed.i, confirmed.evidence_id, confirmed.last_verified_at,
              confirmed.detail_key, es.state as entity_state,
              es.transition as entity_transition
         from confirmed
         left join ${TABLES.entityState} es on es.entity_ref = confirmed.entity_ref`,
      [JSON.stringify(values)],
    );
    for (const row of result.rows as ({ i: number } & ConfirmedRow)[]) {
      rows.set(Number(row.i), row);
    }
  }
  const out: (Confirmed | undefined)[] = items.map(() => undefined);
  for (const [i, row] of rows) {
    out[i] = await confirmedStatus(ctx, items[i], row);
  }
  return out;
}
