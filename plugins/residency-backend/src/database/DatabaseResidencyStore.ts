import {
  DatabaseService,
  LoggerService,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import type { Knex } from 'knex';
import {
  DECISIONS,
  type ChainVerification,
  type Decision,
  type EntityResult,
  type EntityStatus,
  type EntityStatusSummary,
  type EvidenceRecord,
  type EvidenceSummary,
  type ImageMaterial,
  type ImageResult,
  type Page,
  type Reason,
} from '@residency-dev/plugin-residency-common';
import {
  ChainVerifier,
  canonicalJson,
  computeEvidenceId,
  recordHashOf,
  sha256Hex,
} from './chain';
import { isSqlite, type DbContext } from './tables';
import {
  admitRefresh,
  finishRefresh,
  type RefreshAdmission,
} from './operations/refreshRequests';
import { registerConfigGeneration } from './operations/configGenerations';
import type {
  RecordOutcome,
  ResidencyStore,
  StoredEvidence,
} from './ResidencyStore';

const migrationsDir = resolvePackagePath(
  '@residency-dev/plugin-residency-backend',
  'migrations',
);

const T_STATUS = 'residency_entity_status';
const T_IMAGES = 'residency_image_results';
const T_EVIDENCE = 'residency_evidence';
const T_CLAIMS = 'residency_refresh_claims';

type StatusRow = {
  entity_ref: string;
  title: string | null;
  tenant: string | null;
  declared_region: string | null;
  decision: string;
  stale: boolean | number;
  reason_codes: string;
  images: string;
  inputs_hash: string;
  evidence_key: string | null;
  evidence_id: string | null;
  detail: string;
  last_attempt: string | null;
  checked_at: string;
  last_verified_at: Date | string | null;
  updated_at: Date | string;
};

type EvidenceRow = {
  id: string;
  entity_ref: string;
  sequence: number;
  previous_hash: string | null;
  record_hash: string;
  decision: string;
  reason_codes: string;
  checkpoint: boolean | number;
  record: string;
  created_at: Date | string;
};

/** Converts a database timestamp (Date on PostgreSQL, text on SQLite) to ISO 8601. */
function toIso(
  value: Date | string | number | null | undefined,
): string | undefined {
  if (value === null || value === undefined) {
    return undefined;
  }
  if (value instanceof Date) {
    return value.toISOString();
  }
  if (typeof value === 'number') {
    return new Date(value).toISOString();
  }
  // SQLite's CURRENT_TIMESTAMP / datetime(): 'YYYY-MM-DD HH:MM:SS' in UTC.
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)$/.exec(value);
  if (m) {
    return new Date(`${m[1]}T${m[2]}Z`).toISOString();
  }
  return new Date(value).toISOString();
}

function encodeCursor(value: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function decodeCursor<T>(cursor: string, check: (v: any) => v is T): T {
  try {
    if (cursor.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
      throw new Error('bad cursor');
    }
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (check(value)) {
      return value;
    }
  } catch {
    // fall through
  }
  throw new InputError('Malformed cursor');
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, c => `\\${c}`);
}

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

/** The knex implementation of {@link ResidencyStore}; SQLite and PostgreSQL. */
export class DatabaseResidencyStore implements ResidencyStore {
  static async create(options: {
    database: DatabaseService;
    logger?: LoggerService;
    skipMigrations?: boolean;
  }): Promise<DatabaseResidencyStore> {
    const client = await options.database.getClient();
    if (!options.skipMigrations && !options.database.migrations?.skip) {
      await client.migrate.latest({ directory: migrationsDir });
    }
    return new DatabaseResidencyStore(client);
  }

  /** Runs the migrations against a client; exported for migration tests. */
  static async migrateUp(knex: Knex): Promise<void> {
    await knex.migrate.latest({ directory: migrationsDir });
  }

  static async migrateDown(knex: Knex): Promise<void> {
    await knex.migrate.rollback({ directory: migrationsDir }, true);
  }

  readonly #db: Knex;
  readonly #sqlite: boolean;
  readonly #ctx: DbContext;

  private constructor(db: Knex) {
    this.#db = db;
    this.#sqlite = isSqlite(db);
    this.#ctx = { db, sqlite: this.#sqlite };
  }

