import {
  ApiBlueprint,
  PageBlueprint,
  createFrontendPlugin,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/frontend-plugin-api';
import {
  CatalogFilterBlueprint,
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import VerifiedUserIcon from '@material-ui/icons/VerifiedUser';
import { residencyApiRef, ResidencyClient } from './api';
import { isResidencyApplicable, isResidencyAvailable } from './helpers';
import { rootRouteRef } from './routes';

/** @alpha */
export const residencyApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: residencyApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        new ResidencyClient({ discoveryApi, fetchApi }),
    }),
});

/**
 * The compact card for the top of an entity's overview: verdict, failing
 * images, a link to the tab; onboarding steps for components without the
 * annotations. List `entity-card:residency/summary` first under
 * `app.extensions` to place it above the other cards.
 *
 * @alpha
 */
export const residencyEntitySummaryCard = EntityCardBlueprint.make({
  name: 'summary',
  params: {
    filter: isResidencyApplicable,
    loader: () =>
      import('./components/EntityResidencyCard').then(m => (
        <m.EntityResidencySummaryCard />
      )),
  },
});

/**
 * The full card (every image with reasons, fixes and raw details), shown only
 * on entities with `residency.dev/images`. Disabled by default: the summary
 * card and the Residency tab cover the overview; enable it in `app.extensions`.
 *
 * @alpha
 */
export const residencyEntityCard = EntityCardBlueprint.make({
  name: 'residency',
  disabled: true,
  params: {
    filter: isResidencyAvailable,
    loader: () =>
      import('./components/EntityResidencyCard').then(m => (
        <m.EntityResidencyCard />
      )),
  },
});

/** The "Residency" entity tab. @alpha */
export const residencyEntityContent = EntityContentBlueprint.make({
  name: 'residency',
  params: {
    path: 'residency',
    title: 'Residency',
    filter: isResidencyApplicable,
    loader: () =>
      import('./components/EntityResidencyContent').then(m => (
        <m.EntityResidencyContent />
      )),
  },
});

/** A "Residency" picker in the catalog's filters. @alpha */
export const residencyCatalogFilter = CatalogFilterBlueprint.make({
  name: 'residency',
  params: {
    loader: () =>
      import('./components/Catalog').then(m => <m.ResidencyCatalogFilter />),
  },
});

/** The Residency page; its title and icon also make the sidebar item. @alpha */
export const residencyPage = PageBlueprint.make({
  params: {
    path: '/residency',
    title: 'Residency',
    icon: <VerifiedUserIcon fontSize="inherit" />,
    routeRef: rootRouteRef,
    noHeader: true,
    loader: () =>
      import('./components/ResidencyPage').then(m => <m.ResidencyPage />),
  },
});

/**
 * The Residency plugin for the new frontend system.
 *
 * @alpha
 */
export default createFrontendPlugin({
  pluginId: 'residency',
  info: { packageJson: () => import('../package.json') },
  routes: { root: rootRouteRef },
  extensions: [
    residencyApi,
    residencyEntitySummaryCard,
    residencyEntityCard,
    residencyEntityContent,
    residencyCatalogFilter,
    residencyPage,
  ],
});
