/*
 * Connection pools and the per-registry concurrency limit of the registry client.
 * Keep-alive pools are undici `Pool`s, one per origin; the limit is `p-limit`, wrapped
 * so a caller whose signal aborts while queued leaves at once instead of waiting for
 * a slot (p-limit's queue does not know about abort signals).
 */
import pLimit from 'p-limit';
import { Pool } from 'undici';
import type { FetchOptions } from './limits';
import { SourceError } from './types';

/** Pools kept at once; redirect targets (blob storage) get pools too, so the set is bounded. */
const MAX_POOLS = 64;

/** Keep-alive pools shared by all registry clients of one source, one per origin. */
export class PoolSet {
  private readonly pools = new Map<string, Pool>();
  private closed = false;

  constructor(
    private readonly fetch: FetchOptions,
    private readonly connections: number,
  ) {}

  get(origin: string): Pool {
    if (this.closed) {
      throw new SourceError(
        'registry_unreachable',
        'The artifact source is closed',
      );
    }
    const pool = this.pools.get(origin) ?? this.open(origin);
    return pool;
  }

  private open(origin: string): Pool {
    if (this.pools.size >= MAX_POOLS) this.evictOldest();
    const pool = new Pool(origin, {
      connections: this.connections,
      connect: {
        timeout: this.fetch.connectTimeoutMs,
        ...(this.fetch.ca !== undefined ? { ca: this.fetch.ca } : {}),
      },
      headersTimeout: this.fetch.headersTimeoutMs,
      bodyTimeout: this.fetch.bodyIdleTimeoutMs,
      keepAliveTimeout: 30_000,
    });
    this.pools.set(origin, pool);
    return pool;
  }

  private evictOldest(): void {
    const [oldest, pool] = this.pools.entries().next().value as [string, Pool];
    this.pools.delete(oldest);
    void pool.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map(p => p.destroy().catch(() => undefined)));
  }
}

/** Runs a task under a concurrency limit; a queued task leaves when `signal` aborts. */
export type Limiter = <T>(
  signal: AbortSignal,
  fn: () => Promise<T>,
) => Promise<T>;

/** A FIFO limit of `size` concurrent tasks (p-limit) that honours abort signals while queued. */
export function createLimiter(size: number): Limiter {
  const limit = pLimit(Math.max(1, size));
  return <T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> => {
    if (signal.aborted) return Promise.reject(signal.reason);
    let leave: (reason: unknown) => void = () => undefined;
    const aborted = new Promise<never>((_, reject) => {
      leave = reject;
    });
    const onAbort = () => leave(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    // A task whose caller already left takes its slot only to give it back at once.
    const run = limit(() =>
      signal.aborted ? Promise.reject(signal.reason) : fn(),
    );
    run.catch(() => undefined);
    aborted.catch(() => undefined);
    return Promise.race([run, aborted]).finally(() =>
      signal.removeEventListener('abort', onAbort),
    );
  };
}
