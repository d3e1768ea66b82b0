import { Navigate, Route, Routes } from 'react-router-dom';
import { ErrorPage } from '@backstage/core-components';
import {
  createFrontendModule,
  PageBlueprint,
} from '@backstage/frontend-plugin-api';

/**
 * `/` sends people to the catalog (where the residency column shows every
 * service's status), so sign-in never lands on a 404. Other unknown paths
 * still get the 404 page.
 */
export function HomeRedirect() {
  return (
    <Routes>
      <Route path="/" element={<Navigate to="/catalog" replace />} />
      <Route
        path="*"
        element={<ErrorPage status="404" statusMessage="Page not found" />}
      />
    </Routes>
  );
}

const homePage = PageBlueprint.make({
  name: 'home',
  params: {
    path: '/',
    loader: async () => <HomeRedirect />,
  },
});

export const homeModule = createFrontendModule({
  pluginId: 'app',
  extensions: [homePage],
});
