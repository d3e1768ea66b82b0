import { TestDatabases, mockServices } from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import knexFactory, { type Knex } from 'knex';
import { DatabaseResidencyStore } from '../database/DatabaseResidencyStore';
import { DIGEST_A, DIGEST_B, FakeEngine } from '../__testUtils__/fixtures';
import { makeEntity, visibilityCatalog } from '../__testUtils__/harness';
import { EntityEvaluator } from './EntityEvaluator';
import { ResidencyRefresher } from './ResidencyRefresher';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

function makeRefresher(options: {
  store: DatabaseResidencyStore;
  engine: FakeEngine;
  entities: Entity[];
  instanceId?: string;
  batchSize?: number;
}) {
  const evaluator = new EntityEvaluator({
    engine: options.engine,
    store: options.store,
    revalidateAfterSeconds: 3600,
  });
  return ResidencyRefresher.create({
    catalog: visibilityCatalog(options.entities),
    auth: mockServices.auth(),
    store: options.store,
    evaluator,
    logger: mockServices.logger.mock(),
    schedule: { frequency: { minutes: 10 }, timeout: { minutes: 5 } },
    batchSize: options.batchSize ?? 2,
    leaseSeconds: 60,
    entityConcurrency: 2,
    instanceId: options.instanceId,
  });
}