  /** Database time plus (or minus) a number of seconds. */
  #nowPlus(seconds: number): Knex.Raw {
    const s = Math.trunc(seconds);
    if (this.#sqlite) {
      return this.#db.raw(`datetime('now', ?)`, [
        `${s >= 0 ? '+' : ''}${s} seconds`,
      ]);
    }
    return this.#db.raw(`now() + (? * interval '1 second')`, [s]);
  }

  #now(): Knex.Raw {
    return this.#sqlite
      ? this.#db.raw(`datetime('now')`)
      : this.#db.raw('now()');
  }

  #toStatus(row: StatusRow): EntityStatus {
    const detail = JSON.parse(row.detail) as EntityResult;
    const lastAttempt = row.last_attempt
      ? JSON.parse(row.last_attempt)
      : undefined;
    return {
      ...detail,
      stale: Boolean(row.stale),
      ...(row.last_verified_at
        ? { lastVerifiedAt: toIso(row.last_verified_at) }
        : {}),
      ...(row.evidence_id ? { evidenceId: row.evidence_id } : {}),
      ...(row.title ? { title: row.title } : {}),
      ...(lastAttempt ? { lastAttempt } : {}),
    };
  }

  #toSummary(row: StatusRow): EntityStatusSummary {
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

  async getStatus(options: { entityRef: string }) {
    const row = await this.#db<StatusRow>(T_STATUS)
      .where({ entity_ref: options.entityRef })
      .first();
    return row ? this.#toStatus(row) : undefined;
  }

  async listStatuses(options: {
    decision?: Decision;
    tenant?: string;
    q?: string;
    cursor?: string;
    limit: number;
  }): Promise<Page<EntityStatusSummary>> {
    const filtered = () => {
      const query = this.#db<StatusRow>(T_STATUS);
      if (options.decision) {
        query.where('decision', options.decision);
      }
      if (options.tenant) {
        query.where('tenant', options.tenant);
      }
      if (options.q) {
        const like = `%${escapeLike(options.q.toLocaleLowerCase('en-US'))}%`;
        query.where(inner =>
          inner
            .whereRaw(`lower(entity_ref) like ? escape '\\'`, [like])
            .orWhereRaw(`lower(coalesce(title, '')) like ? escape '\\'`, [
              like,
            ]),
        );
      }
      return query;
    };
    const query = filtered()
      .orderBy('entity_ref', 'asc')
      .limit(options.limit + 1);
    if (options.cursor) {
      const { after } = decodeCursor(
        options.cursor,
        (v): v is { after: string } => typeof v?.after === 'string',
      );
      query.where('entity_ref', '>', after);
    }
    const [rows, countRow] = await Promise.all([
      query,
      filtered().count({ count: '*' }).first(),
    ]);
    const items = rows.slice(0, options.limit).map(r => this.#toSummary(r));
    const more = rows.length > options.limit;
    return {
      items,
      ...(more
        ? {
            nextCursor: encodeCursor({
              after: items[items.length - 1].entityRef,
            }),
          }
        : {}),
      totalCount: Number((countRow as any)?.count ?? 0),
    };
  }

  async recordEvaluation(options: {
    entityRef: string;
    title?: string;
    inputsHash: string;
    result: EntityResult;
    record: EvidenceRecord;
    reusedDigests?: ReadonlySet<string>;
  }): Promise<{ status: EntityStatus; outcome: RecordOutcome }> {
    // The per-digest cache is written on its own, outside the evidence
    // transaction: it is shared across entities, and holding its rows while
    // waiting for an entity would let writers deadlock.
    await this.#storeImageResults(this.#db, options);
    // A concurrent append for the same entity loses on the unique (entity_ref,
    // sequence) constraint; the retry then sees the winner and only confirms.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#recordOnce(options);
      } catch (error) {
        if (attempt >= 2 || !isUniqueViolation(error)) {
          throw error;
        }
      }
    }
  }

  async #recordOnce(options: {
    entityRef: string;
    title?: string;
    inputsHash: string;
    result: EntityResult;
    record: EvidenceRecord;
    reusedDigests?: ReadonlySet<string>;
  }): Promise<{ status: EntityStatus; outcome: RecordOutcome }> {
    const { entityRef, result, record } = options;
    return this.#db
      .transaction(async trx => {
        // One writer per entity at a time: an advisory lock keyed by the entity
        // serializes writers even before the status row exists, and is the only
        // lock taken first, so writers cannot deadlock.
        if (!this.#sqlite) {
          await trx.raw(
            'select pg_advisory_xact_lock(hashtextextended(?, 0))',
            [`residency:${entityRef}`],
          );
        }
        const existingQuery = trx<StatusRow>(T_STATUS).where({
          entity_ref: entityRef,
        });
        if (!this.#sqlite) {
          existingQuery.forUpdate();
        }
        const existing = await existingQuery.first();
        const base = {
          title: options.title ?? null,
          inputs_hash: options.inputsHash,
          updated_at: this.#now(),
        };

        // Could not decide: keep the last good evidence, mark it stale.
        if (
          result.decision === 'unknown' &&
          existing &&
          existing.decision !== 'unknown' &&
          existing.evidence_id
        ) {
          await trx(T_STATUS)
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
          return { outcome: 'stale' as const, entityRef };
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
          last_verified_at: this.#now(),
        };

        if (
          existing &&
          existing.evidence_key === evidenceKey &&
          existing.evidence_id
        ) {
          await trx(T_STATUS)
            .where({ entity_ref: entityRef })
            .update(summaryColumns);
          return { outcome: 'confirmed' as const, entityRef };
        }

        const head = await trx<EvidenceRow>(T_EVIDENCE)
          .where({ entity_ref: entityRef })
          .orderBy('sequence', 'desc')
          .first('sequence', 'record_hash');
        const sequence = head ? Number(head.sequence) + 1 : 1;
        const previousHash = head ? head.record_hash : null;
        const recordHash = recordHashOf(sequence, previousHash, record);
        const id = computeEvidenceId({ entityRef, sequence, recordHash });
        await trx(T_EVIDENCE).insert({
          id,
          entity_ref: entityRef,
          sequence,
          previous_hash: previousHash,
          record_hash: recordHash,
          decision: record.result.decision,
          reason_codes: JSON.stringify(reasonCodesOf(record.result)),
          checkpoint: false,
          record: JSON.stringify(record),
          created_at: this.#now(),
        });
        await trx(T_STATUS)
          .insert({
            entity_ref: entityRef,
            ...summaryColumns,
            evidence_key: evidenceKey,
            evidence_id: id,
          })
          .onConflict('entity_ref')
          .merge();
        return { outcome: 'appended' as const, entityRef };
      })
      .then(async ({ outcome }) => ({
        outcome,
        status: (await this.getStatus({ entityRef }))!,
      }));
  }

  async #storeImageResults(
    db: Knex,
    options: {
      result: EntityResult;
      record: EvidenceRecord;
      reusedDigests?: ReadonlySet<string>;
    },
  ) {
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
      await db(T_IMAGES)
        .insert({
          digest: image.digest,
          trust_hash: result.trustHash,
          policy_hash: result.policyHash,
          verified_at: this.#now(),
          result: JSON.stringify(image),
          material: JSON.stringify(material),
        })
        .onConflict(['digest'])
        .merge();
    }
  }

  async findImageResult(options: { digest: string; maxAgeSeconds: number }) {
    if (options.maxAgeSeconds <= 0) {
      return undefined;
    }
    // One row per digest, whatever trust or policy it was decided under: what is
    // reused is the registry material, and the engine decides it again under the
    // current keys and policy. A key rotation or a tenant change therefore
    // re-decides entities without fetching their signatures again.
    const row = await this.#db(T_IMAGES)
      .where({ digest: options.digest })
      .where('verified_at', '>', this.#nowPlus(-options.maxAgeSeconds))
      .first();
    if (!row) {
      return undefined;
    }
    const image = JSON.parse(row.result) as ImageResult;
    return {
      image: { ...image, verifiedAt: toIso(row.verified_at) },
      material: JSON.parse(row.material) as ImageMaterial,
    };
  }

  async listEvidence(options: {
    entityRef: string;
    cursor?: string;
    limit: number;
  }): Promise<Page<EvidenceSummary>> {
    const query = this.#db<EvidenceRow>(T_EVIDENCE)
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
      this.#db(T_EVIDENCE)
        .where({ entity_ref: options.entityRef })
        .count({ count: '*' })
        .first(),
    ]);
    const items: EvidenceSummary[] = rows.slice(0, options.limit).map(r => ({
      id: r.id,
      entityRef: r.entity_ref,
      sequence: Number(r.sequence),
      decision: r.decision as Decision,
      reasonCodes: JSON.parse(r.reason_codes),
      recordHash: r.record_hash,
      previousHash: r.previous_hash ?? null,
      createdAt: toIso(r.created_at)!,
      ...(r.checkpoint ? { checkpoint: true } : {}),
    }));
    return {
      items,
      ...(rows.length > options.limit
        ? {
            nextCursor: encodeCursor({
              before: items[items.length - 1].sequence,
            }),
          }
        : {}),
      totalCount: Number((countRow as any)?.count ?? 0),
    };
  }

  async getEvidence(options: {
    id: string;
  }): Promise<StoredEvidence | undefined> {
    const row = await this.#db<EvidenceRow>(T_EVIDENCE)
      .where({ id: options.id })
      .first();
    if (!row) {
      return undefined;
    }
    const previous = await this.#db<EvidenceRow>(T_EVIDENCE)
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

  async verifyChain(options: {
    entityRef: string;
  }): Promise<ChainVerification> {
    const verifier = new ChainVerifier(options.entityRef);
    const batch = 200;
    let after = 0;
    for (;;) {
      const rows = await this.#db<EvidenceRow>(T_EVIDENCE)
        .where({ entity_ref: options.entityRef })
        .where('sequence', '>', after)
        .orderBy('sequence', 'asc')
        .limit(batch);
      for (const row of rows) {
        let record: EvidenceRecord;
        try {
          record = JSON.parse(row.record);
        } catch {
          record = undefined as unknown as EvidenceRecord;
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

  async countByTenant(): Promise<Record<string, Record<Decision, number>>> {
    const rows = await this.#db(T_STATUS)
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

  async scanStatuses(options: {
    tenant?: string;
    after?: string;
    limit: number;
  }) {
    const query = this.#db<StatusRow>(T_STATUS)
      .orderBy('entity_ref', 'asc')
      .limit(options.limit);
    if (options.tenant) {
      query.where('tenant', options.tenant);
    }
    if (options.after) {
      query.where('entity_ref', '>', options.after);
    }
    return (await query).map(r => this.#toStatus(r));
  }

  async getInputsHashes(options: { entityRefs: string[] }) {
    const out = new Map<string, string>();
    for (let i = 0; i < options.entityRefs.length; i += 500) {
      const rows = await this.#db<StatusRow>(T_STATUS)
        .whereIn('entity_ref', options.entityRefs.slice(i, i + 500))
        .select('entity_ref', 'inputs_hash');
      for (const row of rows) {
        out.set(row.entity_ref, row.inputs_hash);
      }
    }
    return out;
  }

  async claimEntities(options: {
    entityRefs: string[];
    lane: 'full' | 'delta';
    cycleId: string;
    claimedBy: string;
    leaseSeconds: number;
  }): Promise<string[]> {
    const { lane, cycleId, claimedBy } = options;
    const claimed: string[] = [];
    for (let i = 0; i < options.entityRefs.length; i += 500) {
      const refs = options.entityRefs.slice(i, i + 500);
      const fresh = () => ({
        cycle_id: cycleId,
        claimed_by: claimedBy,
        lease_expires_at: this.#nowPlus(options.leaseSeconds),
        done: false,
      });
      // Entities never claimed before: the insert is the claim; a concurrent
      // insert of the same key is ignored and loses.
      await this.#db(T_CLAIMS)
        .insert(refs.map(entity_ref => ({ entity_ref, lane, ...fresh() })))
        .onConflict(['entity_ref', 'lane'])
        .ignore();
      // Compare-and-set over existing claims: a claim of another cycle, or an
      // unfinished one whose lease expired (its replica crashed or stalled).
      // PostgreSQL re-checks the condition on each row after taking its lock.
      await this.#db(T_CLAIMS)
        .where({ lane })
        .whereIn('entity_ref', refs)
        .where(q =>
          q
            .whereNot('cycle_id', cycleId)
            .orWhere(inner =>
              inner
                .where('done', false)
                .where('lease_expires_at', '<', this.#now()),
            ),
        )
        .update(fresh());
      const rows = await this.#db(T_CLAIMS)
        .where({ lane, cycle_id: cycleId, claimed_by: claimedBy, done: false })
        .whereIn('entity_ref', refs)
        .select('entity_ref');
      const held = new Set(rows.map(r => r.entity_ref as string));
      claimed.push(...refs.filter(r => held.has(r)));
    }
    return claimed;
  }

  async completeClaim(options: {
    entityRef: string;
    lane: 'full' | 'delta';
    cycleId: string;
    claimedBy: string;
  }): Promise<void> {
    await this.#db(T_CLAIMS)
      .where({
        entity_ref: options.entityRef,
        lane: options.lane,
        cycle_id: options.cycleId,
        claimed_by: options.claimedBy,
      })
      .update({ done: true });
  }

  async markStale(options: {
    entityRef: string;
    attempt: { decision: Decision; reasons: Reason[]; checkedAt: string };
  }): Promise<boolean> {
    const updated = await this.#db(T_STATUS)
      .where({ entity_ref: options.entityRef })
      .whereNotNull('evidence_id')
      .whereNot('decision', 'unknown')
      .update({
        stale: true,
        last_attempt: JSON.stringify(options.attempt),
        updated_at: this.#now(),
      });
    return Number(updated) > 0;
  }

  async releaseClaim(options: {
    entityRef: string;
    lane: 'full' | 'delta';
    cycleId: string;
    claimedBy: string;
  }): Promise<void> {
    await this.#db(T_CLAIMS)
      .where({
        entity_ref: options.entityRef,
        lane: options.lane,
        cycle_id: options.cycleId,
        claimed_by: options.claimedBy,
        done: false,
      })
      .delete();
  }

  async applyRetention(options: { keepPerEntity: number }): Promise<number> {
    const keep = Math.max(1, Math.floor(options.keepPerEntity));
    const chains = await this.#db(T_EVIDENCE)
      .select('entity_ref')
      .max({ head: 'sequence' })
      .min({ first: 'sequence' })
      .groupBy('entity_ref')
      .havingRaw('max(sequence) - min(sequence) >= ?', [keep]);
    let removed = 0;
    for (const chain of chains as { entity_ref: string; head: number }[]) {
      const cutoff = Number(chain.head) - keep + 1;
      removed += await this.#db.transaction(async trx => {
        const count = await trx(T_EVIDENCE)
          .where({ entity_ref: chain.entity_ref })
          .where('sequence', '<', cutoff)
          .delete();
        await trx(T_EVIDENCE)
          .where({ entity_ref: chain.entity_ref, sequence: cutoff })
          .update({ checkpoint: true });
        return count;
      });
    }
    return removed;
  }

  async admitRefresh(options: {
    entityRef: string;
    principal: string;
    holder: string;
    leaseSeconds: number;
    limit: number;
    windowSeconds: number;
  }): Promise<RefreshAdmission> {
    return admitRefresh(this.#ctx, options);
  }

  async finishRefresh(options: {
    entityRef: string;
    holder: string;
  }): Promise<void> {
    await finishRefresh(this.#ctx, options);
  }

  async registerConfigGeneration(options: {
    configHash: string;
    liveSeconds: number;
  }): Promise<{ newest: boolean; newestHash: string }> {
    return registerConfigGeneration(this.#ctx, options);
  }

  async deleteStatuses(options: { entityRefs: string[] }): Promise<void> {
    for (let i = 0; i < options.entityRefs.length; i += 500) {
      const refs = options.entityRefs.slice(i, i + 500);
      await this.#db.transaction(async trx => {
        await trx(T_STATUS).whereIn('entity_ref', refs).delete();
        await trx(T_CLAIMS).whereIn('entity_ref', refs).delete();
      });
    }
  }
}

function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return (
    e?.code === '23505' ||
    e?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    /UNIQUE constraint failed/.test(String(e?.message))
  );
}
