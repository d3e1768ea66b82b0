import { CustomErrorBase } from '@backstage/errors';

/**
 * 429: an on-demand refresh of this entity is already running, or the caller
 * asked for too many. Backstage's error handler takes the status from
 * `statusCode`; the router adds `Retry-After` from `retryAfterSeconds`.
 */
export class RefreshThrottledError extends CustomErrorBase {
  override name = 'RefreshThrottledError' as const;
  readonly statusCode = 429;
  constructor(
    message: string,
    readonly reason: 'in_flight' | 'rate_limited',
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}
