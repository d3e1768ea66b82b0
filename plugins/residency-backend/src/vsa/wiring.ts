import type {
  DatabaseService,
  LoggerService,
} from '@backstage/backend-plugin-api';
import {
  createVsaSigner,
  loadVsaSettings,
  type ConfigReader,
  type ResidencySettings,
} from '@residency-dev/plugin-residency-node';
import type { ResidencyStore } from '../database/ResidencyStore';
import { VsaIssuer } from './VsaIssuer';
import { DatabaseVsaStore } from './VsaStore';

/**
 * The VSA parts of the plugin when `residency.vsa` is configured (undefined otherwise).
 * A bad `residency.vsa` stops the backend at start, like the rest of `residency:`.
 */
export async function createVsaWiring(options: {
  config: ConfigReader;
  settings: ResidencySettings;
  database: DatabaseService;
  store: ResidencyStore;
  logger: LoggerService;
}): Promise<{ issuer: VsaIssuer; store: DatabaseVsaStore } | undefined> {
  const settings = loadVsaSettings(options.config, options.settings);
  if (!settings) return undefined;
  const signer = createVsaSigner(settings);
  const store = new DatabaseVsaStore(await options.database.getClient());
  return {
    store,
    issuer: new VsaIssuer({
      settings,
      signer,
      registries: options.settings.registries,
      store: options.store,
      vsaStore: store,
      logger: options.logger,
    }),
  };
}
