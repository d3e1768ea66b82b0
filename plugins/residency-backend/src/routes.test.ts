/*
 * Every route mounted under /api/residency, not only those of our spec: the
 * backend is started with the real Backstage scheduler (which mounts
 * /.backstage/scheduler/v1/tasks on the plugin's router), the Express stack is
 * walked, and each route found is called as nobody, as a signed-in user and as a
 * service. A route that is neither in openapi.yaml nor in the list of framework
 * routes below fails the test, so a new route has to be classified here.
 */
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { createBackendModule } from '@backstage/backend-plugin-api';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import request from 'supertest';
import { parse } from 'yaml';
import { residencyEngineExtensionPoint } from './extensions';
import { residencyPlugin } from './plugin';
import { DIGEST_A, FakeEngine } from './__testUtils__/fixtures';
import { makeEntity } from './__testUtils__/harness';

jest.setTimeout(60_000);

type Route = { method: string; path: string };

/** Express 4 keeps a mount path only as a regular expression; turn it back. */
function mountPathOf(layer: any): string {
  if (layer.regexp?.fast_slash) return '';
  const source: string = layer.regexp?.source ?? '';
  return source
    .replace(/^\^/, '')
    .replace(/\\\/\?\(\?=\\\/\|\$\)$/, '')
    .replace(/\\\//g, '/');
}

function collectRoutes(stack: any[], prefix: string, out: Route[]) {
  for (const layer of stack) {
    if (layer.route) {
      for (const method of Object.keys(layer.route.methods)) {
        if (method === '_all') continue;
        out.push({ method, path: prefix + layer.route.path });
      }
    } else if (Array.isArray(layer.handle?.stack)) {
      collectRoutes(layer.handle.stack, prefix + mountPathOf(layer), out);
    }
  }
}

function routesUnder(server: Server, base: string): Route[] {
  const app = server.listeners('request')[0] as any;
  const out: Route[] = [];
  collectRoutes(app._router.stack, '', out);
  return out.filter(r => r.path.startsWith(base));
}

const spec = parse(
  readFileSync(join(__dirname, 'schema', 'openapi.yaml'), 'utf8'),
);
const specRoutes: Route[] = Object.entries(spec.paths).flatMap(
  ([path, ops]: [string, any]) =>
    Object.keys(ops)
      .filter(m => ['get', 'post', 'put', 'delete', 'patch'].includes(m))
      .map(method => ({
        method,
        path: `/api/residency${path.replace(/\{(\w+)\}/g, ':$1')}`,
      })),
);

/** Routes the Backstage framework mounts on every plugin, and who may call them. */
const FRAMEWORK_ROUTES: Record<string, 'public' | 'signed-in' | 'service'> = {
  // Public keys for verifying this plugin's tokens: public by design.
  'get /api/residency/.backstage/auth/v1/jwks.json': 'public',
  // The user's session cookie for this plugin (issue and clear).
  'get /api/residency/.backstage/auth/v1/cookie': 'signed-in',
  'delete /api/residency/.backstage/auth/v1/cookie': 'signed-in',
  // The permission framework's integration routes (permissionsRegistry).
  'get /api/residency/.well-known/backstage/permissions/metadata': 'signed-in',
  'post /api/residency/.well-known/backstage/permissions/apply-conditions':
    'service',
  // The spec itself, served by the validated router (backend-openapi-utils).
  'get /api/residency/openapi.json': 'signed-in',
  'get /api/residency/.backstage/scheduler/v1/tasks': 'service',
  'post /api/residency/.backstage/scheduler/v1/tasks/:id/trigger': 'service',
  'post /api/residency/.backstage/scheduler/v1/tasks/:id/cancel': 'service',
};

const SAMPLE_PARAMS: Record<string, string> = {
  kind: 'component',
  namespace: 'default',
  name: 'payments',
  id: 'residency-refresh',
};

function concrete(path: string, params = SAMPLE_PARAMS): string {
  return path.replace(/:(\w+)/g, (_, p) => params[p] ?? 'x');
}

describe('every route under /api/residency', () => {
  let server: Server;
  let routes: Route[];

  beforeAll(async () => {
    const engine = new FakeEngine();
    ({ server } = await startTestBackend({
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
          ],
        }),
        mockServices.rootConfig.factory({ data: { residency: {} } }),
      ],
    }));
    routes = routesUnder(server, '/api/residency');
  });

  it('finds our spec routes and the scheduler routes, and nothing unclassified', () => {
    const keys = routes.map(r => `${r.method} ${r.path}`);
    for (const r of specRoutes) {
      expect(keys).toContain(`${r.method} ${r.path}`);
    }
    expect(keys).toEqual(
      expect.arrayContaining([
        'get /api/residency/.backstage/scheduler/v1/tasks',
        'post /api/residency/.backstage/scheduler/v1/tasks/:id/trigger',
        'post /api/residency/.backstage/scheduler/v1/tasks/:id/cancel',
      ]),
    );
    const known = new Set([
      ...specRoutes.map(r => `${r.method} ${r.path}`),
      ...Object.keys(FRAMEWORK_ROUTES),
    ]);
    expect(keys.filter(k => !known.has(k))).toEqual([]);
  });

  it('answers 401 to a caller without credentials on every non-public route', async () => {
    const checked: string[] = [];
    for (const route of routes) {
      const key = `${route.method} ${route.path}`;
      if (FRAMEWORK_ROUTES[key] === 'public') continue;
      const res = await (request(server) as any)
        [route.method](concrete(route.path))
        .set('Authorization', mockCredentials.none.header());
      expect({ key, status: res.status }).toEqual({ key, status: 401 });
      checked.push(key);
    }
    expect(checked.length).toBe(routes.length - 1);
  });

  it('answers 403 to a signed-in user on service-only routes (scheduler list, trigger, cancel)', async () => {
    const serviceRoutes = routes.filter(
      r => FRAMEWORK_ROUTES[`${r.method} ${r.path}`] === 'service',
    );
    expect(serviceRoutes.map(r => r.path)).toEqual(
      expect.arrayContaining([
        '/api/residency/.backstage/scheduler/v1/tasks',
        '/api/residency/.backstage/scheduler/v1/tasks/:id/trigger',
        '/api/residency/.backstage/scheduler/v1/tasks/:id/cancel',
      ]),
    );
    for (const route of serviceRoutes) {
      const res = await (request(server) as any)
        [route.method](concrete(route.path))
        .set('Authorization', mockCredentials.user.header());
      expect({ path: route.path, status: res.status }).toEqual({
        path: route.path,
        status: 403,
      });
    }
  });

  it('still lets a service principal list the refresh tasks', async () => {
    const res = await request(server)
      .get('/api/residency/.backstage/scheduler/v1/tasks')
      .set('Authorization', mockCredentials.service.header());
    expect(res.status).toBe(200);
    expect(res.body.tasks.map((t: any) => t.taskId).sort()).toEqual([
      'residency-exceptions',
      'residency-refresh',
      'residency-refresh-delta',
    ]);
  });
});
