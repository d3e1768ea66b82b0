import {
  createApiFactory,
  createComponentExtension,
  createPlugin,
  createRoutableExtension,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { residencyApiRef, ResidencyClient } from './api';
import { rootRouteRef } from './routes';

/**
 * The Residency frontend plugin for the legacy frontend system.
 *
 * @public
 */
export const residencyPlugin = createPlugin({
  id: 'residency',
  apis: [
    createApiFactory({
      api: residencyApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        new ResidencyClient({ discoveryApi, fetchApi }),
    }),
  ],
  routes: { root: rootRouteRef },
});

/**
 * The residency card for an entity's overview tab.
 *
 * @public
 */
export const EntityResidencyCard = residencyPlugin.provide(
  createComponentExtension({
    name: 'EntityResidencyCard',
    component: {
      lazy: () =>
        import('./components/EntityResidencyCard').then(
          m => m.EntityResidencyCard,
        ),
    },
  }),
);

/**
 * The compact residency card for the top of an entity's overview.
 *
 * @public
 */
export const EntityResidencySummaryCard = residencyPlugin.provide(
  createComponentExtension({
    name: 'EntityResidencySummaryCard',
    component: {
      lazy: () =>
        import('./components/EntityResidencyCard').then(
          m => m.EntityResidencySummaryCard,
        ),
    },
  }),
);

/**
 * The "Residency" entity tab: per-image detail and evidence history.
 *
 * @public
 */
export const EntityResidencyContent = residencyPlugin.provide(
  createComponentExtension({
    name: 'EntityResidencyContent',
    component: {
      lazy: () =>
        import('./components/EntityResidencyContent').then(
          m => m.EntityResidencyContent,
        ),
    },
  }),
);

/**
 * The Residency page (mount it at `/residency`).
 *
 * @public
 */
export const ResidencyPage = residencyPlugin.provide(
  createRoutableExtension({
    name: 'ResidencyPage',
    component: () =>
      import('./components/ResidencyPage').then(m => m.ResidencyPage),
    mountPoint: rootRouteRef,
  }),
);
