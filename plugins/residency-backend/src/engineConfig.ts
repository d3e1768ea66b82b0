import type { Config } from '@backstage/config';
import type { ConfigReader } from '@residency-dev/plugin-residency-node';

/**
 * Adapts Backstage's Config to the engine's reader. The engine reads optional
 * values through `get(key)`, which on Backstage's Config throws for a missing
 * key; here it answers undefined, as the CLI's reader does.
 */
export function engineConfigReader(config: Config): ConfigReader {
  return {
    getOptionalConfig: key => {
      const child = config.getOptionalConfig(key);
      return child ? engineConfigReader(child) : undefined;
    },
    getOptionalConfigArray: key =>
      config.getOptionalConfigArray(key)?.map(engineConfigReader),
    getOptionalString: key => config.getOptionalString(key),
    getOptionalStringArray: key => config.getOptionalStringArray(key),
    getOptionalNumber: key => config.getOptionalNumber(key),
    getOptionalBoolean: key => config.getOptionalBoolean(key),
    getString: key => config.getString(key),
    keys: () => config.keys(),
    get: (key?: string) =>
      key === undefined ? config.get() : config.getOptional(key),
  };
}
