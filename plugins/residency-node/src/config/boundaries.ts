import type { ConfigReader, ResidencySettings } from '../api';
import { checkRegion, fail, read } from './read';

/** `residency.boundaries`: name -> non-empty list of region ids. */
export function readBoundaries(
  root: ConfigReader,
): ResidencySettings['boundaries'] {
  const boundaries: Record<string, string[]> = {};
  const conf = read('residency.boundaries', () =>
    root.getOptionalConfig('boundaries'),
  );
  for (const name of conf?.keys() ?? []) {
    const path = `residency.boundaries.${name}`;
    const regions = read(path, () => conf!.getOptionalStringArray(name)) ?? [];
    if (regions.length === 0) {
      fail('config_invalid', path, 'a boundary needs at least one region');
    }
    boundaries[name] = regions.map((r, i) => checkRegion(r, `${path}[${i}]`));
  }
  return boundaries;
}
