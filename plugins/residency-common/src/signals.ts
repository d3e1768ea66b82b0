/**
 * Live updates through Backstage signals: the backend announces on an entity's
 * channel that its residency status or its exceptions changed; a browser showing
 * that entity subscribes to the channel and reloads through the (permissioned) API.
 * The message carries no status: only what changed, and for which entity.
 */

/** Prefix of the per-entity signal channels. @public */
export const RESIDENCY_SIGNAL_CHANNEL_PREFIX = 'residency:entity-status:';

/**
 * The signal channel of one entity (`residency:entity-status:<entity ref>`, the
 * ref in lower case). Only browsers subscribed to this channel receive its
 * messages.
 *
 * @public
 */
export function residencySignalChannel(entityRef: string): string {
  return `${RESIDENCY_SIGNAL_CHANNEL_PREFIX}${entityRef.toLocaleLowerCase(
    'en-US',
  )}`;
}

/**
 * A message on an entity's signal channel.
 *
 * @public
 */
export type ResidencyEntitySignal = {
  /** The entity whose status or exceptions changed. */
  entityRef: string;
  /**
   * `checked`: a check was recorded (scheduled, delta or on-demand refresh);
   * `exception`: an exception was requested, approved, rejected, revoked or expired.
   */
  event: 'checked' | 'exception';
};
