/*
 * Alerts are sent once per transition even when two replicas (two store instances,
 * two connections, one database) see the same worsening at the same moment.
 */
import { TestDatabases, mockServices } from '@backstage/backend-test-utils';
import knexFactory, { type Knex } from 'knex';
import { createHash } from 'node:crypto';
import { makeEvaluation, makeImage } from '../__testUtils__/fixtures';
import { createStoreOn } from '../__testUtils__/harness';
import { DatabaseResidencyStore } from '../database/DatabaseResidencyStore';
import { EntityStateTracker } from './EntityStateTracker';
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

  const replica = (db: Knex) => {
    const exceptions = new ExceptionStore(db);
    const logger = mockServices.logger.mock();
    return {
      exceptions,
      tracker: new EntityStateTracker({
        store,
        exceptions,
        logger,
        alerts: new ResidencyAlerts({
          notifications: { send },
          store: exceptions,
          settings,
          logger,
        }),
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
  });

  afterEach(async () => {
    if (second !== first) await second.destroy();
  });

  it('two replicas seeing the same worsening notify once', async () => {
    const a = replica(first);
    const b = replica(second);
    const good = await record('compliant');
    await Promise.all([a.tracker.onRecorded(good), b.tracker.onRecorded(good)]);
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
