import type {
  DatabaseService,
  LoggerService,
} from '@backstage/backend-plugin-api';
import {
  createVsaSigner,
  fingerprintOf,
  loadVsaSettings,
  type ConfigReader,
  type ResidencySettings,
  type VsaSigner,
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
}): Promise<
  { issuer: VsaIssuer; store: DatabaseVsaStore; signer: VsaSigner } | undefined
> {
  const settings = loadVsaSettings(options.config, options.settings);
  if (!settings) return undefined;
  const signer = createVsaSigner(settings);
  if (settings.publish) {
    // A published VSA is an attestation on the image: unless its key is pinned in
    // residency.keys, the next check finds an unverifiable attestation there and the
    // image turns non-resident. Say so at start rather than after the first publish.
    signer
      .publicKey()
      .then(key => {
        const fp = fingerprintOf(key);
        if (!options.settings.keys.some(k => k.fingerprint === fp)) {
          options.logger.warn(
            `residency.vsa.publish is on but the VSA key (${fp}) is not in residency.keys; published VSAs would make images non-resident. Pin its public key there.`,
          );
        }
      })
      .catch(e =>
        options.logger.warn(
          `Cannot read the VSA public key: ${(e as Error).message}`,
        ),
      );
  }
  const store = new DatabaseVsaStore(await options.database.getClient());
  return {
    store,
    signer,
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
