/*
 * Registry isolation in the refresher (issue 13 items 2 and 3): a stalled
 * registry is cut off after a few consecutive failures and its entities go stale
 * at once with the reason; healthy registries finish first; the end-of-cycle
 * work runs even when the pass is cut short; the full task's timeout follows
 * the lease.
 */
import { TestDatabases, mockServices } from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import type { EvaluateEntityOptions } from '@residency-dev/plugin-residency-node';
import { DatabaseResidencyStore } from '../database/DatabaseResidencyStore';
import { FakeEngine } from '../__testUtils__/fixtures';
import { makeEntity, visibilityCatalog } from '../__testUtils__/harness';
import { EntityEvaluator } from './EntityEvaluator';
import { ResidencyRefresher } from './ResidencyRefresher';
import { RegistryIsolation, registryKeyOf } from './registries';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

const STALLED = 'stalled.example:5000';
const HEALTHY = 'registry.eu';

/** Entities on a stalled registry take `stallMs` and fail as unreachable. */
class TwoRegistryEngine extends FakeEngine {
  stalled = false;
  stallMs = 150;
  healthyDecision: 'compliant' | 'non_compliant' = 'compliant';
  readonly finished: string[] = [];
  constructor() {
    super();
    this.decide = o =>
      this.stalled && o.images.some(i => i.startsWith(STALLED))
        ? 'unknown'
        : this.healthyDecision;
  }
  override async evaluateEntity(options: EvaluateEntityOptions) {
    if (this.stalled && options.images.some(i => i.startsWith(STALLED))) {
      await new Promise(r => setTimeout(r, this.stallMs));
    }
    try {
      return await super.evaluateEntity(options);
    } finally {
      this.finished.push(options.entityRef);
    }
  }
}

function entitiesOn(registry: string, count: number, prefix: string) {
  return Array.from({ length: count }, (_, n) =>
    makeEntity(`${prefix}-${n}`, {
      images: `${registry}/app-${n}:1`,
      tenant: 'eu-public',
    }),
  );
}

