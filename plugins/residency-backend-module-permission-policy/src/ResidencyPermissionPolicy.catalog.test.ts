/*
 * The policy's conditions evaluated by a real catalog against real entities, as
 * the permission backend has them evaluated. A data protection officer who
 * is also a developer may refresh the services their groups own, and no others.
 */
import { createBackendModule } from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import {
  catalogConditions,
  createCatalogConditionalDecision,
} from '@backstage/plugin-catalog-backend/alpha';
import { catalogProcessingExtensionPoint } from '@backstage/plugin-catalog-node';
import {
  AuthorizeResult,
  type PolicyDecision,
  type ResourcePermission,
} from '@backstage/plugin-permission-common';
import request from 'supertest';
import {
  residencyExceptionApprovePermission,
  residencyRefreshPermission,
} from '@residency-dev/plugin-residency-common';
import {
  DEFAULT_ROLE_GROUPS,
  ResidencyPermissionPolicy,
  unionOfDecisions,
} from './ResidencyPermissionPolicy';

jest.setTimeout(120_000);

const GROUPS: Record<string, string[]> = {
  'user:default/dora': ['group:default/dpo', 'group:default/developers'],
  'user:default/plain-dpo': ['group:default/dpo'],
};

const component = (name: string, owner: string): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name,
    annotations: {
      'backstage.io/managed-by-location': 'url:https://example.com/x',
      'backstage.io/managed-by-origin-location': 'url:https://example.com/x',
    },
  },
  spec: { type: 'service', lifecycle: 'production', owner },
});

/** Puts two services in the catalog: one of the developers, one of another team. */
const entities = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'test-entities',
  register(env) {
    env.registerInit({
      deps: { processing: catalogProcessingExtensionPoint },
      async init({ processing }) {
        processing.addEntityProvider({
          getProviderName: () => 'test-entities',
          connect: async connection => {
            await connection.applyMutation({
              type: 'full',
              entities: [
                component('payments', 'group:default/developers'),
                component('billing', 'group:default/other-team'),
              ].map(entity => ({
                entity,
                locationKey: 'test-entities',
              })),
            });
          },
        });
      },
    });
  },
});

describe('the policy with the catalog evaluating its conditions', () => {
  let server: Awaited<ReturnType<typeof startTestBackend>>['server'];
  let stop: () => Promise<void>;
  const policy = new ResidencyPermissionPolicy({
    groups: DEFAULT_ROLE_GROUPS,
    userInfo: {
      async getUserInfo(credentials: any) {
        const ref = credentials.principal.userEntityRef as string;
        return {
          userEntityRef: ref,
          ownershipEntityRefs: [ref, ...GROUPS[ref]],
        };
      },
    },
  });

  beforeAll(async () => {
    const backend = await startTestBackend({
      features: [
        catalogPlugin,
        entities,
        mockServices.rootConfig.factory({
          data: { catalog: { processingInterval: { seconds: 1 } } },
        }),
      ],
    });
    server = backend.server;
    stop = () => backend.stop();
    // Wait until the catalog has stitched both services.
    for (let i = 0; i < 120; i++) {
      const res = await request(server)
        .get('/api/catalog/entities/by-query?filter=kind=component')
        .set('Authorization', mockCredentials.service.header());
      if (res.body?.items?.length === 2) return;
      await new Promise(r => setTimeout(r, 250));
    }
    throw new Error('the catalog never listed the test services');
  });
  afterAll(() => stop?.());

  /**
   * What the permission backend does with a decision: a conditional one is
   * sent to the catalog, which applies it to the entity.
   */
  const resolve = async (decision: PolicyDecision, name: string) => {
    if (decision.result !== AuthorizeResult.CONDITIONAL) return decision.result;
    expect(decision.pluginId).toBe('catalog');
    const res = await request(server)
      .post('/api/catalog/.well-known/backstage/permissions/apply-conditions')
      .set('Authorization', mockCredentials.service.header())
      .send({
        items: [
          {
            id: '1',
            resourceRef: `component:default/${name}`,
            resourceType: decision.resourceType,
            conditions: decision.conditions,
          },
        ],
      });
    expect(res.status).toBe(200);
    return res.body.items[0].result as AuthorizeResult;
  };
  const authorize = async (
    user: string,
    permission: ResourcePermission<'catalog-entity'>,
    name: string,
  ) =>
    resolve(
      await policy.handle(
        { permission, resourceRef: `component:default/${name}` } as any,
        { credentials: mockCredentials.user(user), info: {} as any },
      ),
      name,
    );

  it('lets a DPO who develops refresh their own service, not others, and still approve', async () => {
    const dora = 'user:default/dora';
    expect(await authorize(dora, residencyRefreshPermission, 'payments')).toBe(
      AuthorizeResult.ALLOW,
    );
    expect(await authorize(dora, residencyRefreshPermission, 'billing')).toBe(
      AuthorizeResult.DENY,
    );
    expect(
      await authorize(dora, residencyExceptionApprovePermission, 'billing'),
    ).toBe(AuthorizeResult.ALLOW);
  });

  it('leaves a plain DPO without refresh', async () => {
    for (const name of ['payments', 'billing']) {
      expect(
        await authorize(
          'user:default/plain-dpo',
          residencyRefreshPermission,
          name,
        ),
      ).toBe(AuthorizeResult.DENY);
    }
  });

  it('the catalog applies combined conditions as anyOf', async () => {
    const owner = (group: string) =>
      createCatalogConditionalDecision(
        residencyRefreshPermission,
        catalogConditions.isEntityOwner({ claims: [group] }),
      );
    const either = unionOfDecisions(residencyRefreshPermission, [
      owner('group:default/team-a'),
      owner('group:default/developers'),
    ]);
    expect(either).toMatchObject({ conditions: { anyOf: expect.any(Array) } });
    expect(await resolve(either, 'payments')).toBe(AuthorizeResult.ALLOW);
    expect(await resolve(either, 'billing')).toBe(AuthorizeResult.DENY);
    const neither = unionOfDecisions(residencyRefreshPermission, [
      owner('group:default/team-a'),
      owner('group:default/team-b'),
    ]);
    expect(await resolve(neither, 'payments')).toBe(AuthorizeResult.DENY);
  });
});
