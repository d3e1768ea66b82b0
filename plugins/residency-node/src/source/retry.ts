/*
 * Retry policy of the registry client: which answers are retried, how long to wait
 * (exponential backoff with equal jitter, or the registry's Retry-After up to a cap),
 * and the typed errors when retrying ends.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FetchOptions } from './limits';
import { SourceError } from './types';

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent/invalid. */
export function parseRetryAfter(
  value: string | undefined,
  now = Date.now(),
): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d{1,10}$/.test(v)) return Number(v) * 1000;
  if (!/^[A-Za-z]{3},? /.test(v)) return undefined; // IMF-fixdate and the obsolete forms
  const when = Date.parse(v);
  if (Number.isNaN(when)) return undefined;
  return Math.max(0, when - now);
}

/** Network-level failures (connect refused/reset/timeouts): retried. */
export class NetworkFailure extends Error {
  constructor(readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/** Statuses worth another attempt, and the code used when attempts run out. */
export function retryCodeOf(
  status: number,
): 'rate_limited' | 'registry_unreachable' | undefined {
  if (status === 429) return 'rate_limited';
  if (status === 408 || status >= 500) return 'registry_unreachable';
  return undefined;
}

/** Delay before attempt `attempt + 1`: Retry-After when given, else backoff with equal jitter. */
export function backoffDelay(
  attempt: number,
  retryAfterMs: number | undefined,
  fetch: FetchOptions,
): number {
  if (retryAfterMs !== undefined) return retryAfterMs;
  const step = Math.min(
    fetch.maxDelayMs,
    fetch.baseDelayMs * 2 ** (attempt - 1),
  );
  // Equal jitter: half fixed, half random, so retries spread out but never collapse to 0.
  return Math.floor(step / 2 + (fetch.random() * step) / 2);
}

/** Where a failed request stands: what it was about and which registry. */
export interface RetryContext {
  what: string;
  host: string;
  fetch: FetchOptions;
}

/** The error for a request aborted by its own deadline or by the caller's signal. */
export function abortError(
  ctx: RetryContext,
  deadline: AbortSignal,
  signal?: AbortSignal,
): SourceError {
  if (deadline.aborted) {
    return new SourceError(
      'registry_unreachable',
      `${ctx.what}: deadline of ${ctx.fetch.totalTimeoutMs} ms exceeded`,
      { host: ctx.host, problem: 'timeout' },
    );
  }
  // A caller's deadline (e.g. the per-image deadline) carries its own typed reason.
  if (signal?.reason instanceof SourceError) return signal.reason;
  return new SourceError('registry_unreachable', `${ctx.what}: aborted`, {
    host: ctx.host,
    problem: 'aborted',
  });
}

/** Refuses a Retry-After beyond the cap, and gives up after the last attempt. */
export function checkRetryBudget(
  ctx: RetryContext,
  status: number,
  attempt: number,
  retryAfterMs: number | undefined,
): void {
  const code = retryCodeOf(status) ?? 'registry_unreachable';
  if (retryAfterMs !== undefined && retryAfterMs > ctx.fetch.retryAfterCapMs) {
    throw new SourceError(
      code,
      `${ctx.what}: registry asked to retry after ${Math.round(
        retryAfterMs / 1000,
      )} s, beyond the cap`,
      { host: ctx.host, status, retryAfterMs },
    );
  }
  if (attempt >= ctx.fetch.maxAttempts) {
    throw new SourceError(
      code,
      `${ctx.what}: registry ${ctx.host} answered ${status} ${attempt} times`,
      { host: ctx.host, status, attempts: attempt },
    );
  }
}

const STALL_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** `stalled` for connect/header/body timeouts, `network` for refused, reset and the rest. */
function networkProblem(error: unknown): 'stalled' | 'network' {
  const cause = error instanceof NetworkFailure ? error.cause : error;
  const code = (cause as { code?: unknown })?.code;
  return typeof code === 'string' && STALL_CODES.has(code)
    ? 'stalled'
    : 'network';
}

/** Gives up after the last attempt at an unreachable registry. */
export function checkNetworkBudget(
  ctx: RetryContext,
  attempt: number,
  error: unknown,
): void {
  if (attempt < ctx.fetch.maxAttempts) return;
  throw new SourceError(
    'registry_unreachable',
    `${ctx.what}: registry ${ctx.host} unreachable after ${attempt} attempts`,
    {
      host: ctx.host,
      attempts: attempt,
      problem: networkProblem(error),
      cause: String((error as Error)?.message ?? error).slice(0, 200),
    },
  );
}

/** Waits before the next attempt; a deadline during a rate-limit wait stays `rate_limited`. */
export async function waitBeforeRetry(
  ctx: RetryContext,
  delayMs: number,
  signal: AbortSignal,
  deadline: AbortSignal,
  code: 'rate_limited' | 'registry_unreachable',
  callerSignal?: AbortSignal,
): Promise<void> {
  try {
    await sleep(delayMs, undefined, { signal });
  } catch {
    if (deadline.aborted && code === 'rate_limited') {
      throw new SourceError(
        'rate_limited',
        `${ctx.what}: still rate-limited at the deadline`,
        { host: ctx.host },
      );
    }
    throw abortError(ctx, deadline, callerSignal);
  }
}
