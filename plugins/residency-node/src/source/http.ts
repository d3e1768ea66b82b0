/*
 * HTTP transport of the registry client, on undici: a keep-alive pool per origin,
 * connect/header/idle-body timeouts and a total deadline per operation, bounded
 * retries with backoff and jitter, manual redirects (Authorization dropped on any
 * change of origin, never https -> http), a per-registry concurrency limit and the
 * anonymous/basic/bearer authentication dance.
 */
import { Pool } from 'undici';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  checkRealm,
  parseChallenge,
  parseTokenResponse,
  TokenCache,
} from './auth';
import type { FetchOptions, SourceLimits } from './limits';
import { readCapped } from './oci';
import { SourceError, type RegistryAccess } from './types';

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
    let pool = this.pools.get(origin);
    if (!pool) {
      // Redirect targets (blob storage) get pools too; keep the set bounded.
      if (this.pools.size >= 64) {
        const [oldest, p] = this.pools.entries().next().value as [string, Pool];
        this.pools.delete(oldest);
        void p.close().catch(() => undefined);
      }
      pool = new Pool(origin, {
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
    }
    return pool;
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map(p => p.destroy().catch(() => undefined)));
  }
}

/** A small FIFO semaphore: at most `size` holders at a time. */
export class Semaphore {
  private active = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(private readonly size: number) {}

