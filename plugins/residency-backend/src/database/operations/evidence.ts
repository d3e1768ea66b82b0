import type { Knex } from 'knex';
import type {
  ChainRecord,
  ChainVerification,
  Decision,
  EvidenceRecord,
  EvidenceSummary,
  Page,
} from '@residency-dev/plugin-residency-common';
import { ChainVerifier, computeEvidenceId, recordHashOf } from '../chain';
import { TABLES, now, type DbContext } from '../tables';
import type { StoredEvidence, StoreOptions } from '../ResidencyStore';
import {
  decodeCursor,
  isUniqueViolation,
  lockEntity,
  pageOf,
  toIso,
  type EvidenceRow,
} from './rows';

/**
 * Appends a record to the entity's chain inside the caller's transaction and
 * returns its id. A concurrent append of the same sequence fails on the unique
 * (entity_ref, sequence) constraint.
 */
export async function appendEvidence(
  ctx: DbContext,
  trx: Knex.Transaction,
  options: { entityRef: string; record: EvidenceRecord; reasonCodes: string[] },
): Promise<string> {
  const { id } = await appendChainRecord(ctx, trx, {
    entityRef: options.entityRef,
    record: options.record,
    kind: 'decision',
    decision: options.record.result.decision,
    reasonCodes: options.reasonCodes,
  });
  return id;
}

/** Appends any chain record (a decision or an exception event) at the chain head. */
async function appendChainRecord(
  ctx: DbContext,
  trx: Knex.Transaction,
  options: {
    entityRef: string;
    record: ChainRecord;
    kind: string;
    decision: Decision;
    reasonCodes: string[];
  },
): Promise<{ id: string; sequence: number }> {
  const { entityRef, record } = options;
  const head = await trx<EvidenceRow>(TABLES.evidence)
    .where({ entity_ref: entityRef })
    .orderBy('sequence', 'desc')
    .first('sequence', 'record_hash');
  const sequence = head ? Number(head.sequence) + 1 : 1;
  const previousHash = head ? head.record_hash : null;
  const recordHash = recordHashOf(sequence, previousHash, record);
  const id = computeEvidenceId({ entityRef, sequence, recordHash });
  await trx(TABLES.evidence).insert({
    id,
    entity_ref: entityRef,
    sequence,
    previous_hash: previousHash,
    record_hash: recordHash,
    decision: options.decision,
    reason_codes: JSON.stringify(options.reasonCodes),
    checkpoint: false,
    record: JSON.stringify(record),
    kind: options.kind,
    created_at: now(ctx),
  });
  return { id, sequence };
}

/**
 * Appends an exception event to the entity's evidence chain in its own
 * transaction, serialized with the entity's other writers (recordEvaluation)
 * by the same per-entity advisory lock on PostgreSQL. Where no lock exists
 * (SQLite, one writer), a concurrent append of the same sequence fails on the
 * unique (entity_ref, sequence) key and is retried on the new head.
 */
export async function appendExceptionEvent(
  ctx: DbContext,
  options: StoreOptions<'appendExceptionEvent'>,
): Promise<{ id: string; sequence: number }> {
  const entityRef = options.record.entityRef;
  for (let attempt = 0; ; attempt++) {
    try {
      return await ctx.db.transaction(async trx => {
        await lockEntity(ctx, trx, entityRef);
        return appendChainRecord(ctx, trx, {
          entityRef,
          record: options.record,
          kind: options.record.kind,
          decision: options.decision,
          reasonCodes: options.reasonCodes,
        });
      });
    } catch (error) {
      if (attempt >= 4 || !isUniqueViolation(error)) throw error;
    }
  }
}

/** The `actor` of an exception event record, when it names one. */
function actorOf(record: unknown): string | undefined {
  let parsed: unknown = record;
  if (typeof record === 'string') {
    try {
      parsed = JSON.parse(record);
    } catch {
      return undefined;
    }
  }
  const actor = (parsed as { actor?: unknown } | null)?.actor;
  return typeof actor === 'string' && actor ? actor : undefined;
}

/** One page of an entity's chain, newest first. */
export async function listEvidence(
  ctx: DbContext,
  options: StoreOptions<'listEvidence'>,
): Promise<Page<EvidenceSummary>> {
  const { db } = ctx;
  const query = db<EvidenceRow>(TABLES.evidence)
    .where({ entity_ref: options.entityRef })
    .orderBy('sequence', 'desc')
    .limit(options.limit + 1)
    .select(
      'id',
      'entity_ref',
      'sequence',
      'previous_hash',
      'record_hash',
      'decision',
      'reason_codes',
      'checkpoint',
      'kind',
      'created_at',
    );
  if (options.cursor) {
    const { before } = decodeCursor(
      options.cursor,
      (v): v is { before: number } => Number.isSafeInteger(v?.before),
    );
    query.where('sequence', '<', before);
  }
  const [rows, countRow] = await Promise.all([
    query,
    db(TABLES.evidence)
      .where({ entity_ref: options.entityRef })
      .count({ count: '*' })
      .first(),
  ]);
  // Event rows name who acted: read from their records (events only, one query).
  const eventIds = rows
    .filter(r => r.kind && r.kind !== 'decision')
    .map(r => r.id);
  const actors = new Map<string, string>();
  if (eventIds.length) {
    const records = await db<EvidenceRow>(TABLES.evidence)
      .whereIn('id', eventIds)
      .select('id', 'record');
    for (const r of records) {
      const actor = actorOf(r.record);
      if (actor) actors.set(r.id, actor);
    }
  }
  const toItem = (r: (typeof rows)[number]): EvidenceSummary => ({
    id: r.id,
    entityRef: r.entity_ref,
    sequence: Number(r.sequence),
    decision: r.decision as Decision,
    reasonCodes: JSON.parse(r.reason_codes),
    recordHash: r.record_hash,
    previousHash: r.previous_hash ?? null,
    createdAt: toIso(r.created_at)!,
    ...(r.checkpoint ? { checkpoint: true } : {}),
    ...(r.kind && r.kind !== 'decision' ? { kind: r.kind } : {}),
    ...(actors.has(r.id) ? { actor: actors.get(r.id) } : {}),
  });
  return pageOf({
    rows,
    limit: options.limit,
    countRow,
    toItem,
    cursorOf: last => ({ before: last.sequence }),
  });
}

