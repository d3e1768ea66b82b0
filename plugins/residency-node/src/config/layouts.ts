import type { ConfigReader, ResidencySettings } from '../api';
import {
  checkRegion,
  ConfigIssues,
  fail,
  optConfigArray,
  optString,
  resolveFile,
} from './read';

/** `residency.layouts`: OCI image layout directories, each with a region. */
export function readLayouts(
  root: ConfigReader,
  baseDir: string | undefined,
  issues = new ConfigIssues(),
): NonNullable<ResidencySettings['layouts']> {
  const confs =
    issues.attempt(() =>
      optConfigArray(root, 'layouts', 'residency.layouts'),
    ) ?? [];
  return confs.flatMap((lc, i) => {
    const layout = issues.attempt(() => {
      const path = `residency.layouts[${i}]`;
      const p = optString(lc, 'path', path);
      if (!p) fail('config_invalid', path, 'path is required');
      const region = checkRegion(
        optString(lc, 'region', path),
        `${path}.region`,
      );
      return { path: resolveFile(baseDir, p), region };
    });
    return layout ? [layout] : [];
  });
}
