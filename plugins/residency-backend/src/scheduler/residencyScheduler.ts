import {
  coreServices,
  createServiceFactory,
  createServiceRef,
  type HttpAuthService,
  type HttpRouterService,
  type SchedulerService,
} from '@backstage/backend-plugin-api';
import { metricsServiceRef } from '@backstage/backend-plugin-api/alpha';
import { DefaultSchedulerService } from '@backstage/backend-defaults/scheduler';
import type { Handler } from 'express';
import Router from 'express-promise-router';

/** Where Backstage's scheduler mounts its REST API on every plugin's base URL. */
export const SCHEDULER_ROUTE_PREFIX = '/.backstage/scheduler/';

/**
 * An HTTP router for the scheduler that lets only service principals reach the
 * handlers the scheduler mounts (list, trigger, cancel of our tasks).
 *
 * Why: Backstage's scheduler mounts `/.backstage/scheduler/v1/tasks` on the
 * plugin's router with only the default credentials barrier, so any signed-in
 * user could trigger or cancel the refresh (backstage/backstage#30049 asks for a
 * permission; nothing upstream restricts it yet). Refreshing as a user goes
 * through our own `residency.refresh`-checked endpoint instead.
 */
export function serviceOnlyHttpRouter(options: {
  httpRouter: HttpRouterService;
  httpAuth: HttpAuthService;
}): HttpRouterService {
  const { httpRouter, httpAuth } = options;
  return {
    use(handler: Handler) {
      // A router (not a closure) so route listings still see the scheduler's routes.
      const guarded = Router();
      guarded.use(SCHEDULER_ROUTE_PREFIX, async (req, _res, next) => {
        // Throws AuthenticationError (401) without credentials and
        // NotAllowedError (403) for users; the plugin's error handler renders both.
        await httpAuth.credentials(req, { allow: ['service'] });
        next();
      });
      guarded.use(handler);
      httpRouter.use(guarded);
    },
    addAuthPolicy(policy) {
      httpRouter.addAuthPolicy(policy);
    },
  };
}

/**
 * The scheduler the residency plugin runs its refresh tasks on: Backstage's
 * default scheduler, with its REST API closed to users (service principals only).
 *
 * @public
 */
export const residencySchedulerServiceRef = createServiceRef<SchedulerService>({
  id: 'residency.scheduler',
  scope: 'plugin',
  defaultFactory: async service =>
    createServiceFactory({
      service,
      deps: {
        database: coreServices.database,
        logger: coreServices.logger,
        rootLifecycle: coreServices.rootLifecycle,
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        pluginMetadata: coreServices.pluginMetadata,
        metrics: metricsServiceRef,
      },
      factory: deps =>
        DefaultSchedulerService.create({
          database: deps.database,
          logger: deps.logger,
          rootLifecycle: deps.rootLifecycle,
          pluginMetadata: deps.pluginMetadata,
          metrics: deps.metrics,
          httpRouter: serviceOnlyHttpRouter(deps),
        }),
    }),
});
