import type { ConfigReader, ResidencySettings } from '../api';
import {
  checkRegion,
  fail,
  optConfigArray,
  optString,
  resolveFile,
} from './read';

/** `residency.layouts`: OCI image layout directories, each with a region. */
export function readLayouts(
  root: ConfigReader,
  baseDir: string | undefined,
): NonNullable<ResidencySettings['layouts']> {
  return optConfigArray(root, 'layouts', 'residency.layouts').map((lc, i) => {
    const path = `residency.layouts[${i}]`;
    const p = optString(lc, 'path', path);
    if (!p) fail('config_invalid', path, 'path is required');
    const region = checkRegion(optString(lc, 'region', path), `${path}.region`);
    return { path: resolveFile(baseDir, p), region };
  });
}
