import type { ConfigReader, ResidencySettings } from '../api';
import { checkRegion, ConfigIssues, fail, read } from './read';

/** `residency.boundaries`: name -> non-empty list of region ids. */
export function readBoundaries(
  root: ConfigReader,
  issues = new ConfigIssues(),
): ResidencySettings['boundaries'] {
  const boundaries: Record<string, string[]> = {};
  const conf = issues.attempt(() =>
    read('residency.boundaries', () => root.getOptionalConfig('boundaries')),
  );
  for (const name of conf?.keys() ?? []) {
    const path = `residency.boundaries.${name}`;
    const regions = issues.attempt(() => {
      const list = read(path, () => conf!.getOptionalStringArray(name)) ?? [];
      if (list.length === 0) {
        fail('config_invalid', path, 'a boundary needs at least one region');
      }
      return list.map((r, i) => checkRegion(r, `${path}[${i}]`));
    });
    if (regions) boundaries[name] = regions;
  }
  return boundaries;
}
