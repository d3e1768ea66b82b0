import {
  mockServices,
  type TestDatabaseId,
  type TestDatabases,
} from '@backstage/backend-test-utils';
import {
  coreServices,
  createServiceFactory,
  type BackstageCredentials,
  type PermissionsService,
} from '@backstage/backend-plugin-api';
import type { Entity } from '@backstage/catalog-model';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  ANNOTATION_IMAGES,
  ANNOTATION_REGION,
  ANNOTATION_TENANT,
} from '@residency-dev/plugin-residency-common';
import { DatabaseResidencyStore } from '../database/DatabaseResidencyStore';
import { EntityEvaluator } from '../refresh/EntityEvaluator';
import { FakeEngine } from './fixtures';
import { residencySchedulerServiceRef } from '../scheduler/residencyScheduler';

export const OUTSIDER = 'user:default/outsider';
export const DEVELOPER = 'user:default/dev';
export const AUDITOR = 'user:default/auditor';
export const OWNER = 'user:default/owner';

export function makeEntity(
  name: string,
  options: {
    images?: string;
    tenant?: string;
    region?: string;
    title?: string;
  } = {},
): Entity {
  const annotations: Record<string, string> = {};
  if (options.images !== undefined)
    annotations[ANNOTATION_IMAGES] = options.images;
  if (options.tenant) annotations[ANNOTATION_TENANT] = options.tenant;
  if (options.region) annotations[ANNOTATION_REGION] = options.region;
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name,
      namespace: 'default',
      ...(options.title ? { title: options.title } : {}),
      annotations,
    },
    spec: { type: 'service', owner: 'team', lifecycle: 'production' },
  };
}

function userOf(options?: {
  credentials?: BackstageCredentials;
}): string | undefined {
  const p = options?.credentials?.principal as
    | { type: string; userEntityRef?: string }
    | undefined;
  return p?.type === 'user' ? p.userEntityRef : undefined;
}

/**
 * A catalog over a mutable entity list where `user:default/outsider` can read
 * nothing (everyone else reads everything).
 */
export function visibilityCatalog(entities: Entity[]): CatalogService {
  const current = () => catalogServiceMock({ entities });
  return {
    getEntityByRef: async (ref: string, options: any) =>
      userOf(options) === OUTSIDER
        ? undefined
        : current().getEntityByRef(ref, options),
    getEntitiesByRefs: async (request: any, options: any) =>
      userOf(options) === OUTSIDER
        ? { items: request.entityRefs.map(() => undefined) }
        : current().getEntitiesByRefs(request, options),
    streamEntities: (request: any, options: any) =>
      current().streamEntities(request, options),
  } as unknown as CatalogService;
}

/** Developers may read status only; auditors also evidence; owners everything. */
export function rolePermissions(): PermissionsService {
  return mockServices.permissions.mock({
    authorize: jest.fn(async (requests: any[], options: any) => {
      const user = userOf(options);
      return requests.map(r => {
        const name: string = r.permission.name;
        const allowed =
          user === OWNER ||
          (user === AUDITOR && name === 'residency.evidence.read');
        return {
          result: allowed ? AuthorizeResult.ALLOW : AuthorizeResult.DENY,
        };
      });
    }) as any,
  });
}

export async function createStoreOn(
  databases: TestDatabases,
  id: TestDatabaseId,
) {
  const knex = await databases.init(id);
  const store = await DatabaseResidencyStore.create({
    database: mockServices.database({ knex }),
  });
  return { knex, store };
}

export function createEvaluator(
  store: DatabaseResidencyStore,
  engine = new FakeEngine(),
) {
  return {
    engine,
    evaluator: new EntityEvaluator({
      engine,
      store,
      revalidateAfterSeconds: 3600,
    }),
  };
}

/**
 * Runs the plugin's tasks on the backend's `coreServices.scheduler` (in tests the
 * mock scheduler, which can run tasks at startup) instead of the default
 * Backstage scheduler behind {@link residencySchedulerServiceRef}.
 */
export const schedulerFromCoreServices = createServiceFactory({
  service: residencySchedulerServiceRef,
  deps: { scheduler: coreServices.scheduler },
  factory: ({ scheduler }) => scheduler,
});
