import {
  VERIFICATION_REPORT_SCHEMA,
  type EvidenceRecord,
} from '@residency-dev/plugin-residency-common';
import { TestDatabases, mockServices } from '@backstage/backend-test-utils';
import type { Knex } from 'knex';
import { resolve as resolvePath } from 'node:path';
import { DatabaseResidencyStore } from './DatabaseResidencyStore';
import {
  DIGEST_A,
  DIGEST_B,
  makeEvaluation,
  makeImage,
} from '../__testUtils__/fixtures';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

async function createStore(databaseId: Parameters<typeof databases.init>[0]) {
  const knex = await databases.init(databaseId);
  const store = await DatabaseResidencyStore.create({
    database: mockServices.database({ knex }),
  });
  return { knex, store };
}

describe.each(databases.eachSupportedId())(
  'DatabaseResidencyStore on %p',
  databaseId => {
    let knex: Knex;
    let store: DatabaseResidencyStore;

    beforeAll(async () => {
      ({ knex, store } = await createStore(databaseId));
    });

    afterEach(async () => {
      await knex('residency_evidence').delete();
      await knex('residency_entity_status').delete();
      await knex('residency_image_results').delete();
      await knex('residency_refresh_claims').delete();
    });

    it('appends evidence once per decision change and confirms otherwise', async () => {
      const ref = 'component:default/payments';
      const first = await store.recordEvaluation({
        entityRef: ref,
        title: 'Payments',
        inputsHash: 'h1',
        ...makeEvaluation({ entityRef: ref }),
      });
      expect(first.outcome).toBe('appended');
      expect(first.status).toMatchObject({
        entityRef: ref,
        decision: 'compliant',
        stale: false,
        title: 'Payments',
      });
      expect(first.status.evidenceId).toMatch(/^[0-9a-f]{32}$/);
      expect(first.status.lastVerifiedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);

      // Same decision, same inputs: no new record, status keeps the evidence id.
      const second = await store.recordEvaluation({
        entityRef: ref,
        inputsHash: 'h1',
        ...makeEvaluation({ entityRef: ref }),
      });
      expect(second.outcome).toBe('confirmed');
      expect(second.status.evidenceId).toBe(first.status.evidenceId);
      // The confirmation does not read the row back: what it returns is what is stored.
      expect(second.status).toEqual(await store.getStatus({ entityRef: ref }));

      const third = await store.recordEvaluation({
        entityRef: ref,
        inputsHash: 'h1',
        ...makeEvaluation({
          entityRef: ref,
          decision: 'non_compliant',
          code: 'key_outside_boundary',
        }),
      });
      expect(third.outcome).toBe('appended');
      expect(third.status.decision).toBe('non_compliant');

      const page = await store.listEvidence({ entityRef: ref, limit: 10 });
      expect(page.totalCount).toBe(2);
      expect(page.items.map(i => i.sequence)).toEqual([2, 1]);
      expect(page.items[0].previousHash).toBe(page.items[1].recordHash);
      expect(page.items[0].reasonCodes).toEqual(['key_outside_boundary']);
      const listed = await store.listStatuses({ limit: 10 });
      expect(listed.items[0].reasonCodes).toEqual(['key_outside_boundary']);

      await expect(store.verifyChain({ entityRef: ref })).resolves.toEqual({
        entityRef: ref,
        ok: true,
        length: 2,
      });
    });

    it('keeps the last good evidence and marks it stale when a check cannot decide', async () => {
      const ref = 'component:default/stale';
      const good = await store.recordEvaluation({
        entityRef: ref,
        inputsHash: 'h',
        ...makeEvaluation({ entityRef: ref }),
      });
      const failed = await store.recordEvaluation({
        entityRef: ref,
        inputsHash: 'h',
        // As the engine reports a registry fault: on the image, not the entity.
        ...makeEvaluation({
          entityRef: ref,
          decision: 'unknown',
          images: [
            makeImage({
              reference: `registry.eu/app@${DIGEST_A}`,
              decision: 'unknown',
              code: 'rate_limited',
            }),
          ],
        }),
      });
      expect(failed.outcome).toBe('stale');
      expect(failed.status).toMatchObject({
        decision: 'compliant',
        stale: true,
        evidenceId: good.status.evidenceId,
        lastAttempt: {
          decision: 'unknown',
          reasons: [
            {
              code: 'rate_limited',
              details: { image: `registry.eu/app@${DIGEST_A}` },
            },
          ],
        },
      });
      const history = await store.listEvidence({ entityRef: ref, limit: 10 });
      expect(history.items).toHaveLength(1);

      // The registry is back: the stale flag clears, the chain did not grow.
      const back = await store.recordEvaluation({
        entityRef: ref,
        inputsHash: 'h',
        ...makeEvaluation({ entityRef: ref }),
      });
      expect(back.outcome).toBe('confirmed');
      expect(back.status.stale).toBe(false);
      expect(back.status.lastAttempt).toBeUndefined();
    });

    it('records an undecided first check as evidence (nothing good to keep)', async () => {
      const ref = 'component:default/new';
      const r = await store.recordEvaluation({
        entityRef: ref,
        inputsHash: 'h',
        ...makeEvaluation({
          entityRef: ref,
          decision: 'unknown',
          code: 'registry_unreachable',
        }),
      });
      expect(r.outcome).toBe('appended');
      expect(r.status).toMatchObject({ decision: 'unknown', stale: false });
    });

    it('serves evidence bundles with the link to the previous record', async () => {
      const ref = 'component:default/linked';
      const a = await store.recordEvaluation({
        entityRef: ref,
        inputsHash: 'h',
        ...makeEvaluation({ entityRef: ref }),
      });
      const b = await store.recordEvaluation({
        entityRef: ref,
        inputsHash: 'h',
        ...makeEvaluation({
          entityRef: ref,
          decision: 'invalid',
          code: 'bad_reference',
        }),
      });
      const stored = await store.getEvidence({ id: b.status.evidenceId! });
      expect(stored?.evidence.sequence).toBe(2);
      expect(stored?.previous).toEqual({
        id: a.status.evidenceId,
        sequence: 1,
        recordHash: stored?.evidence.previousHash,
      });
      expect((stored?.evidence.record as EvidenceRecord).result.decision).toBe(
        'invalid',
      );
      await expect(
        store.getEvidence({ id: 'f'.repeat(32) }),
      ).resolves.toBeUndefined();
    });

    it('reports exactly where an edited, deleted or reordered chain breaks', async () => {
      const ref = 'component:default/tampered';
      for (const decision of [
        'compliant',
        'non_compliant',
        'invalid',
        'compliant',
      ] as const) {
        await store.recordEvaluation({
          entityRef: ref,
          inputsHash: 'h',
          ...makeEvaluation({ entityRef: ref, decision }),
        });
      }
      await expect(
        store.verifyChain({ entityRef: ref }),
      ).resolves.toMatchObject({ ok: true, length: 4 });

      // Edit: the record of sequence 2 says compliant now.
      const row = await knex('residency_evidence')
        .where({ entity_ref: ref, sequence: 2 })
        .first();
      const edited = JSON.parse(row.record);
      edited.result.decision = 'compliant';
      await knex('residency_evidence')
        .where({ id: row.id })
        .update({ record: JSON.stringify(edited) });
      await expect(
        store.verifyChain({ entityRef: ref }),
      ).resolves.toMatchObject({
        ok: false,
        brokenAt: {
          sequence: 2,
          id: row.id,
          problem: expect.stringMatching(/record hash/),
        },
      });
      await knex('residency_evidence')
        .where({ id: row.id })
        .update({ record: row.record });

      // Delete: sequence 3 removed, the break shows at 4.
      await knex('residency_evidence')
        .where({ entity_ref: ref, sequence: 3 })
        .delete();
      await expect(
        store.verifyChain({ entityRef: ref }),
      ).resolves.toMatchObject({
        ok: false,
        brokenAt: {
          sequence: 4,
          problem: expect.stringMatching(/missing or reordered/),
        },
      });
    });

    it('prunes old evidence to a checkpoint that keeps the chain verifiable', async () => {
      const ref = 'component:default/retained';
      for (const decision of [
        'compliant',
        'non_compliant',
        'invalid',
        'compliant',
        'non_compliant',
      ] as const) {
        await store.recordEvaluation({
          entityRef: ref,
          inputsHash: 'h',
          ...makeEvaluation({ entityRef: ref, decision }),
        });
      }
      const current = await store.getStatus({ entityRef: ref });
      await expect(store.applyRetention({ keepPerEntity: 2 })).resolves.toBe(3);
      const history = await store.listEvidence({ entityRef: ref, limit: 10 });
      expect(
        history.items.map(i => [i.sequence, Boolean(i.checkpoint)]),
      ).toEqual([
        [5, false],
        [4, true],
      ]);
      expect(history.items[0].id).toBe(current?.evidenceId);
      await expect(store.verifyChain({ entityRef: ref })).resolves.toEqual({
        entityRef: ref,
        ok: true,
        length: 2,
      });
      // Pruning without the checkpoint mark is detected.
      await knex('residency_evidence')
        .where({ entity_ref: ref, sequence: 4 })
        .update({ checkpoint: false });
      await expect(
        store.verifyChain({ entityRef: ref }),
      ).resolves.toMatchObject({
        ok: false,
        brokenAt: { sequence: 4, problem: expect.stringMatching(/expected 1/) },
      });
      await expect(store.applyRetention({ keepPerEntity: 2 })).resolves.toBe(0);
    });

    it('summarizes reason codes of the entity and of its images', async () => {
      const ref = 'component:default/image-reasons';
      await store.recordEvaluation({
        entityRef: ref,
        inputsHash: 'h',
        ...makeEvaluation({
          entityRef: ref,
          decision: 'non_compliant',
          images: [
            makeImage({ decision: 'non_compliant', code: 'signature_missing' }),
            makeImage({
              digest: DIGEST_B,
              decision: 'invalid',
              code: 'registry_not_allowed',
            }),
          ],
        }),
      });
      const listed = await store.listStatuses({
        limit: 10,
        q: 'image-reasons',
      });
      expect(listed.items[0].reasonCodes).toEqual([
        'signature_missing',
        'registry_not_allowed',
      ]);
      const history = await store.listEvidence({ entityRef: ref, limit: 1 });
      expect(history.items[0].reasonCodes).toEqual([
        'signature_missing',
        'registry_not_allowed',
      ]);
    });

    it('never forks a chain when writers race on one entity', async () => {
      const ref = 'component:default/raced';
      const decisions = [
        'compliant',
        'non_compliant',
        'invalid',
        'compliant',
        'non_compliant',
        'invalid',
      ] as const;
      const results = await Promise.all(
        decisions.map(decision =>
          store.recordEvaluation({
            entityRef: ref,
            inputsHash: 'h',
            ...makeEvaluation({ entityRef: ref, decision }),
          }),
        ),
      );
      expect(results.every(r => r.outcome !== 'stale')).toBe(true);
      const chain = await store.verifyChain({ entityRef: ref });
      expect(chain.ok).toBe(true);
      const rows = await knex('residency_evidence')
        .where({ entity_ref: ref })
        .orderBy('sequence');
      expect(rows.map(r => Number(r.sequence))).toEqual(
        rows.map((_, i) => i + 1),
      );
      const status = await store.getStatus({ entityRef: ref });
      expect(status?.evidenceId).toBe(rows[rows.length - 1].id);
    });

    it('lists statuses filtered by decision, tenant and text, with a cursor', async () => {
      for (let i = 0; i < 5; i++) {
        const ref = `component:default/svc-${i}`;
        await store.recordEvaluation({
          entityRef: ref,
          title: i === 3 ? 'Ledger' : undefined,
          inputsHash: 'h',
          ...makeEvaluation({
            entityRef: ref,
            decision: i % 2 ? 'non_compliant' : 'compliant',
            tenant: i < 4 ? 'eu-public' : 'other',
          }),
        });
      }
      const page1 = await store.listStatuses({ limit: 2 });
      expect(page1.items.map(i => i.entityRef)).toEqual([
        'component:default/svc-0',
        'component:default/svc-1',
      ]);
      expect(page1.totalCount).toBe(5);
      const page2 = await store.listStatuses({
        limit: 2,
        cursor: page1.nextCursor,
      });
      expect(page2.items.map(i => i.entityRef)).toEqual([
        'component:default/svc-2',
        'component:default/svc-3',
      ]);
      const failing = await store.listStatuses({
        limit: 10,
        decision: 'non_compliant',
      });
      expect(failing.items.map(i => i.entityRef)).toEqual([
        'component:default/svc-1',
        'component:default/svc-3',
      ]);
      const other = await store.listStatuses({ limit: 10, tenant: 'other' });
      expect(other.items.map(i => i.entityRef)).toEqual([
        'component:default/svc-4',
      ]);
      const text = await store.listStatuses({ limit: 10, q: 'LEDG' });
      expect(text.items.map(i => i.title)).toEqual(['Ledger']);
      const wildcard = await store.listStatuses({ limit: 10, q: '%' });
      expect(wildcard.items).toHaveLength(0);
      await expect(
        store.listStatuses({ limit: 2, cursor: '../etc' }),
      ).rejects.toMatchObject({
        name: 'InputError',
      });
      const counts = await store.countByTenant();
      expect(counts['eu-public']).toEqual({
        compliant: 2,
        non_compliant: 2,
        unknown: 0,
        invalid: 0,
      });
    });

    it('pages by key with summary columns only, counting once and carrying the count in the cursor', async () => {
      for (let i = 0; i < 5; i++) {
        const ref = `component:default/page-${i}`;
        await store.recordEvaluation({
          entityRef: ref,
          title: i === 2 ? 'Search Me' : undefined,
          inputsHash: 'h',
          ...makeEvaluation({ entityRef: ref }),
        });
      }
      const queries: string[] = [];
      const onQuery = (q: { sql: string }) => queries.push(q.sql);
      knex.on('query', onQuery);
      try {
        const page1 = await store.listStatuses({ limit: 2 });
        expect(page1.totalCount).toBe(5);
        const page1Queries = queries.splice(0);
        // One page query and one count.
        expect(page1Queries).toHaveLength(2);
        expect(page1Queries.some(q => /count\(/i.test(q))).toBe(true);
        for (const sql of page1Queries) {
          expect(sql).not.toMatch(/select \*/i);
          expect(sql).not.toMatch(/detail/);
        }

        // A row appears while paging: the cursor's count is reused, not recounted.
        await store.recordEvaluation({
          entityRef: 'component:default/page-9',
          inputsHash: 'h',
          ...makeEvaluation({ entityRef: 'component:default/page-9' }),
        });
        queries.splice(0);
        const page2 = await store.listStatuses({
          limit: 2,
          cursor: page1.nextCursor,
        });
        expect(queries).toHaveLength(1);
        expect(queries[0]).not.toMatch(/count\(/i);
        expect(page2.totalCount).toBe(5);
        expect(page2.items.map(i => i.entityRef)).toEqual([
          'component:default/page-2',
          'component:default/page-3',
        ]);
        expect(page2.items[0].title).toBe('Search Me');

        // The same cursor under other filters is counted again for them.
        queries.splice(0);
        const filtered = await store.listStatuses({
          limit: 2,
          q: 'page-',
          cursor: page1.nextCursor,
        });
        expect(queries).toHaveLength(2);
        expect(filtered.totalCount).toBe(6);
        // A fresh first page sees the new row (this store's write cleared its counts).
        expect((await store.listStatuses({ limit: 2 })).totalCount).toBe(6);
        // Within the count cache's lifetime, a first page is one query.
        queries.splice(0);
        expect((await store.listStatuses({ limit: 2 })).totalCount).toBe(6);
        expect(queries).toHaveLength(1);
        expect(queries[0]).not.toMatch(/count\(/i);
      } finally {
        knex.removeListener('query', onQuery);
      }
    });

    it('searches with the trigram indexes on PostgreSQL', async () => {
      const pg = databaseId === 'POSTGRES_15';
      const indexes: string[] = pg
        ? (
            await knex.raw(
              `select indexname from pg_indexes where tablename = 'residency_entity_status' and indexname like '%trgm%' order by indexname`,
            )
          ).rows.map((r: any) => r.indexname)
        : (
            await knex.raw(
              `select name from sqlite_master where type = 'index' and name like '%trgm%'`,
            )
          ).map((r: any) => r.name);
      // SQLite has no trigram index: its search stays a like scan.
      expect(indexes).toEqual(
        pg
          ? [
              'residency_entity_status_ref_trgm_idx',
              'residency_entity_status_title_trgm_idx',
            ]
          : [],
      );
      const plan = pg
        ? await knex.transaction(async trx => {
            // With few rows the planner prefers a scan; forbid it to see the index is usable.
            await trx.raw('set local enable_seqscan = off');
            const explained = await trx.raw(
              `explain select entity_ref from residency_entity_status where lower(entity_ref) like ? escape '\\' or lower(coalesce(title, '')) like ? escape '\\'`,
              ['%ledger%', '%ledger%'],
            );
            return explained.rows.map((r: any) => r['QUERY PLAN']).join('\n');
          })
        : '';
      expect(plan).toMatch(pg ? /residency_entity_status_ref_trgm_idx/ : /^$/);
      expect(plan).toMatch(
        pg ? /residency_entity_status_title_trgm_idx/ : /^$/,
      );
    });

    it('reuses a digest material while young, across trust and policy changes (decided again by the engine)', async () => {
      const ref = 'component:default/reuse';
      await store.recordEvaluation({
        entityRef: ref,
        inputsHash: 'h',
        ...makeEvaluation({
          entityRef: ref,
          images: [makeImage({ digest: DIGEST_B })],
        }),
      });
      const hit = await store.findImageResult({
        digest: DIGEST_B,
        maxAgeSeconds: 3600,
      });
      // Material only: nothing of the earlier decision is cached.
      expect(Object.keys(hit ?? {})).toEqual(['material']);
      expect(hit?.material.digest).toBe(DIGEST_B);
      await knex('residency_image_results').update({
        verified_at:
          databaseId === 'SQLITE_3'
            ? '2000-01-01 00:00:00'
            : new Date('2000-01-01T00:00:00Z'),
      });
      await expect(
        store.findImageResult({
          digest: DIGEST_B,
          maxAgeSeconds: 3600,
        }),
      ).resolves.toBeUndefined();
      // Undecided images are never cached.
      await store.recordEvaluation({
        entityRef: 'component:default/down',
        inputsHash: 'h',
        ...makeEvaluation({
          entityRef: 'component:default/down',
          decision: 'unknown',
          images: [makeImage({ digest: DIGEST_A, decision: 'unknown' })],
        }),
      });
      await expect(
        store.findImageResult({
          digest: DIGEST_A,
          maxAgeSeconds: 3600,
        }),
      ).resolves.toBeUndefined();
    });

    it('confirms without rewriting the stored result while only its time and reports differ', async () => {
      const ref = 'component:default/slim';
      // A check of the same decision and material: its own time, report timings.
      const check = (at: string, durationMs: number, verifiedAt: string) => {
        const evaluation = makeEvaluation({ entityRef: ref, checkedAt: at });
        const report = (id: 'tenant_known' | 'tag_resolved') => ({
          schema:
            VERIFICATION_REPORT_SCHEMA as typeof VERIFICATION_REPORT_SCHEMA,
          checks: [{ id, outcome: 'pass' as const, durationMs }],
        });
        evaluation.result.report = report('tenant_known');
        evaluation.result.images = evaluation.result.images.map(i => ({
          ...i,
          verifiedAt,
          report: report('tag_resolved'),
        }));
        return evaluation;
      };
      const detailOf = async () =>
        (
          await knex('residency_entity_status')
            .where({ entity_ref: ref })
            .first()
        ).detail as string;
      const first = await store.recordEvaluation({
        entityRef: ref,
        title: 'Slim',
        inputsHash: 'h',
        ...check('2026-12-01T10:00:00.000Z', 5, '2026-12-01T09:59:59.000Z'),
      });
      expect(first.outcome).toBe('appended');
      const written = await detailOf();

      const queries: { sql: string; bindings?: unknown[] }[] = [];
      const onQuery = (q: { sql: string; bindings?: unknown[] }) =>
        queries.push(q);
      knex.on('query', onQuery);
      let second;
      try {
        second = await store.recordEvaluation({
          entityRef: ref,
          title: 'Slim',
          inputsHash: 'h',
          reusedDigests: new Set([DIGEST_A]),
          ...check('2026-12-01T11:00:00.000Z', 7, '2026-12-01T09:59:59.000Z'),
        });
      } finally {
        knex.removeListener('query', onQuery);
      }
      expect(second.outcome).toBe('confirmed');
      // One statement, and nothing of the stored result sent to the database.
      expect(queries).toHaveLength(1);
      expect(queries[0].sql).not.toMatch(/["`]detail["`]\s*=/);
      expect(
        (queries[0].bindings ?? []).some(
          b => typeof b === 'string' && b.includes('"images"'),
        ),
      ).toBe(false);
      expect(await detailOf()).toBe(written);

      const read = (await store.getStatus({ entityRef: ref }))!;
      // The time is this check's, the reports those of the check that wrote them.
      expect(read.checkedAt).toBe('2026-12-01T11:00:00.000Z');
      expect(read.report?.checks[0].durationMs).toBe(5);
      expect(read.images[0].report?.checks[0].durationMs).toBe(5);
      expect(read.evidenceId).toBe(first.status.evidenceId);
      expect(read.lastVerifiedAt).toEqual(expect.any(String));
      // What the confirmation returns is the stored status apart from the reports.
      const withoutReports = (s: typeof read) => ({
        ...s,
        report: undefined,
        images: s.images.map(i => ({ ...i, report: undefined })),
      });
      expect(withoutReports(second.status)).toEqual(withoutReports(read));
      expect(second.status.report?.checks[0].durationMs).toBe(7);
      // PostgreSQL reads the entity's residency state in the same statement.
      expect(second.entityState).toBe(
        databaseId === 'POSTGRES_15' ? null : undefined,
      );
      await knex('residency_entity_state').insert({
        entity_ref: ref,
        state: 'resident',
        transition: 3,
        detail: 'null',
        changed_at: new Date().toISOString(),
      });
      const withState = await store.recordEvaluation({
        entityRef: ref,
        title: 'Slim',
        inputsHash: 'h',
        reusedDigests: new Set([DIGEST_A]),
        ...check('2026-12-01T11:00:00.000Z', 7, '2026-12-01T09:59:59.000Z'),
      });
      expect(withState.entityState).toEqual(
        databaseId === 'POSTGRES_15'
          ? { state: 'resident', transition: 3 }
          : undefined,
      );
      await knex('residency_entity_state').delete();
      const [summary] = (await store.listStatuses({ limit: 10 })).items;
      expect(summary.checkedAt).toBe('2026-12-01T11:00:00.000Z');

      // New material fetched (its time is in the result): the result is written again.
      const third = await store.recordEvaluation({
        entityRef: ref,
        title: 'Slim',
        inputsHash: 'h',
        ...check('2026-12-01T12:00:00.000Z', 9, '2026-12-01T11:59:59.000Z'),
      });
      expect(third.outcome).toBe('confirmed');
      const again = (await store.getStatus({ entityRef: ref }))!;
      expect(again.checkedAt).toBe('2026-12-01T12:00:00.000Z');
      expect(again.images[0].verifiedAt).toBe('2026-12-01T11:59:59.000Z');
      expect(again.report?.checks[0].durationMs).toBe(9);
      expect(again).toEqual(third.status);
      expect(again.evidenceId).toBe(first.status.evidenceId);
      expect(
        Number(
          (await knex('residency_evidence').count({ n: '*' }))[0].n as string,
        ),
      ).toBe(1);
    });

    it('confirms an unchanged evaluation and completes its claim in one round trip on PostgreSQL', async () => {
      const ref = 'component:default/warm';
      const claim = {
        entityRef: ref,
        lane: 'full' as const,
        cycleId: 'c1',
        claimedBy: 'r1',
      };
      const claimDone = async () =>
        Boolean(
          (
            await knex('residency_refresh_claims')
              .where({ entity_ref: ref })
              .first()
          )?.done,
        );
      await store.claimEntities({
        entityRefs: [ref],
        lane: 'full',
        cycleId: 'c1',
        claimedBy: 'r1',
        leaseSeconds: 60,
      });
      // First evaluation: appended, and the claim is done in its transaction.
      const first = await store.recordEvaluation({
        entityRef: ref,
        title: 'Warm',
        inputsHash: 'h',
        claim,
        ...makeEvaluation({ entityRef: ref }),
      });
      expect(first.outcome).toBe('appended');
      expect(await claimDone()).toBe(true);

      await knex('residency_refresh_claims')
        .where({ entity_ref: ref })
        .update({ done: false, cycle_id: 'c2' });
      const queries: string[] = [];
      const onQuery = (q: { sql: string }) => queries.push(q.sql);
      knex.on('query', onQuery);
      let second;
      try {
        second = await store.recordEvaluation({
          entityRef: ref,
          title: 'Warm',
          inputsHash: 'h',
          claim: { ...claim, cycleId: 'c2' },
          // A warm refresh reuses the digest's stored material: nothing to store.
          reusedDigests: new Set([DIGEST_A]),
          ...makeEvaluation({ entityRef: ref }),
        });
      } finally {
        knex.removeListener('query', onQuery);
      }
      expect(second.outcome).toBe('confirmed');
      expect(second.status).toMatchObject({
        entityRef: ref,
        title: 'Warm',
        decision: 'compliant',
        evidenceId: first.status.evidenceId,
        stale: false,
      });
      expect(second.status.lastVerifiedAt).toEqual(expect.any(String));
      expect(queries).toHaveLength(databaseId === 'POSTGRES_15' ? 1 : 2);
      expect(second.status).toEqual(await store.getStatus({ entityRef: ref }));
      expect(await claimDone()).toBe(true);

      // A claim of another replica is not completed by this one's record.
      await knex('residency_refresh_claims')
        .where({ entity_ref: ref })
        .update({ done: false, cycle_id: 'c3', claimed_by: 'r2' });
      await store.recordEvaluation({
        entityRef: ref,
        inputsHash: 'h',
        claim: { ...claim, cycleId: 'c3' },
        ...makeEvaluation({ entityRef: ref }),
      });
      expect(await claimDone()).toBe(false);

      // A changed decision is not confirmed: it appends, and completes the claim.
      const changed = await store.recordEvaluation({
        entityRef: ref,
        inputsHash: 'h',
        claim: { ...claim, cycleId: 'c3', claimedBy: 'r2' },
        ...makeEvaluation({
          entityRef: ref,
          decision: 'non_compliant',
          code: 'key_outside_boundary',
        }),
      });
      expect(changed.outcome).toBe('appended');
      expect(changed.status.decision).toBe('non_compliant');
      expect(await claimDone()).toBe(true);
    });

    it("confirms a batch row by row: only matching evidence, each confirmed row's claim, never over a concurrent change", async () => {
      const ref = (n: string) => `component:default/batch-${n}`;
      // a, b, c, e have a status; d was never evaluated.
      const firsts = new Map<string, string>();
      for (const n of ['a', 'b', 'c', 'e']) {
        const first = await store.recordEvaluation({
          entityRef: ref(n),
          title: `${n}1`,
          inputsHash: 'h1',
          ...makeEvaluation({
            entityRef: ref(n),
            checkedAt: '2026-01-01T00:00:00.000Z',
          }),
        });
        firsts.set(n, first.status.evidenceId!);
      }
      await store.claimEntities({
        entityRefs: ['a', 'b', 'c', 'd'].map(ref),
        lane: 'full',
        cycleId: 'c2',
        claimedBy: 'r1',
        leaseSeconds: 60,
      });
      // e is held by another replica: its confirmation must not complete that claim.
      await store.claimEntities({
        entityRefs: [ref('e')],
        lane: 'full',
        cycleId: 'c2',
        claimedBy: 'r2',
        leaseSeconds: 60,
      });
      const claim = (n: string) => ({
        entityRef: ref(n),
        lane: 'full' as const,
        cycleId: 'c2',
        claimedBy: 'r1',
      });
      const item = (
        n: string,
        options: { decision?: 'non_compliant'; checkedAt: string },
      ) => ({
        entityRef: ref(n),
        title: `${n}2`,
        inputsHash: `h2-${n}`,
        claim: claim(n),
        reusedDigests: new Set([DIGEST_A]),
        ...makeEvaluation({
          entityRef: ref(n),
          checkedAt: options.checkedAt,
          ...(options.decision
            ? {
                decision: options.decision,
                code: 'key_outside_boundary' as const,
              }
            : {}),
        }),
      });
      const items = [
        item('a', { checkedAt: '2026-02-01T00:00:00.000Z' }),
        item('b', { checkedAt: '2026-02-02T00:00:00.000Z' }),
        item('c', {
          decision: 'non_compliant',
          checkedAt: '2026-02-03T00:00:00.000Z',
        }),
        item('d', { checkedAt: '2026-02-04T00:00:00.000Z' }),
        item('e', { checkedAt: '2026-02-05T00:00:00.000Z' }),
      ];
      // Between b's decision and the batch, a concurrent writer changed b's evidence.
      const concurrent = await store.recordEvaluation({
        entityRef: ref('b'),
        inputsHash: 'h-concurrent',
        ...makeEvaluation({
          entityRef: ref('b'),
          decision: 'non_compliant',
          code: 'key_outside_boundary',
          checkedAt: '2026-01-15T00:00:00.000Z',
        }),
      });
      expect(concurrent.outcome).toBe('appended');
      const evidenceBefore = await knex('residency_evidence').count({
        n: '*',
      });

      const queries: string[] = [];
      const onQuery = (q: { sql: string }) => queries.push(q.sql);
      knex.on('query', onQuery);
      let confirmed;
      try {
        confirmed = await store.confirmEvaluations(items);
      } finally {
        knex.removeListener('query', onQuery);
      }
      // PostgreSQL: the whole page in one statement. SQLite: one transaction,
      // (2) with one update per entity (5) and one per confirmed claim (2).
      expect(queries).toHaveLength(databaseId === 'POSTGRES_15' ? 1 : 9);
      // Only a and e match their status's evidence; b's changed under it, c's
      // decision changed, d has no status.
      expect(confirmed.map(c => Boolean(c))).toEqual([
        true,
        false,
        false,
        false,
        true,
      ]);
      expect(confirmed[0]!.status).toMatchObject({
        entityRef: ref('a'),
        title: 'a2',
        evidenceId: firsts.get('a'),
        checkedAt: '2026-02-01T00:00:00.000Z',
      });
      expect(confirmed[4]!.status).toMatchObject({
        entityRef: ref('e'),
        title: 'e2',
        evidenceId: firsts.get('e'),
      });
      // Each row got its own item's values, no other's.
      const rows = new Map(
        (
          await knex('residency_entity_status').select(
            'entity_ref',
            'title',
            'inputs_hash',
            'checked_at',
            'decision',
            'evidence_id',
          )
        ).map(r => [r.entity_ref, r]),
      );
      expect(rows.get(ref('a'))).toMatchObject({
        title: 'a2',
        inputs_hash: 'h2-a',
        checked_at: '2026-02-01T00:00:00.000Z',
        evidence_id: firsts.get('a'),
      });
      expect(rows.get(ref('e'))).toMatchObject({
        title: 'e2',
        inputs_hash: 'h2-e',
        checked_at: '2026-02-05T00:00:00.000Z',
      });
      // Not confirmed over the concurrent change: b is as its writer left it.
      expect(rows.get(ref('b'))).toMatchObject({
        title: null,
        inputs_hash: 'h-concurrent',
        checked_at: '2026-01-15T00:00:00.000Z',
        decision: 'non_compliant',
        evidence_id: concurrent.status.evidenceId,
      });
      expect(rows.get(ref('c'))).toMatchObject({
        title: 'c1',
        checked_at: '2026-01-01T00:00:00.000Z',
        decision: 'compliant',
      });
      expect(rows.has(ref('d'))).toBe(false);
      expect(await store.getStatus({ entityRef: ref('a') })).toEqual(
        confirmed[0]!.status,
      );
      // A confirmation never touches the evidence chain.
      expect(await knex('residency_evidence').count({ n: '*' })).toEqual(
        evidenceBefore,
      );
      const claims = new Map(
        (await knex('residency_refresh_claims').select()).map(r => [
          r.entity_ref,
          Boolean(r.done),
        ]),
      );
      expect(claims.get(ref('a'))).toBe(true);
      expect(claims.get(ref('b'))).toBe(false);
      expect(claims.get(ref('c'))).toBe(false);
      expect(claims.get(ref('d'))).toBe(false);
      expect(claims.get(ref('e'))).toBe(false);

      // The ones not confirmed go the single path, which decides and completes
      // their claims: b and c append, d is its first record.
      const outcomes = [];
      for (const i of [1, 2, 3]) {
        outcomes.push(
          (await store.recordEvaluation({ ...items[i], confirmTried: true }))
            .outcome,
        );
      }
      expect(outcomes).toEqual(['appended', 'appended', 'appended']);
      expect((await store.getStatus({ entityRef: ref('b') }))!.decision).toBe(
        'compliant',
      );
      const after = await knex('residency_refresh_claims')
        .whereIn('entity_ref', ['b', 'c', 'd'].map(ref))
        .select('done');
      expect(after.map(r => Boolean(r.done))).toEqual([true, true, true]);
    });

    it('confirms a batch naming one entity twice once, the second goes the single path', async () => {
      const ref = 'component:default/twice';
      const first = await store.recordEvaluation({
        entityRef: ref,
        inputsHash: 'h',
        ...makeEvaluation({ entityRef: ref }),
      });
      const item = {
        entityRef: ref,
        inputsHash: 'h',
        ...makeEvaluation({ entityRef: ref }),
      };
      const confirmed = await store.confirmEvaluations([item, item]);
      expect(confirmed[0]?.status.evidenceId).toBe(first.status.evidenceId);
      expect(confirmed[1]).toBeUndefined();
    });

    it('reads the reusable results of a page of entities in one statement', async () => {
      const refs = ['component:default/p1', 'component:default/p2'];
      await store.recordEvaluation({
        entityRef: refs[0],
        inputsHash: 'h',
        ...makeEvaluation({
          entityRef: refs[0],
          images: [makeImage({ digest: DIGEST_B })],
        }),
      });
      const queries: string[] = [];
      const onQuery = (q: { sql: string }) => queries.push(q.sql);
      knex.on('query', onQuery);
      let found;
      try {
        found = await store.findImageResultsOfEntities({
          entityRefs: [...refs, 'component:default/unknown'],
          maxAgeSeconds: 3600,
        });
      } finally {
        knex.removeListener('query', onQuery);
      }
      expect(queries).toHaveLength(1);
      expect([...found.keys()]).toEqual([DIGEST_B]);
      // The same entry findImageResult gives.
      expect(found.get(DIGEST_B)).toEqual(
        await store.findImageResult({ digest: DIGEST_B, maxAgeSeconds: 3600 }),
      );
      // Too old, or no entity with it: nothing.
      await knex('residency_image_results').update({
        verified_at:
          databaseId === 'SQLITE_3'
            ? '2000-01-01 00:00:00'
            : new Date('2000-01-01T00:00:00Z'),
      });
      expect(
        (
          await store.findImageResultsOfEntities({
            entityRefs: refs,
            maxAgeSeconds: 3600,
          })
        ).size,
      ).toBe(0);
      expect(
        (
          await store.findImageResultsOfEntities({
            entityRefs: [refs[1]],
            maxAgeSeconds: 10 ** 10,
          })
        ).size,
      ).toBe(0);
    });

    it('hands each entity to one claimer per cycle and takes over expired leases', async () => {
      const refs = ['component:default/a', 'component:default/b'];
      const one = await store.claimEntities({
        entityRefs: refs,
        lane: 'full',
        cycleId: 'c1',
        claimedBy: 'r1',
        leaseSeconds: 60,
      });
      const two = await store.claimEntities({
        entityRefs: refs,
        lane: 'full',
        cycleId: 'c1',
        claimedBy: 'r2',
        leaseSeconds: 60,
      });
      expect(one).toEqual(refs);
      expect(two).toEqual([]);
      await store.completeClaim({
        entityRef: refs[0],
        lane: 'full',
        cycleId: 'c1',
        claimedBy: 'r1',
      });
      // r1 crashed before finishing b: its lease expires, r2 takes b over, never a.
      await knex('residency_refresh_claims')
        .where({ entity_ref: refs[1] })
        .update({
          lease_expires_at:
            databaseId === 'SQLITE_3'
              ? '2000-01-01 00:00:00'
              : new Date('2000-01-01T00:00:00Z'),
        });
      await expect(
        store.claimEntities({
          entityRefs: refs,
          lane: 'full',
          cycleId: 'c1',
          claimedBy: 'r2',
          leaseSeconds: 60,
        }),
      ).resolves.toEqual([refs[1]]);
      // A new cycle hands everything out again.
      await expect(
        store.claimEntities({
          entityRefs: refs,
          lane: 'full',
          cycleId: 'c2',
          claimedBy: 'r1',
          leaseSeconds: 60,
        }),
      ).resolves.toEqual(refs);
    });
  },
);

describe.each(databases.eachSupportedId())('migrations on %p', databaseId => {
  it('migrates up and down with data in the tables', async () => {
    const knex = await databases.init(databaseId);
    await DatabaseResidencyStore.migrateUp(knex);
    const store = await DatabaseResidencyStore.create({
      database: mockServices.database({ knex, migrations: { skip: true } }),
    });
    await store.recordEvaluation({
      entityRef: 'component:default/m',
      inputsHash: 'h',
      ...makeEvaluation({ entityRef: 'component:default/m' }),
    });
    await store.claimEntities({
      entityRefs: ['component:default/m'],
      lane: 'full',
      cycleId: 'c',
      claimedBy: 'r',
      leaseSeconds: 5,
    });
    await expect(knex('residency_evidence').count({ c: '*' })).resolves.toEqual(
      [{ c: expect.anything() }],
    );
    await DatabaseResidencyStore.migrateDown(knex);
    await expect(knex.schema.hasTable('residency_evidence')).resolves.toBe(
      false,
    );
    await expect(knex.schema.hasTable('residency_entity_status')).resolves.toBe(
      false,
    );
    await DatabaseResidencyStore.migrateUp(knex);
    await expect(
      knex.schema.hasTable('residency_refresh_claims'),
    ).resolves.toBe(true);
    await knex.destroy();
  });

  it('moves exception events into the evidence chain: kind column, old event table dropped, and back', async () => {
    const knex = await databases.init(databaseId);
    const directory = resolvePath(__dirname, '../../migrations');
    // The schema before 20261202140000_exception_evidence.
    for (let i = 0; i < 6; i++) {
      await knex.migrate.up({ directory });
    }
    await knex('residency_evidence').insert({
      id: 'e'.repeat(32),
      entity_ref: 'component:default/m',
      sequence: 1,
      previous_hash: null,
      record_hash: 'a'.repeat(64),
      decision: 'compliant',
      reason_codes: '[]',
      checkpoint: false,
      record: '{}',
    });
    await knex('residency_exception_events').insert({
      entity_ref: 'component:default/m',
      sequence: 1,
      exception_id: 'x',
      kind: 'requested',
      record: '{}',
      record_hash: 'b'.repeat(64),
      previous_hash: null,
    });
    await knex.migrate.up({ directory });
    await expect(
      knex.schema.hasTable('residency_exception_events'),
    ).resolves.toBe(false);
    await expect(
      knex.schema.hasColumn('residency_exceptions', 'public_key_pem'),
    ).resolves.toBe(true);
    await expect(
      knex('residency_evidence').select('id', 'kind'),
    ).resolves.toEqual([{ id: 'e'.repeat(32), kind: 'decision' }]);

    await knex.migrate.down({ directory });
    await expect(
      knex.schema.hasTable('residency_exception_events'),
    ).resolves.toBe(true);
    await expect(
      knex.schema.hasColumn('residency_evidence', 'kind'),
    ).resolves.toBe(false);
    await expect(
      knex.schema.hasColumn('residency_exceptions', 'public_key_pem'),
    ).resolves.toBe(false);
    await expect(knex('residency_evidence').select('id')).resolves.toEqual([
      { id: 'e'.repeat(32) },
    ]);
    await knex.destroy();
  });

  it('drops the cache columns nothing read, keeping the cached material', async () => {
    const knex = await databases.init(databaseId);
    const directory = resolvePath(__dirname, '../../migrations');
    // The schema before 20261202030000_image_material_only.
    for (let i = 0; i < 3; i++) {
      await knex.migrate.up({ directory });
    }
    const material = { reference: 'registry.eu/app', digest: DIGEST_B };
    await knex('residency_image_results').insert({
      digest: DIGEST_B,
      trust_hash: 't'.repeat(64),
      policy_hash: 'p'.repeat(64),
      verified_at: knex.fn.now(),
      result: JSON.stringify(makeImage({ digest: DIGEST_B })),
      material: JSON.stringify(material),
    });
    await knex.migrate.up({ directory });
    for (const column of ['result', 'trust_hash', 'policy_hash']) {
      await expect(
        knex.schema.hasColumn('residency_image_results', column),
      ).resolves.toBe(false);
    }
    const store = await DatabaseResidencyStore.create({
      database: mockServices.database({ knex, migrations: { skip: true } }),
    });
    await expect(
      store.findImageResult({ digest: DIGEST_B, maxAgeSeconds: 3600 }),
    ).resolves.toEqual({ material });

    await knex.migrate.down({ directory });
    await expect(
      knex.schema.hasColumn('residency_image_results', 'result'),
    ).resolves.toBe(true);
    const [{ c: left }] = await knex('residency_image_results').count({
      c: '*',
    });
    expect(Number(left)).toBe(0);
    await knex.destroy();
  });
});
