/*
 * The exception pass (expiry, expiring-soon notices) runs on the schedule of
 * `residency.exceptions.schedule`, every minute by default, on one replica at a time.
 */
import { TestDatabases, mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import type { JsonObject } from '@backstage/types';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { createStoreOn } from '../__testUtils__/harness';
import { EXCEPTION_TASK_ID, createExceptionWiring } from './wiring';

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

async function scheduled(residency: JsonObject) {
  const { knex, store } = await createStoreOn(databases, 'SQLITE_3');
  const wiring = await createExceptionWiring({
    config: new ConfigReader({ residency }),
    database: mockServices.database({ knex }),
    store,
    catalog: catalogServiceMock(),
    permissions: mockServices.permissions(),
    auditor: mockServices.auditor.mock(),
    logger: mockServices.logger.mock(),
  });
  const scheduler = mockServices.scheduler.mock();
  await wiring.schedule(scheduler);
  expect(scheduler.scheduleTask).toHaveBeenCalledTimes(1);
  return scheduler.scheduleTask.mock.calls[0][0];
}

describe('exception pass schedule', () => {
  it('runs every minute on one replica by default', async () => {
    expect(await scheduled({})).toMatchObject({
      id: EXCEPTION_TASK_ID,
      scope: 'global',
      frequency: { minutes: 1 },
    });
  });

  it('follows residency.exceptions.schedule', async () => {
    const task = await scheduled({
      exceptions: {
        schedule: {
          frequency: { seconds: 5 },
          timeout: { minutes: 1 },
          initialDelay: { seconds: 2 },
        },
      },
    });
    expect(task).toMatchObject({
      id: EXCEPTION_TASK_ID,
      scope: 'global',
      frequency: { seconds: 5 },
      initialDelay: { seconds: 2 },
    });
  });
});