describe.each(databases.eachSupportedId())(
  'registry isolation on %p',
  databaseId => {
    let store: DatabaseResidencyStore;
    beforeEach(async () => {
      const knex = await databases.init(databaseId);
      store = await DatabaseResidencyStore.create({
        database: mockServices.database({ knex }),
      });
    });

    function refresher(
      engine: FakeEngine,
      entities: Entity[],
      extra: { keepRecordsPerEntity?: number } = {},
    ) {
      return ResidencyRefresher.create({
        catalog: visibilityCatalog(entities),
        auth: mockServices.auth(),
        store,
        evaluator: new EntityEvaluator({
          engine,
          store,
          revalidateAfterSeconds: 0,
        }),
        logger: mockServices.logger.mock(),
        schedule: { frequency: { minutes: 10 }, timeout: { minutes: 30 } },
        batchSize: 25,
        leaseSeconds: 300,
        entityConcurrency: 4,
        registryFailureThreshold: 3,
        ...extra,
      });
    }

    it('cuts a stalled registry off after 3 failures: its entities go stale at once, the healthy ones are all verified first', async () => {
      const stalledEntities = entitiesOn(STALLED, 12, 'slow');
      const healthyEntities = entitiesOn(HEALTHY, 12, 'fast');
      // Interleaved as a catalog would list them.
      const entities = stalledEntities.flatMap((e, n) => [
        e,
        healthyEntities[n],
      ]);
      const engine = new TwoRegistryEngine();
      const r = refresher(engine, entities);
      await r.runOnce(undefined, { cycleId: 'good' });

      engine.stalled = true;
      // Long enough that a loaded machine's database writes for the healthy
      // entities (two slots of their registry) fit in it.
      engine.stallMs = 2000;
      engine.calls.length = 0;
      engine.finished.length = 0;
      const summary = await r.runOnce(undefined, { cycleId: 'stall' });

      const calledOnStalled = engine.calls.filter(c =>
        c.images[0].startsWith(STALLED),
      );
      // At most threshold + the slots already running when the breaker opened.
      expect(calledOnStalled.length).toBeGreaterThanOrEqual(3);
      expect(calledOnStalled.length).toBeLessThanOrEqual(3 + 2);
      expect(summary.unavailableRegistries).toEqual([STALLED]);
      expect(summary.skippedUnavailable).toBe(12 - calledOnStalled.length);
      expect(summary.evaluated).toBe(12 + calledOnStalled.length);

      // Every healthy entity was verified in this cycle, and before the stalled ones finished.
      const healthyDone = engine.finished.filter(ref => ref.includes('fast-'));
      expect(healthyDone).toHaveLength(12);
      const lastHealthy = Math.max(
        ...healthyDone.map(ref => engine.finished.indexOf(ref)),
      );
      const lastStalled = Math.max(
        ...engine.finished
          .filter(ref => ref.includes('slow-'))
          .map(ref => engine.finished.indexOf(ref)),
      );
      expect(lastHealthy).toBeLessThan(lastStalled);

      // Every stalled entity shows its last good decision, stale, with the reason.
      for (const e of stalledEntities) {
        const status = await store.getStatus({
          entityRef: `component:default/${e.metadata.name}`,
        });
        expect(status).toMatchObject({
          decision: 'compliant',
          stale: true,
          lastAttempt: {
            decision: 'unknown',
            reasons: [
              expect.objectContaining({ code: 'registry_unreachable' }),
            ],
          },
        });
      }
      for (const e of healthyEntities) {
        const status = await store.getStatus({
          entityRef: `component:default/${e.metadata.name}`,
        });
        expect(status).toMatchObject({ decision: 'compliant', stale: false });
      }

      // Next cycle, the registry is back: it gets a fresh chance.
      engine.stalled = false;
      const recovered = await r.runOnce(undefined, { cycleId: 'back' });
      expect(recovered).toMatchObject({
        evaluated: 24,
        skippedUnavailable: 0,
        unavailableRegistries: [],
      });
    });

    it('a registry that fails and then answers is not cut off (the count is consecutive)', async () => {
      const entities = entitiesOn(STALLED, 6, 'flaky');
      const engine = new TwoRegistryEngine();
      engine.stallMs = 0;
      const r = refresher(engine, entities);
      // Alternate: unknown, compliant, unknown, ... never 3 in a row.
      let call = 0;
      engine.decide = () => (call++ % 2 === 0 ? 'unknown' : 'compliant');
      const summary = await r.runOnce(undefined, { cycleId: 'flaky' });
      expect(summary.unavailableRegistries).toEqual([]);
      expect(summary.evaluated).toBe(6);
    });

    it('runs removals and retention even when the pass is cut short', async () => {
      const engine = new TwoRegistryEngine();
      const all = [
        ...entitiesOn(HEALTHY, 3, 'kept'),
        ...entitiesOn(HEALTHY, 2, 'gone'),
      ];
      await refresher(engine, all).runOnce(undefined, { cycleId: 'c1' });
      // Make the kept entities' chains grow past the retention limit.
      for (let i = 0; i < 2; i++) {
        engine.healthyDecision = i % 2 ? 'compliant' : 'non_compliant';
        await refresher(engine, all).runOnce(undefined, { cycleId: `g${i}` });
      }
      engine.healthyDecision = 'compliant';

      // Two entities left the catalog; the pass times out on a stalled registry.
      const remaining = [
        ...entitiesOn(HEALTHY, 3, 'kept'),
        ...entitiesOn(STALLED, 1, 'slow'),
      ];
      engine.stalled = true;
      engine.stallMs = 500;
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const summary = await refresher(engine, remaining, {
        keepRecordsPerEntity: 1,
      }).runOnce(controller.signal, { cycleId: 'cut' });
      expect(summary.removed).toBe(2);
      expect(summary.pruned).toBeGreaterThan(0);
      expect(
        await store.getStatus({ entityRef: 'component:default/gone-0' }),
      ).toBeUndefined();
    });

    it('a replica on an older trust configuration stands back; the one on the newest decides', async () => {
      const entities = entitiesOn(HEALTHY, 3, 'svc');
      const oldEngine = new TwoRegistryEngine();
      const newEngine = new TwoRegistryEngine();
      newEngine.trustHash = () => 'n'.repeat(64);
      const oldReplica = refresher(oldEngine, entities);
      const newReplica = refresher(newEngine, entities);
      expect(
        await oldReplica.runOnce(undefined, { cycleId: 'c1' }),
      ).toMatchObject({ evaluated: 3 });
      // The rolling key change starts: the new replica decides everything again...
      expect(await newReplica.runDelta()).toMatchObject({ evaluated: 3 });
      // ...and the old one no longer re-decides back (no ping-pong of records).
      oldEngine.calls.length = 0;
      expect(await oldReplica.runDelta()).toMatchObject({
        evaluated: 0,
        standingBack: true,
      });
      expect(
        await oldReplica.runOnce(undefined, { cycleId: 'c2' }),
      ).toMatchObject({ evaluated: 0, standingBack: true });
      expect(oldEngine.calls).toHaveLength(0);
      const history = await store.listEvidence({
        entityRef: 'component:default/svc-0',
        limit: 10,
      });
      expect(history.items.length).toBeLessThanOrEqual(2);
    });

    it('sizes the full task from the lease: timeout = lease, slices every min(frequency, lease, 60 s) on every replica', async () => {
      const r = refresher(new FakeEngine(), []);
      expect(
        r.fullTaskSchedule({
          frequency: { minutes: 10 },
          timeout: { minutes: 30 },
          initialDelay: { seconds: 5 },
        }),
      ).toEqual({
        frequency: { seconds: 60 },
        timeout: { seconds: 300 },
        initialDelay: { seconds: 5 },
      });
      const shortLease = ResidencyRefresher.create({
        catalog: visibilityCatalog([]),
        auth: mockServices.auth(),
        store,
        evaluator: new EntityEvaluator({
          engine: new FakeEngine(),
          store,
          revalidateAfterSeconds: 0,
        }),
        logger: mockServices.logger.mock(),
        schedule: { frequency: { minutes: 30 }, timeout: { minutes: 30 } },
        batchSize: 25,
        leaseSeconds: 15,
        entityConcurrency: 2,
      });
      const scheduleTask = jest.fn(async () => {});
      await shortLease.schedule({
        scheduler: { scheduleTask } as any,
        // As read from config: `scope` is present, undefined.
        schedule: {
          frequency: { minutes: 30 },
          timeout: { minutes: 30 },
          scope: undefined,
        },
        deltaSchedule: { frequency: { minutes: 1 }, timeout: { minutes: 5 } },
      });
      // The full task runs on every replica: takeover waits for claims'
      // leases only, never for the scheduler's janitor to free a dead run.
      expect(scheduleTask).toHaveBeenCalledWith(
        expect.objectContaining({
          id: 'residency-refresh',
          scope: 'local',
          frequency: { seconds: 15 },
          timeout: { seconds: 15 },
        }),
      );
    });

    it('runs the end-of-cycle work once per cycle, not in every slice', async () => {
      const engine = new TwoRegistryEngine();
      const entities = entitiesOn(HEALTHY, 3, 'svc');
      const retention = jest.spyOn(store, 'applyRetention');
      // The scan for vanished entities reads summaries (never the stored results).
      const scan = jest.spyOn(store, 'listStatuses');
      const fullScan = jest.spyOn(store, 'scanStatuses');
      const slice = () =>
        refresher(engine, entities, { keepRecordsPerEntity: 5 }).runOnce(
          undefined,
          { cycleId: 'window-1' },
        );
      await slice();
      await slice();
      await slice();
      expect(retention).toHaveBeenCalledTimes(1);
      expect(scan).toHaveBeenCalledTimes(1);
      expect(fullScan).not.toHaveBeenCalled();
      // The next cycle does it again.
      await refresher(engine, entities, { keepRecordsPerEntity: 5 }).runOnce(
        undefined,
        { cycleId: 'window-2' },
      );
      expect(retention).toHaveBeenCalledTimes(2);
      retention.mockRestore();
      scan.mockRestore();
      fullScan.mockRestore();
    });
  },
);

