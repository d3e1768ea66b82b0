import {
  readSchedulerServiceTaskScheduleDefinitionFromConfig,
  type SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import { readDurationFromConfig, type Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { durationToMilliseconds, type HumanDuration } from '@backstage/types';

/** The backend's own settings (the engine reads the rest of `residency:`). */
export interface ResidencyBackendOptions {
  /** The full refresh cycle. */
  schedule: SchedulerServiceTaskScheduleDefinition;
  /** The short-interval pass that picks up annotation and policy changes. */
  deltaSchedule: SchedulerServiceTaskScheduleDefinition;
  /** How long a verified digest is trusted before its signatures are fetched again. */
  revalidateAfterSeconds: number;
  /** Entities claimed per batch. */
  batchSize: number;
  /** Seconds a claim is held before another replica may take it over. */
  leaseSeconds: number;
  /** Entities evaluated at once by one replica. */
  entityConcurrency: number;
  /** Retention: newest evidence records kept per entity (unset: keep everything). */
  keepRecordsPerEntity?: number;
  /** Largest page size of the list endpoints. */
  maxPageSize: number;
}

const DEFAULT_SCHEDULE: SchedulerServiceTaskScheduleDefinition = {
  frequency: { minutes: 10 },
  timeout: { minutes: 30 },
  initialDelay: { seconds: 5 },
};

const DEFAULT_DELTA_SCHEDULE: SchedulerServiceTaskScheduleDefinition = {
  frequency: { minutes: 1 },
  timeout: { minutes: 5 },
  initialDelay: { seconds: 30 },
};

function readDuration(
  config: Config,
  key: string,
  fallback: HumanDuration,
): number {
  if (!config.has(key)) {
    return durationToMilliseconds(fallback);
  }
  const value = config.get(key);
  if (typeof value === 'number') {
    return value * 1000;
  }
  return durationToMilliseconds(readDurationFromConfig(config, { key }));
}

function readPositiveInt(
  config: Config,
  key: string,
  fallback: number,
  max: number,
) {
  const value = config.getOptionalNumber(key) ?? fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new InputError(
      `residency.${key} must be an integer between 1 and ${max}`,
    );
  }
  return value;
}

/** Reads `residency.schedule`, `residency.revalidateAfter` and the backend's limits. */
export function readResidencyBackendOptions(
  root: Config,
): ResidencyBackendOptions {
  const config = root.getOptionalConfig('residency');
  const schedule = config?.has('schedule')
    ? readSchedulerServiceTaskScheduleDefinitionFromConfig(
        config.getConfig('schedule'),
      )
    : DEFAULT_SCHEDULE;
  const deltaSchedule = config?.has('deltaSchedule')
    ? readSchedulerServiceTaskScheduleDefinitionFromConfig(
        config.getConfig('deltaSchedule'),
      )
    : DEFAULT_DELTA_SCHEDULE;
  const revalidateAfterMs = config
    ? readDuration(config, 'revalidateAfter', { hours: 6 })
    : durationToMilliseconds({ hours: 6 });
  const limits = config?.getOptionalConfig('limits');
  const read = (key: string, fallback: number, max: number) =>
    limits ? readPositiveInt(limits, key, fallback, max) : fallback;
  const retention = config?.getOptionalConfig('retention');
  const keepRecordsPerEntity = retention?.has('keepRecordsPerEntity')
    ? readPositiveInt(retention, 'keepRecordsPerEntity', 1, 1_000_000)
    : undefined;
  return {
    ...(keepRecordsPerEntity ? { keepRecordsPerEntity } : {}),
    schedule,
    deltaSchedule,
    revalidateAfterSeconds: Math.max(0, Math.floor(revalidateAfterMs / 1000)),
    batchSize: read('refreshBatchSize', 25, 500),
    leaseSeconds: read('leaseSeconds', 300, 86_400),
    entityConcurrency: read('entityConcurrency', 4, 64),
    maxPageSize: 100,
  };
}
