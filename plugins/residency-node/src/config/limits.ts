import type { ConfigReader, ResidencySettings } from '../api';
import { ConfigIssues, fail, read } from './read';

/** Default limits. @public */
export const DEFAULT_LIMITS = {
  imagesPerEntity: 50,
  concurrencyPerRegistry: 4,
  /** Overall deadline of one image (resolve + discovery, all requests), seconds. */
  imageTimeoutSeconds: 120,
} as const;

/** `residency.limits`: integers between 1 and 10000, defaults otherwise. */
export function readLimits(
  root: ConfigReader,
  issues = new ConfigIssues(),
): ResidencySettings['limits'] {
  const lim = issues.attempt(() =>
    read('residency.limits', () => root.getOptionalConfig('limits')),
  );
  const limitValue = (key: keyof typeof DEFAULT_LIMITS) => {
    const v = lim
      ? read(`residency.limits.${key}`, () => lim.getOptionalNumber(key))
      : undefined;
    if (v === undefined) return DEFAULT_LIMITS[key];
    if (!Number.isInteger(v) || v < 1 || v > 10_000) {
      fail(
        'config_invalid',
        `residency.limits.${key}`,
        'must be an integer between 1 and 10000',
      );
    }
    return v;
  };
  const limit = (key: keyof typeof DEFAULT_LIMITS) =>
    issues.attempt(() => limitValue(key)) ?? DEFAULT_LIMITS[key];
  return {
    imagesPerEntity: limit('imagesPerEntity'),
    concurrencyPerRegistry: limit('concurrencyPerRegistry'),
    imageTimeoutSeconds: limit('imageTimeoutSeconds'),
  };
}
