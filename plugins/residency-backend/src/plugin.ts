import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import type { JsonObject } from '@backstage/types';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { residencyPermissions } from '@residency-dev/plugin-residency-common';
import {
  DefaultResidencyEngine,
  loadResidencySettings,
  type ResidencyEngine,
} from '@residency-dev/plugin-residency-node';
import { createVsaWiring } from './vsa/wiring';
import { readResidencyBackendOptions } from './config';
import { assertNoUnsetResidencyVariables } from './unsetVariables';
import { DatabaseResidencyStore } from './database/DatabaseResidencyStore';
import { residencyEngineExtensionPoint } from './extensions';
import { afterRecorded } from './refresh/afterRecorded';
import { EntityEvaluator } from './refresh/EntityEvaluator';
import { ResidencyRefresher } from './refresh/ResidencyRefresher';
import { AuthorizedResidencyService } from './service/AuthorizedResidencyService';
import { DefaultResidencyService } from './service/DefaultResidencyService';
import { createRouter } from './service/router';
import { residencySchedulerServiceRef } from './scheduler/residencyScheduler';
import { notificationService } from '@backstage/plugin-notifications-node';
import { signalsServiceRef } from '@backstage/plugin-signals-node';
import { createExceptionWiring } from './exceptions/wiring';

/**
 * The Residency backend plugin: scheduled verification of the catalog, status and
 * hash-chained evidence in the database, and the permissioned API under /api/residency.
 *
 * @public
 */
export const residencyPlugin = createBackendPlugin({
  pluginId: 'residency',
  register(env) {
    let engineOverride: ResidencyEngine | undefined;
    env.registerExtensionPoint(residencyEngineExtensionPoint, {
      setEngine(engine) {
        if (engineOverride) {
          throw new Error(
            'The residency engine was already set by another module',
          );
        }
        engineOverride = engine;
      },
    });

    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        lifecycle: coreServices.lifecycle,
        database: coreServices.database,
        scheduler: residencySchedulerServiceRef,
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        auth: coreServices.auth,
        auditor: coreServices.auditor,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        catalog: catalogServiceRef,
        notifications: notificationService,
        signals: signalsServiceRef,
      },
      async init(deps) {
        // Like the CLI: an unset ${VAR} under residency: is an error, not a dropped key.
        await assertNoUnsetResidencyVariables({ config: deps.config });
        const options = readResidencyBackendOptions(deps.config);
        const engine =
          engineOverride ??
          DefaultResidencyEngine.create({
            settings: loadResidencySettings(deps.config),
            logger: {
              info: (message, meta) =>
                deps.logger.info(message, meta as JsonObject),
              warn: (message, meta) =>
                deps.logger.warn(message, meta as JsonObject),
              error: (message, meta) =>
                deps.logger.error(message, meta as JsonObject),
            },
          });
        if (!engineOverride) {
          deps.lifecycle.addShutdownHook(async () => {
            await engine.close?.();
          });
        }
        const store = await DatabaseResidencyStore.create({
          database: deps.database,
          logger: deps.logger,
        });
        const vsa = await createVsaWiring({
          config: deps.config,
          settings: engine.settings,
          database: deps.database,
          store,
          logger: deps.logger,
        });
        const exceptions = await createExceptionWiring({
          config: deps.config,
          database: deps.database,
          store,
          catalog: deps.catalog,
          permissions: deps.permissions,
          auditor: deps.auditor,
          logger: deps.logger,
          notifications: deps.notifications,
          signals: deps.signals,
          ...(vsa ? { signer: vsa.signer } : {}),
        });
        const evaluator = new EntityEvaluator({
          engine,
          store,
          revalidateAfterSeconds: options.revalidateAfterSeconds,
          // VSAs, the state with exceptions (and its alerts), the signal that
          // open tabs reload; none throws
          onRecorded: afterRecorded({
            ...(vsa ? { vsa: vsa.issuer } : {}),
            tracker: exceptions.tracker,
            signals: exceptions.signals,
          }),
        });

        const refresher = ResidencyRefresher.create({
          catalog: deps.catalog,
          auth: deps.auth,
          store,
          evaluator,
          logger: deps.logger,
          schedule: options.schedule,
          batchSize: options.batchSize,
          leaseSeconds: options.leaseSeconds,
          entityConcurrency: options.entityConcurrency,
          keepRecordsPerEntity: options.keepRecordsPerEntity,
        });
        await refresher.schedule({
          scheduler: deps.scheduler,
          schedule: options.schedule,
          deltaSchedule: options.deltaSchedule,
        });

        deps.permissionsRegistry.addPermissions(residencyPermissions);
        const service = new AuthorizedResidencyService({
          inner: DefaultResidencyService.create({
            store,
            evaluator,
            catalog: deps.catalog,
            auth: deps.auth,
          }),
          catalog: deps.catalog,
          permissions: deps.permissions,
        });
        await exceptions.schedule(deps.scheduler);
        deps.httpRouter.use(
          await createRouter({
            httpAuth: deps.httpAuth,
            auditor: deps.auditor,
            logger: deps.logger,
            service,
            ...(vsa ? { vsa: vsa.store } : {}),
            exceptions: {
              service: exceptions.service,
              tracker: exceptions.tracker,
              store,
            },
          }),
        );
      },
    });
  },
});
