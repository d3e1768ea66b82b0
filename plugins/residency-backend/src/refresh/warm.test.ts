/*
 * A warm refresh (nothing changed) through the real refresher and store: every
 * digest is reused from one read per page, each entity only confirms its status,
 * all of a page's confirmations in one statement on PostgreSQL (one transaction on
 * SQLite), and nothing is recorded on the single-entity path.
 */
import { TestDatabases, mockServices } from '@backstage/backend-test-utils';
import { DatabaseResidencyStore } from '../database/DatabaseResidencyStore';
import { FakeEngine, DIGEST_A } from '../__testUtils__/fixtures';
import { makeEntity, visibilityCatalog } from '../__testUtils__/harness';
import { EntityEvaluator } from './EntityEvaluator';
import { ResidencyRefresher } from './ResidencyRefresher';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

describe.each(databases.eachSupportedId())('warm refresh on %p', databaseId => {
  it('reuses every digest from one read per page and only confirms', async () => {
    const knex = await databases.init(databaseId);
    const store = await DatabaseResidencyStore.create({
      database: mockServices.database({ knex }),
    });
    const engine = new FakeEngine();
    const entities = Array.from({ length: 10 }, (_, i) =>
      makeEntity(`svc-${i}`, {
        images: `registry.eu/svc-${i}@${DIGEST_A}`,
        tenant: 'eu-public',
      }),
    );
    const refresher = ResidencyRefresher.create({
      catalog: visibilityCatalog(entities),
      auth: mockServices.auth(),
      store,
      evaluator: new EntityEvaluator({
        engine,
        store,
        revalidateAfterSeconds: 3600,
      }),
      logger: mockServices.logger.mock(),
      schedule: { frequency: { minutes: 10 }, timeout: { minutes: 5 } },
      batchSize: 5,
      leaseSeconds: 60,
      entityConcurrency: 2,
    });
    const cold = await refresher.runOnce(undefined, { cycleId: 'c1' });
    expect(cold.evaluated).toBe(10);

    const lookups = jest.spyOn(store, 'findImageResult');
    const pages = jest.spyOn(store, 'findImageResultsOfEntities');
    const queries: string[] = [];
    const onQuery = (q: { sql: string }) => queries.push(q.sql);
    knex.on('query', onQuery);
    const single = jest.spyOn(store, 'recordEvaluation');
    const batches: number[] = [];
    const confirm = store.confirmEvaluations.bind(store);
    jest.spyOn(store, 'confirmEvaluations').mockImplementation(async items => {
      const r = await confirm(items);
      batches.push(r.filter(Boolean).length);
      return r;
    });
    let warm;
    try {
      warm = await refresher.runOnce(undefined, { cycleId: 'c2' });
    } finally {
      knex.removeListener('query', onQuery);
    }
    expect(warm.evaluated).toBe(10);
    // Two pages of five, each confirmed whole in one batch.
    expect(batches).toEqual([5, 5]);
    expect(single).not.toHaveBeenCalled();
    // Two pages of five: one read of reusable results each, no lookup per image.
    expect(pages).toHaveBeenCalledTimes(2);
    expect(lookups).not.toHaveBeenCalled();
    expect(engine.reused.slice(-10)).toEqual(Array(10).fill(DIGEST_A));
    const confirmations = queries.filter(q =>
      /update\s+.?residency_entity_status/i.test(q),
    );
    const postgres = databaseId === 'POSTGRES_15';
    // PostgreSQL: one statement per page, the confirmations with their claims.
    // SQLite: one update per entity and one per claim, one transaction per page.
    expect(confirmations).toHaveLength(postgres ? 2 : 10);
    // Plus, per page: the claims (3) and the reusable results (1), on SQLite the
    // transaction (2); per pass: a few.
    expect(queries.length).toBeLessThanOrEqual(
      postgres ? 2 + 2 * 4 + 12 : 10 * 2 + 2 * (4 + 2) + 12,
    );
  });

  it('runs the after-check hook per entity with its own status, and records each alone when a batch fails', async () => {
    const knex = await databases.init(databaseId);
    const store = await DatabaseResidencyStore.create({
      database: mockServices.database({ knex }),
    });
    const engine = new FakeEngine();
    const entities = Array.from({ length: 6 }, (_, i) =>
      makeEntity(`hook-${i}`, {
        images: `registry.eu/hook-${i}@${DIGEST_A}`,
        tenant: 'eu-public',
      }),
    );
    const hooked: { ref: string; outcome: string; entityState: unknown }[] = [];
    const refresher = ResidencyRefresher.create({
      catalog: visibilityCatalog(entities),
      auth: mockServices.auth(),
      store,
      evaluator: new EntityEvaluator({
        engine,
        store,
        revalidateAfterSeconds: 3600,
        onRecorded: async (status, outcome, check) => {
          hooked.push({
            ref: status.entityRef,
            outcome,
            entityState: check.entityState,
          });
        },
      }),
      logger: mockServices.logger.mock(),
      schedule: { frequency: { minutes: 10 }, timeout: { minutes: 5 } },
      batchSize: 3,
      leaseSeconds: 60,
      entityConcurrency: 2,
    });
    const refs = entities.map(e => `component:default/${e.metadata.name}`);
    const byRef = () =>
      Object.fromEntries(hooked.splice(0).map(h => [h.ref, h]));

    // Cold: nothing to confirm, every entity appended on its own path.
    expect(
      (await refresher.runOnce(undefined, { cycleId: 'c1' })).evaluated,
    ).toBe(6);
    const cold = byRef();
    expect(Object.keys(cold).sort()).toEqual([...refs].sort());
    expect(Object.values(cold).map(h => h.outcome)).toEqual(
      Array(6).fill('appended'),
    );

    // Warm: each entity's hook sees its own confirmed status (and, on
    // PostgreSQL, the state read by the batch: none recorded here).
    expect(
      (await refresher.runOnce(undefined, { cycleId: 'c2' })).evaluated,
    ).toBe(6);
    const warm = byRef();
    expect(Object.keys(warm).sort()).toEqual([...refs].sort());
    for (const h of Object.values(warm)) {
      expect(h.outcome).toBe('confirmed');
      expect(h.entityState).toBe(
        databaseId === 'POSTGRES_15' ? null : undefined,
      );
    }
    const claimsDone = async (cycle: string) =>
      (
        await knex('residency_refresh_claims')
          .where({ cycle_id: cycle, lane: 'full' })
          .whereIn('entity_ref', refs)
      ).filter(r => Boolean(r.done)).length;
    expect(await claimsDone('c2')).toBe(6);

    // A batch that fails as a whole (say a deadlock): each entity is then
    // recorded alone, confirmed there, hooked once, its claim done.
    const single = jest.spyOn(store, 'recordEvaluation');
    jest
      .spyOn(store, 'confirmEvaluations')
      .mockRejectedValue(new Error('deadlock detected'));
    const third = await refresher.runOnce(undefined, { cycleId: 'c3' });
    expect(third).toMatchObject({ evaluated: 6, failed: 0 });
    expect(single).toHaveBeenCalledTimes(6);
    for (const [options] of single.mock.calls) {
      // Not tried: the single path tries the confirmation itself.
      expect(options.confirmTried).toBeUndefined();
    }
    const fallback = byRef();
    expect(Object.values(fallback).map(h => h.outcome)).toEqual(
      Array(6).fill('confirmed'),
    );
    expect(await claimsDone('c3')).toBe(6);
  });
});