  async run<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) {
      await new Promise<void>((resolve, reject) => {
        const waiter = {
          go: () => {
            signal.removeEventListener('abort', waiter.abort);
            resolve();
          },
          abort: () => {
            const i = this.waiters.indexOf(waiter.go);
            if (i >= 0) this.waiters.splice(i, 1);
            reject(signal.reason);
          },
        };
        const onAbort = waiter.abort;
        const go = waiter.go;
        if (signal.aborted) {
          reject(signal.reason);
          return;
        }
        signal.addEventListener('abort', onAbort, { once: true });
        this.waiters.push(go);
      });
    } else {
      this.active++;
    }
    try {
      return await fn();
    } finally {
      const next = this.waiters.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/** One request of the registry protocol. */
export interface RegistryRequest {
  /** Absolute path with query, e.g. `/v2/team/app/manifests/v1`, or a full URL on the registry. */
  path: string;
  accept?: string;
  /** Repository the request is about (token scope `repository:<name>:pull`). */
  repository: string;
  /** Byte cap of the body. */
  cap: number;
  /** Declared size of the object (descriptor size); reading stops at min(size, cap)+1. */
  expectedSize?: number;
  /** Human name of the object for messages. */
  what: string;
  /** Non-2xx statuses handed back to the caller instead of becoming errors (e.g. 404). */
  passStatuses?: readonly number[];
  signal?: AbortSignal;
}

/** What a request returns: 2xx with the (capped) body, or a passed-through status. */
export interface RegistryResponse {
  status: number;
  headers: Record<string, string>;
  body?: Uint8Array;
  url: URL;
}

interface Exchange extends RegistryResponse {
  retryAfterMs?: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Drops a response body we will not read; the abort it causes is expected, not an error. */
function discard(body: {
  on(event: 'error', fn: () => void): unknown;
  destroy(): unknown;
}) {
  body.on('error', () => undefined);
  body.destroy();
}

function headerMap(
  raw: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

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
class NetworkFailure extends Error {
  constructor(readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/** The HTTP side of one configured registry. Credentials never leave its origin. */
export class RegistryHttp {
  readonly base: URL;
  private readonly sem: Semaphore;
  private readonly tokens = new TokenCache();
  private basic = false;

  constructor(
    readonly access: RegistryAccess,
    private readonly limits: SourceLimits,
    private readonly fetch: FetchOptions,
    private readonly pools: PoolSet,
  ) {
    const scheme = access.insecure ? 'http' : 'https';
    const endpoint =
      access.endpoint ??
      (access.host === 'docker.io'
        ? 'https://registry-1.docker.io'
        : `${scheme}://${access.host}`);
    this.base = new URL(endpoint);
    if (!access.insecure && this.base.protocol !== 'https:') {
      throw new SourceError(
        'registry_not_allowed',
        `Registry ${access.host} endpoint must be https unless insecure: true`,
      );
    }
    this.sem = new Semaphore(
      Math.max(1, access.concurrency ?? limits.concurrencyPerRegistry),
    );
  }

  private scopeOf(repository: string): string {
    return `repository:${repository}:pull`;
  }

  private authorization(repository: string): string | undefined {
    const c = this.access.credentials;
    if (c && 'token' in c) return `Bearer ${c.token}`;
    const cached = this.tokens.get(this.scopeOf(repository));
    if (cached) return `Bearer ${cached}`;
    if (this.basic && c && 'username' in c) {
      return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString(
        'base64',
      )}`;
    }
    return undefined;
  }

  /** Performs one logical request with retries, auth and redirects under a total deadline. */
  async request(req: RegistryRequest): Promise<RegistryResponse> {
    const deadline = AbortSignal.timeout(this.fetch.totalTimeoutMs);
    const signal = req.signal
      ? AbortSignal.any([req.signal, deadline])
      : deadline;
    const url = new URL(req.path, this.base);
    if (url.origin !== this.base.origin) {
      throw new SourceError(
        'registry_not_allowed',
        `${req.what}: URL leaves the registry`,
      );
    }
    let attempt = 0;
    let authenticated = false;
    for (;;) {
      attempt++;
      let res: Exchange;
      try {
        res = await this.sem.run(signal, () =>
          this.exchange(
            url,
            req,
            this.authorization(req.repository),
            signal,
            true,
          ),
        );
      } catch (e) {
        if (e instanceof SourceError) throw e;
        if (signal.aborted) throw this.abortError(req, deadline);
        if (attempt >= this.fetch.maxAttempts) {
          throw new SourceError(
            'registry_unreachable',
            `${req.what}: registry ${this.access.host} unreachable after ${attempt} attempts`,
            {
              host: this.access.host,
              attempts: attempt,
              cause: String((e as Error)?.message ?? e).slice(0, 200),
            },
          );
        }
        await this.backoff(attempt, undefined, signal, req, deadline);
        continue;
      }
      const { status } = res;
      if (status >= 200 && status < 300) return res;
      if (status === 401) {
        if (authenticated) {
          this.tokens.delete(this.scopeOf(req.repository));
          throw this.authError(req, status);
        }
        authenticated = true;
        attempt--; // the auth round trip is not a retry
        await this.authenticate(
          res.headers['www-authenticate'],
          req,
          signal,
          deadline,
        );
        continue;
      }
      if (status === 403) throw this.authError(req, status);
      if (req.passStatuses?.includes(status)) return res;
      if (status === 408 || status === 429 || status >= 500) {
        const code = status === 429 ? 'rate_limited' : 'registry_unreachable';
        if (
          res.retryAfterMs !== undefined &&
          res.retryAfterMs > this.fetch.retryAfterCapMs
        ) {
          throw new SourceError(
            code,
            `${req.what}: registry asked to retry after ${Math.round(
              res.retryAfterMs / 1000,
            )} s, beyond the cap`,
            { host: this.access.host, status, retryAfterMs: res.retryAfterMs },
          );
        }
        if (attempt >= this.fetch.maxAttempts) {
          throw new SourceError(
            code,
            `${req.what}: registry ${this.access.host} answered ${status} ${attempt} times`,
            { host: this.access.host, status, attempts: attempt },
          );
        }
        await this.backoff(
          attempt,
          res.retryAfterMs,
          signal,
          req,
          deadline,
          code,
        );
        continue;
      }
      throw new SourceError(
        'registry_unreachable',
        `${req.what}: registry ${this.access.host} answered ${status}`,
        { host: this.access.host, status },
      );
    }
  }

  private authError(req: RegistryRequest, status: number): SourceError {
    return new SourceError(
      'registry_auth',
      `${req.what}: registry ${this.access.host} refused access (${status})`,
      { host: this.access.host, status },
    );
  }

  private abortError(req: RegistryRequest, deadline: AbortSignal): SourceError {
    return deadline.aborted
      ? new SourceError(
          'registry_unreachable',
          `${req.what}: deadline of ${this.fetch.totalTimeoutMs} ms exceeded`,
          { host: this.access.host, problem: 'timeout' },
        )
      : new SourceError('registry_unreachable', `${req.what}: aborted`, {
          host: this.access.host,
          problem: 'aborted',
        });
  }

  private async backoff(
    attempt: number,
    retryAfterMs: number | undefined,
    signal: AbortSignal,
    req: RegistryRequest,
    deadline: AbortSignal,
    code: 'rate_limited' | 'registry_unreachable' = 'registry_unreachable',
  ): Promise<void> {
    const step = Math.min(
      this.fetch.maxDelayMs,
      this.fetch.baseDelayMs * 2 ** (attempt - 1),
    );
    // Equal jitter: half fixed, half random, so retries spread out but never collapse to 0.
    const delay =
      retryAfterMs ?? Math.floor(step / 2 + (this.fetch.random() * step) / 2);
    try {
      await sleep(delay, undefined, { signal });
    } catch {
      if (deadline.aborted && code === 'rate_limited') {
        throw new SourceError(
          'rate_limited',
          `${req.what}: still rate-limited at the deadline`,
          {
            host: this.access.host,
          },
        );
      }
      throw this.abortError(req, deadline);
    }
  }

  private async authenticate(
    header: string | undefined,
    req: RegistryRequest,
    signal: AbortSignal,
    deadline: AbortSignal,
  ): Promise<void> {
    const creds = this.access.credentials;
    const challenge = parseChallenge(header);
    if (!challenge) {
      throw new SourceError(
        'registry_auth',
        `${req.what}: 401 without a usable challenge`,
        {
          host: this.access.host,
        },
      );
    }
    if (creds && 'token' in creds) throw this.authError(req, 401);
    if (challenge.scheme === 'basic') {
      if (!creds || !('username' in creds) || this.basic)
        throw this.authError(req, 401);
      this.basic = true;
      return;
    }
    if (challenge.scheme !== 'bearer' || !challenge.params.realm) {
      throw new SourceError(
        'registry_auth',
        `${req.what}: unsupported auth challenge`,
        {
          host: this.access.host,
          scheme: challenge.scheme.slice(0, 20),
        },
      );
    }
    // Docker Hub's token service lives on its own host; it is the one built-in exception.
    const realms = [
      ...(this.access.tokenRealms ?? []),
      ...(this.access.host === 'docker.io' && !this.access.endpoint
        ? ['https://auth.docker.io']
        : []),
    ];
    const realm = checkRealm(challenge.params.realm, this.base, realms);
    const scope = this.scopeOf(req.repository);
    await this.tokens.fetchOnce(scope, async () => {
      const tokenUrl = new URL(realm.href);
      if (challenge.params.service)
        tokenUrl.searchParams.set('service', challenge.params.service);
      tokenUrl.searchParams.set('scope', scope);
      const auth =
        creds && 'username' in creds
          ? `Basic ${Buffer.from(
              `${creds.username}:${creds.password}`,
            ).toString('base64')}`
          : undefined;
      const tokenReq: RegistryRequest = {
        path: tokenUrl.href,
        repository: req.repository,
        cap: this.limits.tokenBytes,
        what: `token for ${scope}`,
      };
      let res: Exchange;
      try {
        // The realm was checked above; Basic credentials go only to it, never elsewhere.
        res = await this.exchange(
          tokenUrl,
          tokenReq,
          auth,
          signal,
          false,
          tokenUrl.origin,
        );
      } catch (e) {
        if (e instanceof SourceError) throw e;
        if (signal.aborted) throw this.abortError(req, deadline);
        throw new SourceError(
          'registry_unreachable',
          `token endpoint unreachable`,
          {
            host: this.access.host,
          },
        );
      }
      if (res.status === 429) {
        throw new SourceError(
          'rate_limited',
          'token endpoint rate-limited us',
          { host: this.access.host },
        );
      }
      if (res.status !== 200 || !res.body) {
        throw new SourceError(
          res.status >= 500 ? 'registry_unreachable' : 'registry_auth',
          `token endpoint answered ${res.status}`,
          { host: this.access.host, status: res.status },
        );
      }
      const { token, expiresIn } = parseTokenResponse(res.body);
      this.tokens.set(scope, token, expiresIn);
      return token;
    });
  }

  /**
   * One HTTP exchange, following redirects by hand: Authorization is only sent to
   * `authOrigin` (the registry), a redirect to http from https is refused, and the
   * body of a 2xx is read up to min(expectedSize, cap) + 1 bytes.
   */
  private async exchange(
    start: URL,
    req: RegistryRequest,
    authorization: string | undefined,
    signal: AbortSignal,
    followRedirects: boolean,
    authOrigin: string = this.base.origin,
  ): Promise<Exchange> {
    let current = start;
    for (let redirects = 0; ; redirects++) {
      const headers: Record<string, string> = {
        'user-agent': this.fetch.userAgent,
      };
      if (req.accept) headers.accept = req.accept;
      if (authorization && current.origin === authOrigin)
        headers.authorization = authorization;
      let res;
      try {
        res = await this.pools.get(current.origin).request({
          path: `${current.pathname}${current.search}`,
          method: 'GET',
          headers,
          signal,
          headersTimeout: this.fetch.headersTimeoutMs,
          bodyTimeout: this.fetch.bodyIdleTimeoutMs,
        });
      } catch (e) {
        if (e instanceof SourceError) throw e;
        throw new NetworkFailure(e);
      }
      const h = headerMap(res.headers);
      const status = res.statusCode;
      if (REDIRECTS.has(status)) {
        discard(res.body);
        if (!followRedirects) {
          throw new SourceError(
            'registry_auth',
            `${req.what}: unexpected redirect`,
            { status },
          );
        }
        if (redirects >= this.fetch.maxRedirects) {
          throw new SourceError(
            'registry_unreachable',
            `${req.what}: too many redirects`,
            {
              host: this.access.host,
            },
          );
        }
        let next: URL;
        try {
          next = new URL(h.location ?? '', current);
        } catch {
          throw new SourceError(
            'registry_unreachable',
            `${req.what}: invalid redirect location`,
          );
        }
        if (
          !h.location ||
          (next.protocol !== 'https:' && next.protocol !== 'http:')
        ) {
          throw new SourceError(
            'registry_unreachable',
            `${req.what}: invalid redirect location`,
          );
        }
        if (current.protocol === 'https:' && next.protocol === 'http:') {
          throw new SourceError(
            'registry_unreachable',
            `${req.what}: refusing redirect from https to http`,
            { host: this.access.host, problem: 'insecure_redirect' },
          );
        }
        if (next.username || next.password) {
          throw new SourceError(
            'registry_unreachable',
            `${req.what}: redirect with userinfo refused`,
          );
        }
        current = next;
        continue;
      }
      const retryAfterMs = parseRetryAfter(h['retry-after']);
      if (status < 200 || status >= 300) {
        discard(res.body);
        return {
          status,
          headers: h,
          url: current,
          ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        };
      }
      const limit = Math.min(
        req.cap,
        req.expectedSize ?? Number.POSITIVE_INFINITY,
      );
      const details = {
        host: this.access.host,
        cap: req.cap,
        ...(req.expectedSize !== undefined
          ? { declaredSize: req.expectedSize }
          : {}),
      };
      const length =
        h['content-length'] !== undefined
          ? Number(h['content-length'])
          : undefined;
      if (length !== undefined && Number.isFinite(length) && length > limit) {
        discard(res.body);
        throw new SourceError(
          'too_large',
          `${req.what} is ${length} bytes, over the limit of ${limit}`,
          {
            ...details,
            contentLength: length,
          },
        );
      }
      let body: Uint8Array;
      try {
        body = await readCapped(res.body, limit, req.what, details);
      } catch (e) {
        if (e instanceof SourceError) throw e;
        throw new NetworkFailure(e);
      }
      return { status, headers: h, body, url: current };
    }
  }
}
