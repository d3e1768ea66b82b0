/*
 * Alerts are sent once per transition even when two replicas (two store instances,
 * two connections, one database) see the same worsening at the same moment.
 */
import { TestDatabases, mockServices } from '@backstage/backend-test-utils';
import knexFactory, { type Knex } from 'knex';
import { createHash } from 'node:crypto';
import { DIGEST_A, makeEvaluation, makeImage } from '../__testUtils__/fixtures';
import { createStoreOn } from '../__testUtils__/harness';
import { DatabaseResidencyStore } from '../database/DatabaseResidencyStore';
import { EntityStateTracker } from './EntityStateTracker';
import { ExceptionService } from './ExceptionService';
import { ExceptionStore } from './ExceptionStore';
import { ResidencyAlerts, plainReasons } from './ResidencyAlerts';

jest.setTimeout(120_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });
const ENTITY = 'component:default/payments';
const settings = { maxDays: 7, tenantMaxDays: {}, recipients: {}, baseUrl: '' };

describe.each(databases.eachSupportedId())('alerts on %p', databaseId => {
  let store: DatabaseResidencyStore;
  let first: Knex;
  let second: Knex;
  let send: jest.Mock;

  let clock: Date;
  const replica = async (db: Knex) => {
    const exceptions = new ExceptionStore(db);
    const logger = mockServices.logger.mock();
    const now = () => clock;
    // Each replica has its own store too: its own connection to the database.
    const replicaStore = await DatabaseResidencyStore.create({
      database: mockServices.database({ knex: db, migrations: { skip: true } }),
    });
    const alerts = new ResidencyAlerts({
      notifications: { send },
      store: exceptions,
      settings,
      logger,
    });
    const tracker = new EntityStateTracker({
      store: replicaStore,
      exceptions,
      logger,
      alerts,
      now,
    });
    return {
      exceptions,
      alerts,
      tracker,
      service: new ExceptionService({
        exceptions,
        store: replicaStore,
        tracker,
        catalog: {} as any,
        permissions: {} as any,
        settings,
        logger,
        now,
      }),
    };
  };

  const record = async (decision: 'compliant' | 'non_compliant') =>
    (
      await store.recordEvaluation({
        entityRef: ENTITY,
        inputsHash: createHash('sha256').update(decision).digest('hex'),
        ...makeEvaluation({
          entityRef: ENTITY,
          decision,
          images: [
            makeImage({
              decision,
              ...(decision === 'compliant'
                ? {}
                : { code: 'key_outside_boundary' }),
            }),
          ],
          ...(decision === 'compliant' ? {} : { code: 'key_outside_boundary' }),
        }),
      })
    ).status;

  beforeEach(async () => {
    const created = await createStoreOn(databases, databaseId);
    store = created.store;
    first = created.knex;
    const client = String(first.client.config.client);
    second = client.includes('sqlite')
      ? first // one in-memory database: the same connection
      : knexFactory({
          client: first.client.config.client,
          connection: first.client.config.connection,
        });
    send = jest.fn(async () => {});
    clock = new Date();
  });

  afterEach(async () => {
    if (second !== first) await second.destroy();
  });

  it('two replicas seeing the same worsening notify once', async () => {
    const a = await replica(first);
    const b = await replica(second);
    const good = await record('compliant');
    const firsts = await Promise.all([
      a.tracker.onRecorded(good),
      b.tracker.onRecorded(good),
    ]);
    // The first state is recorded by exactly one of them, and is no transition.
    expect(firsts.map(r => [r?.first ?? false, r?.changed])).toEqual(
      expect.arrayContaining([
        [true, false],
        [false, false],
      ]),
    );
    expect(send).not.toHaveBeenCalled();

    const bad = await record('non_compliant');
    const results = await Promise.all([
      a.tracker.onRecorded(bad),
      b.tracker.onRecorded(bad),
      a.tracker.onRecorded(bad),
    ]);
    expect(results.filter(r => r?.changed)).toHaveLength(1);
    expect(send).toHaveBeenCalledTimes(1);
    expect(send.mock.calls[0][0].payload.description).toContain(
      'key_outside_boundary',
    );
    // Further refreshes with the same decision never notify again.
    await b.tracker.onRecorded(bad);
    await a.tracker.redecide(ENTITY);
    expect(send).toHaveBeenCalledTimes(1);

    // A new transition (recovered, then worse again) is a new notification.
    const again = await record('compliant');
    await b.tracker.onRecorded(again);
    await a.tracker.onRecorded(await record('non_compliant'));
    expect(send).toHaveBeenCalledTimes(2);
  });

  it('two replicas running the exception pass at once: one notice before expiry, one expiry, one alert', async () => {
    const a = await replica(first);
    const b = await replica(second);
    const bad = await record('non_compliant');
    const expiresAt = new Date(clock.getTime() + 3 * 24 * 3600 * 1000);
    await a.exceptions.insert({
      id: '00000000-0000-4000-8000-00000000aaaa',
      entityRef: ENTITY,
      status: 'requested',
      reasonCodes: ['key_outside_boundary'],
      digests: [DIGEST_A],
      justification: 'Key migration in progress',
      reference: 'CHG-17',
      requestedBy: 'user:default/dev',
      requestedAt: clock.toISOString(),
      expiresAt: expiresAt.toISOString(),
    });
    await a.exceptions.transition({
      id: '00000000-0000-4000-8000-00000000aaaa',
      from: 'requested',
      to: 'approved',
      by: 'user:default/dpo',
      at: clock.toISOString(),
    });
    await a.tracker.onRecorded(bad);
    expect((await b.tracker.redecide(ENTITY))?.state).toBe(
      'resident_by_exception',
    );

    // 47 hours before the end: requester and approver are told once.
    clock = new Date(expiresAt.getTime() - 47 * 3600 * 1000);
    const soon = (r: Awaited<ReturnType<typeof replica>>) => ({
      onExpiringSoon: async (e: any) => {
        await r.alerts.expiringSoon(e);
      },
    });
    await Promise.all([
      a.service.runOnce(soon(a)),
      b.service.runOnce(soon(b)),
      a.service.runOnce(soon(a)),
    ]);
    expect(send).toHaveBeenCalledTimes(1);
    expect(send.mock.calls[0][0]).toMatchObject({
      recipients: {
        type: 'entity',
        entityRef: ['user:default/dev', 'user:default/dpo'],
      },
      payload: { topic: 'residency-exception' },
    });

    // After the end: exactly one replica expires it and records it; the owners
    // are told once that the entity is not resident any more.
    clock = new Date(expiresAt.getTime() + 1000);
    const expired = await Promise.all([
      a.service.runOnce(),
      b.service.runOnce(),
    ]);
    expect(expired.flat().map(e => e.id)).toEqual([
      '00000000-0000-4000-8000-00000000aaaa',
    ]);
    expect(send).toHaveBeenCalledTimes(2);
    expect(send.mock.calls[1][0].payload.description).toContain(
      'from resident by exception to not resident',
    );
    const page = await store.listEvidence({ entityRef: ENTITY, limit: 50 });
    expect(page.items.filter(i => i.kind === 'exception.expired')).toHaveLength(
      1,
    );
    expect(page.items.filter(i => i.kind === 'exception.applied')).toHaveLength(
      1,
    );
    expect((await store.verifyChain({ entityRef: ENTITY })).ok).toBe(true);
  });

  it('two replicas seeing another exception take over record it once', async () => {
    const a = await replica(first);
    const b = await replica(second);
    const bad = await record('non_compliant');
    const approve = async (id: string) => {
      await a.exceptions.insert({
        id,
        entityRef: ENTITY,
        status: 'requested',
        reasonCodes: ['key_outside_boundary'],
        digests: [DIGEST_A],
        justification: 'Key migration in progress',
        reference: 'CHG-18',
        requestedBy: 'user:default/dev',
        requestedAt: clock.toISOString(),
        expiresAt: new Date(clock.getTime() + 24 * 3600 * 1000).toISOString(),
      });
      await a.exceptions.transition({
        id,
        from: 'requested',
        to: 'approved',
        by: 'user:default/dpo',
        at: clock.toISOString(),
      });
    };
    const applied = async () =>
      (await store.listEvidence({ entityRef: ENTITY, limit: 50 })).items.filter(
        i => i.kind === 'exception.applied',
      ).length;
    await approve('00000000-0000-4000-8000-00000000000a');
    await a.tracker.onRecorded(bad);
    expect(await applied()).toBe(1);

    // A later exception now waives it (the newest covering one applies).
    clock = new Date(clock.getTime() + 60_000);
    await approve('00000000-0000-4000-8000-00000000000b');
    const seen = await Promise.all([
      a.tracker.onRecorded(bad),
      b.tracker.onRecorded(bad),
      a.tracker.redecide(ENTITY),
    ]);
    expect(seen.map(r => r?.state)).toEqual([
      'resident_by_exception',
      'resident_by_exception',
      'resident_by_exception',
    ]);
    expect(seen.filter(r => r?.detailChanged)).toHaveLength(1);
    expect(seen.filter(r => r?.changed)).toHaveLength(0);
    expect(await applied()).toBe(2);
    await Promise.all([a.tracker.redecide(ENTITY), b.tracker.redecide(ENTITY)]);
    expect(await applied()).toBe(2);
    expect((await store.verifyChain({ entityRef: ENTITY })).ok).toBe(true);
    expect(send).not.toHaveBeenCalled();
  });

  it('a notification key is claimed by exactly one replica', async () => {
    const a = new ExceptionStore(first);
    const b = new ExceptionStore(second);
    const claims = await Promise.all(
      [a, b, a, b].map(s => s.claimNotification('expiring:x')),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  it('says the reasons in plain words', () => {
    const status = {
      ...makeEvaluation({ entityRef: ENTITY, decision: 'non_compliant' })
        .result,
      stale: false,
    };
    status.images[0].reasons = [
      { code: 'signature_missing', message: 'The image has no signature.' },
    ];
    expect(
      plainReasons(status, {
        state: 'not_resident',
        waived: [],
        uncovered: [{ code: 'signature_missing' }],
      }),
    ).toEqual(['The image has no signature.']);
  });

  it('migrates down and up again with exceptions stored', async () => {
    const ex = new ExceptionStore(first);
    await ex.claimNotification('k');
    await DatabaseResidencyStore.migrateDown(first);
    await DatabaseResidencyStore.migrateUp(first);
    expect(await ex.claimNotification('k')).toBe(true);
  });
});