describe.each(databases.eachSupportedId())(
  'ResidencyRefresher on %p',
  databaseId => {
    let knex: Knex;
    let store: DatabaseResidencyStore;

    beforeEach(async () => {
      knex = await databases.init(databaseId);
      store = await DatabaseResidencyStore.create({
        database: mockServices.database({ knex }),
      });
    });

    it('a fresh (on-demand) evaluation fetches every digest again, even a young one', async () => {
      const engine = new FakeEngine();
      const evaluator = new EntityEvaluator({
        engine,
        store,
        revalidateAfterSeconds: 3600,
      });
      const inputs = {
        entityRef: 'component:default/a',
        images: [`registry.eu/a@${DIGEST_A}`],
        tenant: 'eu-public',
      };
      await evaluator.evaluate({ inputs });
      // A scheduled pass right after reuses the young digest...
      await evaluator.evaluate({ inputs });
      expect(engine.reused).toEqual([DIGEST_A]);
      // ...but Refresh, asked for because the registry changed, must not.
      await evaluator.evaluate({ inputs, fresh: true });
      expect(engine.reused).toEqual([DIGEST_A]);
      expect(engine.calls).toHaveLength(3);
    });

    it('verifies every annotated entity once per cycle and reuses young digests', async () => {
      const entities = [
        makeEntity('a', {
          images: `registry.eu/a@${DIGEST_A}`,
          tenant: 'eu-public',
        }),
        makeEntity('b', {
          images: `registry.eu/b@${DIGEST_B}`,
          tenant: 'eu-public',
        }),
        makeEntity('c', {
          images: `registry.eu/a@${DIGEST_A}\nregistry.eu/b@${DIGEST_B}`,
          tenant: 'eu-public',
        }),
        makeEntity('no-images'),
      ];
      const engine = new FakeEngine();
      const refresher = makeRefresher({ store, engine, entities });

      const first = await refresher.runOnce(undefined, { cycleId: 'c1' });
      expect(first).toMatchObject({ seen: 3, evaluated: 3, failed: 0 });
      expect(engine.calls.map(c => c.entityRef).sort()).toEqual([
        'component:default/a',
        'component:default/b',
        'component:default/c',
      ]);
      expect(
        engine.calls.find(c => c.entityRef.endsWith('/c'))?.images,
      ).toEqual([`registry.eu/a@${DIGEST_A}`, `registry.eu/b@${DIGEST_B}`]);

      // The same cycle again (another replica joining late): nothing left to do.
      await expect(
        refresher.runOnce(undefined, { cycleId: 'c1' }),
      ).resolves.toMatchObject({ evaluated: 0 });
      expect(engine.calls).toHaveLength(3);

      // The next cycle re-checks everyone, but young digests are reused, and an
      // unchanged decision confirms instead of growing the chain.
      await refresher.runOnce(undefined, { cycleId: 'c2' });
      expect(engine.calls).toHaveLength(6);
      expect(engine.reused.length).toBeGreaterThanOrEqual(4);
      const history = await store.listEvidence({
        entityRef: 'component:default/a',
        limit: 10,
      });
      expect(history.items).toHaveLength(1);
      const status = await store.getStatus({
        entityRef: 'component:default/a',
      });
      expect(status?.lastVerifiedAt).toBeDefined();
    });

    it('keeps the previous evidence and marks it stale when the registry fails', async () => {
      const entities = [
        makeEntity('a', {
          images: `registry.eu/a@${DIGEST_A}`,
          tenant: 'eu-public',
        }),
      ];
      const engine = new FakeEngine();
      const refresher = makeRefresher({ store, engine, entities });
      await refresher.runOnce(undefined, { cycleId: 'c1' });
      const good = await store.getStatus({ entityRef: 'component:default/a' });

      engine.decide = () => 'unknown';
      await refresher.runOnce(undefined, { cycleId: 'c2' });
      const stale = await store.getStatus({ entityRef: 'component:default/a' });
      expect(stale).toMatchObject({
        decision: 'compliant',
        stale: true,
        evidenceId: good?.evidenceId,
        lastAttempt: {
          decision: 'unknown',
          reasons: [{ code: 'registry_unreachable' }],
        },
      });
      const history = await store.listEvidence({
        entityRef: 'component:default/a',
        limit: 10,
      });
      expect(history.items.map(i => i.decision)).toEqual(['compliant']);
    });

    it('an aborted check leaves the entity as it was and unclaimed', async () => {
      const entities = [
        makeEntity('a', {
          images: `registry.eu/a@${DIGEST_A}`,
          tenant: 'eu-public',
        }),
      ];
      const engine = new FakeEngine();
      const refresher = makeRefresher({ store, engine, entities });
      await refresher.runOnce(undefined, { cycleId: 'c1' });
      const before = await store.getStatus({
        entityRef: 'component:default/a',
      });
      expect(before).toMatchObject({ decision: 'compliant', stale: false });

      // The next check is cancelled while the registry is being asked; the engine
      // then reports the interrupted fetch as undecidable, as the real one does.
      // The abort comes from inside the evaluation (not a timer), so a slow
      // database under load cannot let the check finish first.
      const controller = new AbortController();
      engine.decide = () => {
        controller.abort();
        return 'unknown';
      };
      const aborted = await refresher.runOnce(controller.signal, {
        cycleId: 'c2',
      });
      expect(aborted).toMatchObject({ evaluated: 0, failed: 0, aborted: 1 });
      const after = await store.getStatus({
        entityRef: 'component:default/a',
      });
      expect(after).toEqual(before);

      // Unclaimed: the same cycle, resumed, takes the entity at once (no lease wait).
      engine.decide = () => 'compliant';
      engine.delayMs = 0;
      const resumed = await refresher.runOnce(undefined, { cycleId: 'c2' });
      expect(resumed).toMatchObject({ evaluated: 1, aborted: 0 });
    });

    it('picks up annotation changes in the delta pass and drops vanished entities', async () => {
      const entities = [
        makeEntity('a', {
          images: `registry.eu/a@${DIGEST_A}`,
          tenant: 'eu-public',
        }),
        makeEntity('b', {
          images: `registry.eu/b@${DIGEST_B}`,
          tenant: 'eu-public',
        }),
      ];
      const engine = new FakeEngine();
      const refresher = makeRefresher({ store, engine, entities });
      await refresher.runOnce(undefined, { cycleId: 'c1' });
      await expect(refresher.runDelta()).resolves.toMatchObject({
        evaluated: 0,
      });

      entities[1] = makeEntity('b', {
        images: `registry.eu/b@${DIGEST_A}`,
        tenant: 'eu-public',
      });
      entities.push(makeEntity('new', { images: `registry.eu/n@${DIGEST_B}` }));
      const delta = await refresher.runDelta();
      expect(delta.evaluated).toBe(2);
      expect(
        engine.calls
          .slice(-2)
          .map(c => c.entityRef)
          .sort(),
      ).toEqual(['component:default/b', 'component:default/new']);
      await expect(refresher.runDelta()).resolves.toMatchObject({
        evaluated: 0,
      });

      entities.splice(0, 1);
      const full = await refresher.runOnce(undefined, { cycleId: 'c2' });
      expect(full.removed).toBe(1);
      await expect(
        store.getStatus({ entityRef: 'component:default/a' }),
      ).resolves.toBeUndefined();
      // Evidence outlives the status: the chain stays for auditors.
      await expect(
        store.verifyChain({ entityRef: 'component:default/a' }),
      ).resolves.toMatchObject({ ok: true, length: 1 });
    });

    it('re-evaluates exactly the tenant whose policy changed, and everyone when trust changes', async () => {
      const entities = [
        makeEntity('eu-a', {
          images: `registry.eu/a@${DIGEST_A}`,
          tenant: 'eu-public',
        }),
        makeEntity('eu-b', {
          images: `registry.eu/b@${DIGEST_B}`,
          tenant: 'eu-public',
        }),
        makeEntity('other', {
          images: `registry.eu/c@${DIGEST_A}`,
          tenant: 'other',
        }),
      ];
      const engine = new FakeEngine();
      const refresher = makeRefresher({ store, engine, entities });
      await refresher.runOnce(undefined, { cycleId: 'c1' });
      await expect(refresher.runDelta()).resolves.toMatchObject({
        evaluated: 0,
      });

      engine.policyHash = tenant =>
        tenant === 'eu-public' ? 'q'.repeat(64) : 'p'.repeat(64);
      const before = engine.calls.length;
      await expect(refresher.runDelta()).resolves.toMatchObject({
        evaluated: 2,
      });
      expect(
        engine.calls
          .slice(before)
          .map(c => c.entityRef)
          .sort(),
      ).toEqual(['component:default/eu-a', 'component:default/eu-b']);

      // A key revoked or added changes the trust hash: every entity is decided
      // again, from the young material already fetched (no registry round trip
      // for signatures), so only entities whose decision changes get new evidence.
      engine.trustHash = () => 'u'.repeat(64);
      const reusedBefore = engine.reused.length;
      await expect(refresher.runDelta()).resolves.toMatchObject({
        evaluated: 3,
      });
      expect(engine.reused.length - reusedBefore).toBe(3);
      await expect(refresher.runDelta()).resolves.toMatchObject({
        evaluated: 0,
      });
    });

    it('leaves a failed evaluation claimed until its lease expires', async () => {
      const entities = [
        makeEntity('a', { images: `registry.eu/a@${DIGEST_A}` }),
      ];
      const engine = new FakeEngine();
      engine.decide = () => {
        throw new Error('engine bug');
      };
      const refresher = makeRefresher({ store, engine, entities });
      await expect(
        refresher.runOnce(undefined, { cycleId: 'c1' }),
      ).resolves.toMatchObject({ failed: 1, evaluated: 0 });
      await expect(
        store.getStatus({ entityRef: 'component:default/a' }),
      ).resolves.toBeUndefined();
      const claim = await knex('residency_refresh_claims')
        .where({ entity_ref: 'component:default/a' })
        .first();
      expect(Boolean(claim.done)).toBe(false);
    });
  },
);

