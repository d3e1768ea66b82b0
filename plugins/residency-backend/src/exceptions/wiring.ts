import {
  readSchedulerServiceTaskScheduleDefinitionFromConfig,
  type AuditorService,
  type DatabaseService,
  type LoggerService,
  type PermissionsService,
  type SchedulerService,
  type SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import type { NotificationService } from '@backstage/plugin-notifications-node';
import type { SignalsService } from '@backstage/plugin-signals-node';
import type { VsaSigner } from '@residency-dev/plugin-residency-node';
import type { ResidencyStore } from '../database/ResidencyStore';
import { EntityStateTracker } from './EntityStateTracker';
import { ExceptionService } from './ExceptionService';
import { ExceptionStore } from './ExceptionStore';
import { ResidencyAlerts } from './ResidencyAlerts';
import { readExceptionSettings } from './settings';
import { ResidencySignals } from '../signals/ResidencySignals';

/** Stable id of the scheduled exception pass (expiry, expiring-soon notices). */
export const EXCEPTION_TASK_ID = 'residency-exceptions';

/** The exception workflow and alerts, built once per plugin instance. */
export async function createExceptionWiring(options: {
  config: Config;
  database: DatabaseService;
  store: ResidencyStore;
  catalog: CatalogService;
  permissions: PermissionsService;
  auditor: AuditorService;
  logger: LoggerService;
  notifications?: NotificationService;
  signals?: SignalsService;
  signer?: VsaSigner;
}) {
  const settings = readExceptionSettings(options.config);
  const scheduleConfig = options.config.getOptionalConfig(
    'residency.exceptions.schedule',
  );
  const schedule: SchedulerServiceTaskScheduleDefinition = scheduleConfig
    ? readSchedulerServiceTaskScheduleDefinitionFromConfig(scheduleConfig)
    : {
        frequency: { minutes: 1 },
        timeout: { minutes: 5 },
        initialDelay: { seconds: 20 },
      };
  const signals = new ResidencySignals({
    signals: options.signals,
    logger: options.logger,
  });
  const exceptions = new ExceptionStore(await options.database.getClient());
  const alerts = new ResidencyAlerts({
    notifications: options.notifications,
    store: exceptions,
    settings,
    logger: options.logger,
  });
  const tracker = new EntityStateTracker({
    store: options.store,
    exceptions,
    alerts,
    logger: options.logger,
  });
  const service = new ExceptionService({
    exceptions,
    store: options.store,
    tracker,
    catalog: options.catalog,
    permissions: options.permissions,
    settings,
    signer: options.signer,
    signals,
    logger: options.logger,
  });
  const runOnce = () =>
    service.runOnce({
      onExpired: async e => {
        const event = await options.auditor.createEvent({
          eventId: 'exception-expire',
          severityLevel: 'high',
          meta: {
            exceptionId: e.id,
            entityRef: e.entityRef,
            expiresAt: e.expiresAt,
            reasonCodes: e.reasonCodes,
            digests: e.digests,
          },
        });
        await event.success();
      },
      onExpiringSoon: async e => {
        await alerts.expiringSoon(e);
      },
    });
  return {
    settings,
    exceptions,
    alerts,
    tracker,
    service,
    signals,
    runOnce,
    /** `residency.exceptions.schedule` (every minute), on one replica at a time. */
    async schedule(scheduler: SchedulerService) {
      await scheduler.scheduleTask({
        id: EXCEPTION_TASK_ID,
        ...schedule,
        scope: 'global',
        fn: async () => {
          await runOnce();
        },
      });
    },
  };
}
