import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { createBackendModule } from '@backstage/backend-plugin-api';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import request from 'supertest';
import { residencyEngineExtensionPoint } from './extensions';
import { residencyPlugin } from './plugin';
import { DIGEST_A, FakeEngine } from './__testUtils__/fixtures';
import { makeEntity, schedulerFromCoreServices } from './__testUtils__/harness';

jest.setTimeout(60_000);

describe('residencyPlugin', () => {
  it('verifies the catalog at startup and serves the API under /api/residency', async () => {
    const engine = new FakeEngine();
    const { server } = await startTestBackend({
      features: [
        residencyPlugin,
        createBackendModule({
          pluginId: 'residency',
          moduleId: 'test-engine',
          register(env) {
            env.registerInit({
              deps: { engine: residencyEngineExtensionPoint },
              async init(deps) {
                deps.engine.setEngine(engine);
              },
            });
          },
        }),
        catalogServiceMock.factory({
          entities: [
            makeEntity('payments', {
              images: `registry.eu/pay@${DIGEST_A}`,
              tenant: 'eu-public',
            }),
            makeEntity('docs'),
          ],
        }),
        schedulerFromCoreServices,
        mockServices.scheduler.factory({
          includeInitialDelayedTasksOnStartup: true,
        }),
        mockServices.rootConfig.factory({
          data: {
            residency: {
              revalidateAfter: { hours: 1 },
              limits: { refreshBatchSize: 10 },
            },
          },
        }),
      ],
    });

    // The full pass ran at startup and evaluated exactly the annotated entity.
    expect(engine.calls.map(c => c.entityRef)).toContain(
      'component:default/payments',
    );
    expect(engine.calls.map(c => c.entityRef)).not.toContain(
      'component:default/docs',
    );

    const status = await request(server)
      .get('/api/residency/entities/component/default/payments/status')
      .set('Authorization', mockCredentials.user.header());
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      decision: 'compliant',
      stale: false,
      tenant: 'eu-public',
    });

    const refreshed = await request(server)
      .post('/api/residency/entities/component/default/payments/refresh')
      .set('Authorization', mockCredentials.user.header());
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.evidenceId).toBe(status.body.evidenceId);

    const list = await request(server)
      .get('/api/residency/entities')
      .set('Authorization', mockCredentials.user.header());
    expect(list.body.items.map((i: any) => i.entityRef)).toEqual([
      'component:default/payments',
    ]);

    const anonymous = await request(server)
      .get('/api/residency/tenants')
      .set('Authorization', mockCredentials.none.header());
    expect(anonymous.status).toBe(401);
  });

  it('loads the real engine from configuration when no module replaces it', async () => {
    const { server } = await startTestBackend({
      features: [
        residencyPlugin,
        catalogServiceMock.factory({
          entities: [
            makeEntity('rogue', {
              images: 'evil.example/app:1\n169.254.169.254/x:1',
              tenant: 'eu',
            }),
          ],
        }),
        schedulerFromCoreServices,
        mockServices.scheduler.factory({
          includeInitialDelayedTasksOnStartup: true,
        }),
        mockServices.rootConfig.factory({
          data: {
            residency: {
              boundaries: { eusc: ['eusc-de-east-1'] },
              registries: [
                { host: 'registry.eu.example', region: 'eusc-de-east-1' },
              ],
              tenants: { eu: { boundary: 'eusc' } },
            },
          },
        }),
      ],
    });
    const res = await request(server)
      .get('/api/residency/entities/component/default/rogue/status')
      .set('Authorization', mockCredentials.user.header());
    expect(res.status).toBe(200);
    expect(res.body.decision).toBe('invalid');
    expect(
      res.body.images.flatMap((i: any) => i.reasons.map((r: any) => r.code)),
    ).toEqual(['registry_not_allowed', 'registry_not_allowed']);
    const tenants = await request(server)
      .get('/api/residency/tenants')
      .set('Authorization', mockCredentials.user.header());
    expect(tenants.body.items).toEqual([
      expect.objectContaining({
        id: 'eu',
        counts: { compliant: 0, non_compliant: 0, unknown: 0, invalid: 1 },
      }),
    ]);
  });
});
