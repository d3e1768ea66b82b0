import type { LoggerService } from '@backstage/backend-plugin-api';
import type { SignalsService } from '@backstage/plugin-signals-node';
import {
  residencySignalChannel,
  type ResidencyEntitySignal,
} from '@residency-dev/plugin-residency-common';

/**
 * Publishes "this entity changed" on the entity's signal channel (see
 * `residencySignalChannel`), to every browser subscribed to it. A signal is a
 * hint to reload: it never carries the status, and a failure to publish only
 * costs a live update, so it is logged and never thrown.
 */
export class ResidencySignals {
  constructor(
    private readonly options: {
      signals?: SignalsService;
      logger: LoggerService;
    },
  ) {}

  async entityChanged(
    entityRef: string,
    event: ResidencyEntitySignal['event'],
  ): Promise<void> {
    const { signals, logger } = this.options;
    if (!signals) return;
    try {
      await signals.publish<ResidencyEntitySignal>({
        recipients: { type: 'broadcast' },
        channel: residencySignalChannel(entityRef),
        message: { entityRef, event },
      });
    } catch (e) {
      logger.warn(
        `Could not publish the residency signal for ${entityRef}: ${
          (e as Error).message
        }`,
      );
    }
  }
}