/** One record with its chain links, and the id of the record before it. */
export async function getEvidence(
  ctx: DbContext,
  options: StoreOptions<'getEvidence'>,
): Promise<StoredEvidence | undefined> {
  const { db } = ctx;
  const row = await db<EvidenceRow>(TABLES.evidence)
    .where({ id: options.id })
    .first();
  if (!row) {
    return undefined;
  }
  const previous = await db<EvidenceRow>(TABLES.evidence)
    .where({ entity_ref: row.entity_ref, sequence: Number(row.sequence) - 1 })
    .first('id', 'sequence', 'record_hash');
  return {
    evidence: {
      id: row.id,
      sequence: Number(row.sequence),
      previousHash: row.previous_hash ?? null,
      recordHash: row.record_hash,
      record: JSON.parse(row.record),
    },
    checkpoint: Boolean(row.checkpoint),
    createdAt: toIso(row.created_at)!,
    ...(previous
      ? {
          previous: {
            id: previous.id,
            sequence: Number(previous.sequence),
            recordHash: previous.record_hash,
          },
        }
      : {}),
  };
}

/** Walks an entity's chain in batches through the engine's ChainVerifier. */
export async function verifyChain(
  ctx: DbContext,
  options: StoreOptions<'verifyChain'>,
): Promise<ChainVerification> {
  const verifier = new ChainVerifier(options.entityRef);
  const batch = 200;
  let after = 0;
  for (;;) {
    const rows = await ctx
      .db<EvidenceRow>(TABLES.evidence)
      .where({ entity_ref: options.entityRef })
      .where('sequence', '>', after)
      .orderBy('sequence', 'asc')
      .limit(batch);
    for (const row of rows) {
      let record: ChainRecord;
      try {
        record = JSON.parse(row.record);
      } catch {
        record = undefined as unknown as ChainRecord;
      }
      verifier.add({
        id: row.id,
        sequence: Number(row.sequence),
        previousHash: row.previous_hash ?? null,
        recordHash: row.record_hash,
        record,
        checkpoint: Boolean(row.checkpoint),
      });
    }
    if (rows.length < batch) {
      break;
    }
    after = Number(rows[rows.length - 1].sequence);
  }
  return verifier.result();
}

/**
 * The decision log: entity, decision and time of every stored decision record
 * (exception events are not decisions) (retention
 * bounds it per entity). Times are returned as stored; SQLite keeps them as
 * text without a zone, so callers compare them in JS.
 */
export async function listDecisionLog(
  ctx: DbContext,
): Promise<DecisionLogEntry[]> {
  return ctx
    .db<EvidenceRow>(TABLES.evidence)
    .where({ kind: 'decision' })
    .select('entity_ref', 'decision', 'created_at');
}

/** One row of {@link listDecisionLog}. */
export type DecisionLogEntry = Pick<
  EvidenceRow,
  'entity_ref' | 'decision' | 'created_at'
>;

/**
 * Keeps the newest `keepPerEntity` records of each chain; the oldest kept one
 * becomes a checkpoint. Returns the number of records removed.
 */
export async function applyRetention(
  ctx: DbContext,
  options: StoreOptions<'applyRetention'>,
): Promise<number> {
  const { db } = ctx;
  const keep = Math.max(1, Math.floor(options.keepPerEntity));
  const chains = await db(TABLES.evidence)
    .select('entity_ref')
    .max({ head: 'sequence' })
    .min({ first: 'sequence' })
    .groupBy('entity_ref')
    .havingRaw('max(sequence) - min(sequence) >= ?', [keep]);
  let removed = 0;
  for (const chain of chains as { entity_ref: string; head: number }[]) {
    const cutoff = Number(chain.head) - keep + 1;
    removed += await db.transaction(async trx => {
      const count = await trx(TABLES.evidence)
        .where({ entity_ref: chain.entity_ref })
        .where('sequence', '<', cutoff)
        .delete();
      await trx(TABLES.evidence)
        .where({ entity_ref: chain.entity_ref, sequence: cutoff })
        .update({ checkpoint: true });
      return count;
    });
  }
  return removed;
}
