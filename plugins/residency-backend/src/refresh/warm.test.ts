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
    if (databaseId === 'POSTGRES_15') {
      // One statement per page: the confirmations with their claims.
      expect(confirmations).toHaveLength(2);
      // Plus, per page: the claims (3) and the reusable results (1); per pass: a few.
      expect(queries.length).toBeLessThanOrEqual(2 + 2 * 4 + 12);
    } else {
      // One update per entity and one per claim, in one transaction per page.
      expect(confirmations).toHaveLength(10);
      expect(queries.length).toBeLessThanOrEqual(10 * 2 + 2 * (4 + 2) + 12);
    }
  });
});
