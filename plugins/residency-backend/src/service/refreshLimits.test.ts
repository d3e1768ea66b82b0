/*
 * On-demand refresh through the router (issue 13 items 7 and 9): one refresh per
 * entity in flight, a per-user rate limit, 429 with Retry-After beyond it; a
 * replica on an older trust configuration stands back.
 */
import {
  TestDatabases,
  mockCredentials,
  mockErrorHandler,
  mockServices,
} from '@backstage/backend-test-utils';
import express from 'express';
import request from 'supertest';
import { DIGEST_A, FakeEngine } from '../__testUtils__/fixtures';
import {
  createEvaluator,
  createStoreOn,
  makeEntity,
  visibilityCatalog,
} from '../__testUtils__/harness';
import { DefaultResidencyService } from './DefaultResidencyService';
import { createRouter } from './router';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

describe.each(databases.eachSupportedId())(
  'on-demand refresh limits on %p',
  databaseId => {
    const entities = ['a', 'b', 'c', 'd', 'e'].map(n =>
      makeEntity(n, {
        images: `registry.eu/${n}@${DIGEST_A}`,
        tenant: 'eu-public',
      }),
    );

    async function appWith(engine: FakeEngine, store?: any) {
      const created = store
        ? { store }
        : await createStoreOn(databases, databaseId);
      const { evaluator } = createEvaluator(created.store, engine);
      const service = DefaultResidencyService.create({
        store: created.store,
        evaluator,
        catalog: visibilityCatalog(entities),
        auth: mockServices.auth(),
        refreshLimit: { perPrincipal: 3, windowSeconds: 60 },
      });
      const app = express()
        .use(
          await createRouter({
            httpAuth: mockServices.httpAuth(),
            auditor: mockServices.auditor.mock(),
            logger: mockServices.logger.mock(),
            service: service as any,
          }),
        )
        .use(mockErrorHandler());
      return { app, store: created.store };
    }

    const refresh = (app: express.Express, name: string, user: string) =>
      request(app)
        .post(`/entities/component/default/${name}/refresh`)
        .set('Authorization', mockCredentials.user.header(user));

    it('runs one refresh per entity at a time; a second one gets 429 with Retry-After', async () => {
      const engine = new FakeEngine();
      engine.delayMs = 1500;
      const { app } = await appWith(engine);
      // The second request starts once the first is inside the engine (not
      // after a fixed delay, which a slow database under load can outlast).
      const inEngine = async () => {
        while (engine.calls.length === 0) {
          await new Promise(r => setTimeout(r, 5));
        }
      };
      const [first, second] = await Promise.all([
        refresh(app, 'a', 'user:default/one'),
        inEngine().then(() => refresh(app, 'a', 'user:default/two')),
      ]);
      expect(first.status).toBe(200);
      expect(second.status).toBe(429);
      expect(second.headers['retry-after']).toBe('10');
      expect(second.body.error.name).toBe('RefreshThrottledError');
      expect(engine.calls).toHaveLength(1);
      // Done: the entity can be refreshed again.
      expect((await refresh(app, 'a', 'user:default/two')).status).toBe(200);
    });

    it('limits each user to 3 refreshes a minute; others are unaffected', async () => {
      const { app } = await appWith(new FakeEngine());
      for (const name of ['a', 'b', 'c']) {
        expect((await refresh(app, name, 'user:default/eager')).status).toBe(
          200,
        );
      }
      const over = await refresh(app, 'd', 'user:default/eager');
      expect(over.status).toBe(429);
      expect(over.headers['retry-after']).toBe('60');
      expect((await refresh(app, 'd', 'user:default/calm')).status).toBe(200);
    });

    it('a replica on an older trust configuration stands back (503), the newer one decides', async () => {
      const oldEngine = new FakeEngine();
      const { app: oldApp, store } = await appWith(oldEngine);
      expect((await refresh(oldApp, 'a', 'user:default/x')).status).toBe(200);

      // A replica with a rotated key starts against the same database.
      const newEngine = new FakeEngine();
      newEngine.trustHash = () => 'n'.repeat(64);
      const { app: newApp } = await appWith(newEngine, store);
      expect((await refresh(newApp, 'b', 'user:default/x')).status).toBe(200);

      const stood = await refresh(oldApp, 'c', 'user:default/y');
      expect(stood.status).toBe(503);
      expect(stood.body.error.name).toBe('ServiceUnavailableError');
      expect(oldEngine.calls).toHaveLength(1);
    });
  },
);
