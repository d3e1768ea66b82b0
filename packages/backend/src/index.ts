/*
 * The Residency portal's backend: only what the product needs. The app backend
 * serves the built frontend, auth signs users in (guest provider for local use),
 * the catalog holds the services, the permission framework decides who may see
 * evidence, refresh checks and review tenants (Residency's three-role policy,
 * groups from `residency.roles`), and the residency plugin does the work.
 */
import { createBackend } from '@backstage/backend-defaults';
import { demoSignInModule } from './demoSignIn';

const backend = createBackend();

backend.add(import('@backstage/plugin-app-backend'));
backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));
// Sign in as one demo user per role (auth.providers.demo.users); off when not configured.
backend.add(demoSignInModule);
backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(import('@backstage/plugin-permission-backend'));
// Residency alerts (worsened residency, exceptions about to expire) and live updates
backend.add(import('@backstage/plugin-notifications-backend'));
backend.add(import('@backstage/plugin-signals-backend'));
// The event bus behind signals: a signal published on one replica (a refresh, an
// exception expiring) reaches browsers connected to any replica (PostgreSQL).
backend.add(import('@backstage/plugin-events-backend'));
backend.add(
  import('@residency-dev/plugin-permission-backend-module-residency-policy'),
);
backend.add(import('@residency-dev/plugin-residency-backend'));

backend.start();
