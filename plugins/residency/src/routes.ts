import { createRouteRef } from '@backstage/core-plugin-api';

/** The Residency page. @public */
export const rootRouteRef = createRouteRef({ id: 'residency' });
