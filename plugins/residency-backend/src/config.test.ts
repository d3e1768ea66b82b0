import { ConfigReader } from '@backstage/config';
import { readResidencyBackendOptions } from './config';

describe('readResidencyBackendOptions', () => {
  it('defaults to a 10 minute cycle, a 1 minute delta pass and 6 hours of reuse', () => {
    const options = readResidencyBackendOptions(new ConfigReader({}));
    expect(options.schedule.frequency).toEqual({ minutes: 10 });
    expect(options.deltaSchedule.frequency).toEqual({ minutes: 1 });
    expect(options.revalidateAfterSeconds).toBe(6 * 3600);
    expect(options.keepRecordsPerEntity).toBeUndefined();
    expect(options).toMatchObject({
      batchSize: 25,
      leaseSeconds: 300,
      entityConcurrency: 4,
      maxPageSize: 100,
    });
  });

  it('reads the schedule, revalidateAfter in its three forms, limits and retention', () => {
    const options = readResidencyBackendOptions(
      new ConfigReader({
        residency: {
          schedule: { frequency: { minutes: 30 }, timeout: { minutes: 20 } },
          revalidateAfter: { minutes: 15 },
          limits: {
            refreshBatchSize: 50,
            leaseSeconds: 60,
            entityConcurrency: 2,
            imagesPerEntity: 10,
          },
          retention: { keepRecordsPerEntity: 100 },
        },
      }),
    );
    expect(options.schedule).toMatchObject({ frequency: { minutes: 30 } });
    expect(options.revalidateAfterSeconds).toBe(900);
    expect(options).toMatchObject({
      batchSize: 50,
      leaseSeconds: 60,
      entityConcurrency: 2,
      keepRecordsPerEntity: 100,
    });
    expect(
      readResidencyBackendOptions(
        new ConfigReader({ residency: { revalidateAfter: 'PT2H' } }),
      ).revalidateAfterSeconds,
    ).toBe(7200);
    expect(
      readResidencyBackendOptions(
        new ConfigReader({ residency: { revalidateAfter: 0 } }),
      ).revalidateAfterSeconds,
    ).toBe(0);
  });

  it('refuses limits out of range', () => {
    expect(() =>
      readResidencyBackendOptions(
        new ConfigReader({ residency: { limits: { refreshBatchSize: 0 } } }),
      ),
    ).toThrow(/refreshBatchSize/);
  });
});