describe('registryKeyOf', () => {
  it('groups references by registry host', () => {
    expect(registryKeyOf('registry.eu/app:1')).toBe('registry.eu');
    expect(registryKeyOf('127.0.0.1:5000/a/b@sha256:00')).toBe(
      '127.0.0.1:5000',
    );
    expect(registryKeyOf('localhost/app')).toBe('localhost');
    expect(registryKeyOf('nginx:1')).toBe('docker.io');
    expect(registryKeyOf('library/nginx')).toBe('docker.io');
    expect(registryKeyOf('oci:/tmp/layout:1')).toBe('oci');
  });
});

describe('RegistryIsolation counts availability faults only', () => {
  const result = (code: string, problem?: string) =>
    ({
      images: [
        {
          reference: 'registry.eu/app:1',
          reasons: [
            {
              code,
              message: 'x',
              ...(problem ? { details: { problem } } : {}),
            },
          ],
        },
      ],
    } as any);
  const afterThree = (code: string, problem?: string) => {
    const isolation = new RegistryIsolation({
      concurrency: 4,
      perRegistryConcurrency: 2,
      threshold: 3,
    });
    for (let i = 0; i < 3; i++) isolation.record(result(code, problem));
    return isolation.openAmong(['registry.eu']);
  };

  it.each([
    ['registry_unreachable', 'network'],
    ['registry_unreachable', 'timeout'],
    ['registry_unreachable', undefined],
    ['rate_limited', undefined],
  ])('opens after 3 x %s (%s)', (code, problem) => {
    expect(afterThree(code, problem)).toEqual(['registry.eu']);
  });

  it.each([
    // The check was given up by us: says nothing about the registry.
    ['registry_unreachable', 'aborted'],
    // The registry answered but misbehaved: each entity keeps its own reason.
    ['registry_unreachable', 'redirect_not_allowed'],
    ['digest_mismatch', undefined],
    ['signature_missing', undefined],
  ])('stays closed after 3 x %s (%s)', (code, problem) => {
    expect(afterThree(code, problem)).toEqual([]);
  });
});
