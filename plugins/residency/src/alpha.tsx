import {
  ApiBlueprint,
  PageBlueprint,
  createFrontendPlugin,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/frontend-plugin-api';
import {
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import VerifiedUserIcon from '@material-ui/icons/VerifiedUser';
import { residencyApiRef, ResidencyClient } from './api';
import { isResidencyAvailable } from './helpers';
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

/** The overview card, shown only on entities with `residency.dev/images`. @alpha */
export const residencyEntityCard = EntityCardBlueprint.make({
  name: 'residency',
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
    filter: isResidencyAvailable,
    loader: () =>
      import('./components/EntityResidencyContent').then(m => (
        <m.EntityResidencyContent />
      )),
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
    residencyEntityCard,
    residencyEntityContent,
    residencyPage,
  ],
});
