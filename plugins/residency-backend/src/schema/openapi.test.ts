import { mockServices } from '@backstage/backend-test-utils';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createRouter } from '../service/router';
import { createComplianceHistoryRouter } from '../service/complianceHistory';
import { createExceptionsRouter } from '../exceptions/router';
import type { ExceptionService } from '../exceptions/ExceptionService';
import type { EntityStateTracker } from '../exceptions/EntityStateTracker';
import { specErrors } from '../__testUtils__/openapi';
import type { ResidencyService } from '../service/ResidencyService';

// The router is hand-written (the repo-tools generator needs a Java jar that is not
// reachable offline); this test keeps the spec and the routes in step.
describe('openapi.yaml', () => {
  it('describes exactly the routes the router serves', async () => {
    const spec = parse(readFileSync(join(__dirname, 'openapi.yaml'), 'utf8'));
    const documented = Object.entries(spec.paths as Record<string, object>)
      .flatMap(([path, ops]) =>
        Object.keys(ops).map(
          m => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`,
        ),
      )
      .sort();

    const router = await createRouter({
      httpAuth: mockServices.httpAuth(),
      auditor: mockServices.auditor.mock(),
      logger: mockServices.logger.mock(),
      service: {} as ResidencyService,
    });
    const compliance = await createComplianceHistoryRouter({
      httpAuth: mockServices.httpAuth(),
      permissions: mockServices.permissions(),
      database: mockServices.database.mock(),
    });
    const exceptions = await createExceptionsRouter({
      httpAuth: mockServices.httpAuth(),
      auditor: mockServices.auditor.mock(),
      service: {} as ExceptionService,
      tracker: {} as EntityStateTracker,
      store: { getStatus: async () => undefined },
    });
    const served = [
      ...(router as any).stack,
      ...(compliance as any).stack,
      ...(exceptions as any).stack,
    ]
      .filter((layer: any) => layer.route)
      .flatMap((layer: any) =>
        Object.keys(layer.route.methods).map(
          m => `${m.toUpperCase()} ${layer.route.path}`,
        ),
      )
      .sort();

    expect(served).toEqual(documented);
  });

  it('documents 401 on every operation', () => {
    const spec = parse(readFileSync(join(__dirname, 'openapi.yaml'), 'utf8'));
    for (const ops of Object.values(spec.paths as Record<string, any>)) {
      for (const op of Object.values(ops as Record<string, any>)) {
        expect(Object.keys(op.responses)).toContain('401');
      }
    }
  });

  it('rejects bodies that do not match (the conformance checks have teeth)', () => {
    expect(
      specErrors({
        method: 'get',
        path: '/tenants',
        status: 200,
        body: { items: [{ id: 1 }] },
      }),
    ).not.toEqual([]);
    expect(
      specErrors({
        method: 'get',
        path: '/entities/{kind}/{namespace}/{name}/evidence/verify',
        status: 200,
        body: { entityRef: 'component:default/x', ok: 'yes', length: 1 },
      }),
    ).toEqual(['/ok must be boolean']);
  });
});