const postgres = databases
  .eachSupportedId()
  .filter(([id]) => id.startsWith('POSTGRES'));
(postgres.length
  ? describe.each(postgres)
  : describe.skip.each([['POSTGRES_15']]))(
  'two refreshers on one %p database',
  databaseId => {
    it('verify each entity once per cycle and keep every chain intact', async () => {
      const knexA = await databases.init(databaseId as any);
      // A second, independent connection pool to the same database: another replica.
      const knexB = knexFactory({
        client: knexA.client.config.client,
        connection: knexA.client.config.connection,
        pool: { min: 0, max: 4 },
      });
      try {
        const storeA = await DatabaseResidencyStore.create({
          database: mockServices.database({ knex: knexA }),
        });
        const storeB = await DatabaseResidencyStore.create({
          database: mockServices.database({ knex: knexB }),
        });
        const entities = Array.from({ length: 24 }, (_, i) =>
          makeEntity(`svc-${String(i).padStart(2, '0')}`, {
            images: `registry.eu/s${i}@${i % 2 ? DIGEST_A : DIGEST_B}`,
            tenant: 'eu-public',
          }),
        );
        const engineA = new FakeEngine();
        const engineB = new FakeEngine();
        engineA.delayMs = 5;
        engineB.delayMs = 5;
        const a = makeRefresher({
          store: storeA,
          engine: engineA,
          entities,
          instanceId: 'replica-a',
          batchSize: 4,
        });
        const b = makeRefresher({
          store: storeB,
          engine: engineB,
          entities,
          instanceId: 'replica-b',
          batchSize: 4,
        });

        // c3 changes nothing: both replicas confirm their pages in batches.
        for (const [cycle, decision] of [
          ['c1', 'compliant'],
          ['c2', 'non_compliant'],
          ['c3', 'non_compliant'],
        ] as const) {
          engineA.decide = () => decision;
          engineB.decide = () => decision;
          const beforeA = engineA.calls.length;
          const beforeB = engineB.calls.length;
          const [ra, rb] = await Promise.all([
            a.runOnce(undefined, { cycleId: cycle }),
            b.runOnce(undefined, { cycleId: cycle }),
          ]);
          const evaluated = [
            ...engineA.calls.slice(beforeA),
            ...engineB.calls.slice(beforeB),
          ].map(c => c.entityRef);
          expect(evaluated).toHaveLength(24);
          expect(new Set(evaluated).size).toBe(24);
          expect(ra.evaluated + rb.evaluated).toBe(24);
        }
        // Every claim of the confirming cycle is done, by whichever replica held it.
        const claims = await knexA('residency_refresh_claims')
          .where({ lane: 'full' })
          .whereNot('entity_ref', 'like', '#%');
        expect(claims).toHaveLength(24);
        expect(claims.every(c => c.cycle_id === 'c3' && c.done)).toBe(true);
        // Both replicas did part of the work.
        expect(engineA.calls.length).toBeGreaterThan(0);
        expect(engineB.calls.length).toBeGreaterThan(0);

        for (const entity of entities) {
          const ref = `component:default/${entity.metadata.name}`;
          await expect(storeA.verifyChain({ entityRef: ref })).resolves.toEqual(
            { entityRef: ref, ok: true, length: 2 },
          );
        }
      } finally {
        await knexB.destroy();
      }
    });
  },
);
