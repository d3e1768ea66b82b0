import {
  mockCredentials,
  mockErrorHandler,
  mockServices,
} from '@backstage/backend-test-utils';
import express from 'express';
import knexFactory from 'knex';
import { createServer, type Server } from 'node:net';
import request from 'supertest';
import type { ResidencyService } from './ResidencyService';
import { createRouter } from './router';
import { isDatabaseUnavailable } from './unavailable';

jest.setTimeout(30_000);

/** A real driver error: pg connecting to a loopback port where nothing listens. */
async function refusedConnectionError(): Promise<Error> {
  const server: Server = createServer();
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as any).port as number;
  await new Promise<void>(r => server.close(() => r()));
  const knex = knexFactory({
    client: 'pg',
    connection: `postgresql://postgres@127.0.0.1:${port}/residency`,
    pool: { min: 0, max: 1 },
    acquireConnectionTimeout: 5000,
  });
  try {
    await knex.raw('select 1');
    throw new Error('expected the connection to be refused');
  } catch (error) {
    return error as Error;
  } finally {
    await knex.destroy();
  }
}

describe('database outage', () => {
  it('answers 503 with Retry-After and a generic body; the detail goes to the log', async () => {
    const outage = await refusedConnectionError();
    expect(outage.message).toMatch(/127\.0\.0\.1/);
    expect(isDatabaseUnavailable(outage)).toBe(true);

    const logger = mockServices.logger.mock();
    const service = {
      getStatus: jest.fn(async () => {
        throw outage;
      }),
    } as unknown as ResidencyService;
    const app = express()
      .use(
        await createRouter({
          httpAuth: mockServices.httpAuth(),
          auditor: mockServices.auditor.mock(),
          logger,
          service,
        }),
      )
      .use(mockErrorHandler());

    const res = await request(app)
      .get('/entities/component/default/payments/status')
      .set('Authorization', mockCredentials.user.header());
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('30');
    expect(res.body.error).toMatchObject({
      name: 'ServiceUnavailableError',
      message: 'The residency database is unavailable; retry later.',
    });
    expect(JSON.stringify(res.body)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
    expect(logger.error).toHaveBeenCalledWith(
      expect.stringContaining('database unavailable'),
      outage,
    );
  });

  it('leaves other errors alone (a query bug is not an outage)', async () => {
    expect(isDatabaseUnavailable(new Error('syntax error at or near'))).toBe(
      false,
    );
    expect(
      isDatabaseUnavailable(
        Object.assign(new Error('duplicate key'), { code: '23505' }),
      ),
    ).toBe(false);
    expect(
      isDatabaseUnavailable(
        Object.assign(new Error('the database system is shutting down'), {
          code: '57P03',
        }),
      ),
    ).toBe(true);
  });
});
