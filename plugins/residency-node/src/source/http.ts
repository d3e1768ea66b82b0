/*
 * HTTP side of one configured registry: a logical request is a short loop of named
 * steps over the parts in their own modules: `pool` (keep-alive pools, per-registry
 * concurrency), `exchange` (one request with manual redirects and capped bodies),
 * `retry` (backoff, Retry-After, typed give-up errors) and `auth` (basic/bearer).
 */
import { RegistryAuth } from './auth';
import { faultOf, type HealthSlot } from './health';
import {
  exchange,
  type Exchange,
  type ExchangePolicy,
  type RegistryRequest,
  type RegistryResponse,
} from './exchange';
import type { FetchOptions, SourceLimits } from './limits';
import { createLimiter, PoolSet, type Limiter } from './pool';
import {
  abortError,
  backoffDelay,
  checkNetworkBudget,
  checkRetryBudget,
  retryCodeOf,
  waitBeforeRetry,
  type RetryContext,
} from './retry';
import { SourceError, type RegistryAccess } from './types';

export { PoolSet } from './pool';
export { parseRetryAfter } from './retry';
export type { RegistryRequest, RegistryResponse } from './exchange';

/** The base URL of a configured registry; https unless `insecure`. */
function registryBase(access: RegistryAccess): URL {
  const scheme = access.insecure ? 'http' : 'https';
  const endpoint =
    access.endpoint ??
    (access.host === 'docker.io'
      ? 'https://registry-1.docker.io'
      : `${scheme}://${access.host}`);
  const base = new URL(endpoint);
  if (!access.insecure && base.protocol !== 'https:') {
    throw new SourceError(
      'registry_not_allowed',
      `Registry ${access.host} endpoint must be https unless insecure: true`,
    );
  }
  return base;
}

/** What one attempt ended with: an answer, or a network failure to retry. */
type Attempt = { res: Exchange } | { failure: unknown };

/** The HTTP side of one configured registry. Credentials never leave its origin. */
export class RegistryHttp {
  readonly base: URL;
  private readonly limit: Limiter;
  private readonly auth: RegistryAuth;
  private readonly policy: ExchangePolicy;

  constructor(
    readonly access: RegistryAccess,
    limits: SourceLimits,
    private readonly fetch: FetchOptions,
    private readonly pools: PoolSet,
    private readonly health: HealthSlot = {},
  ) {
    this.base = registryBase(access);
    this.limit = createLimiter(
      access.concurrency ?? limits.concurrencyPerRegistry,
    );
    this.auth = new RegistryAuth(access, this.base, limits, fetch, pools);
    this.policy = {
      host: access.host,
      authOrigin: this.base.origin,
      followRedirects: true,
      checkRedirect: (next, req) => this.checkRedirect(next, req),
    };
  }

  /**
   * Performs one logical request with retries, auth and redirects under a total
   * deadline, consulting and informing the cycle's registry health, if any.
   */
  async request(req: RegistryRequest): Promise<RegistryResponse> {
    const health = this.health.current;
    health?.check(this.access.host);
    try {
      const res = await this.perform(req);
      health?.record(this.access.host, 'ok');
      return res;
    } catch (e) {
      health?.record(this.access.host, faultOf(e) ?? 'content');
      throw e;
    }
  }

  private async perform(req: RegistryRequest): Promise<RegistryResponse> {
    const deadline = AbortSignal.timeout(this.fetch.totalTimeoutMs);
    const signal = req.signal
      ? AbortSignal.any([req.signal, deadline])
      : deadline;
    const url = this.urlOf(req);
    const ctx: RetryContext = {
      what: req.what,
      host: this.access.host,
      fetch: this.fetch,
    };
    let authenticated = false;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt(url, req, signal);
      if ('failure' in outcome) {
        if (signal.aborted) throw abortError(ctx, deadline, req.signal);
        checkNetworkBudget(ctx, attempt, outcome.failure);
        await this.wait(ctx, attempt, undefined, signal, deadline, req);
        continue;
      }
      const { res } = outcome;
      if (res.status >= 200 && res.status < 300) return res;
      if (res.status === 401) {
        if (authenticated) {
          this.auth.forget(req.repository);
          throw this.auth.refused(req, 401);
        }
        authenticated = true;
        attempt--; // the auth round trip is not a retry
        await this.auth.authenticate(
          res.headers['www-authenticate'],
          req,
          signal,
          deadline,
        );
        continue;
      }
      if (res.status === 403) throw this.auth.refused(req, 403);
      if (req.passStatuses?.includes(res.status)) return res;
      if (!retryCodeOf(res.status)) throw this.unexpected(req, res.status);
      checkRetryBudget(ctx, res.status, attempt, res.retryAfterMs);
      await this.wait(ctx, attempt, res, signal, deadline, req);
    }
  }

  /**
   * The absolute URL of a request; it must stay on the registry's origin. Our own paths
   * always do; a pagination link that leaves is the registry misbehaving (unknown),
   * not a configuration error.
   */
  private urlOf(req: RegistryRequest): URL {
    const url = new URL(req.path, this.base);
    if (url.origin !== this.base.origin) {
      throw new SourceError(
        'registry_unreachable',
        `${req.what}: registry ${
          this.access.host
        } sent a link to ${url.origin.slice(
          0,
          100,
        )}, outside itself; not followed`,
        { host: this.access.host, problem: 'link_leaves_registry' },
      );
    }
    return url;
  }

  /**
   * Redirects go only to the registry's own origin or to a configured blob host of
   * this registry; anywhere else the registry is misbehaving (unknown, with a reason).
   */
  private checkRedirect(next: URL, req: RegistryRequest): void {
    if (next.origin === this.base.origin) return;
    if ((this.access.blobHosts ?? []).includes(next.origin)) return;
    throw new SourceError(
      'registry_unreachable',
      `${req.what}: registry ${
        this.access.host
      } redirected to ${next.origin.slice(
        0,
        100,
      )}, which is not one of its configured blobHosts; not followed`,
      {
        host: this.access.host,
        problem: 'redirect_not_allowed',
        target: next.origin.slice(0, 100),
      },
    );
  }

  /** One exchange under the registry's concurrency limit. */
  private async attempt(
    url: URL,
    req: RegistryRequest,
    signal: AbortSignal,
  ): Promise<Attempt> {
    try {
      const res = await this.limit(signal, () =>
        exchange(
          this.pools,
          this.fetch,
          url,
          req,
          this.auth.authorization(req.repository),
          signal,
          this.policy,
        ),
      );
      return { res };
    } catch (e) {
      if (e instanceof SourceError) throw e;
      return { failure: e };
    }
  }

  private wait(
    ctx: RetryContext,
    attempt: number,
    res: Exchange | undefined,
    signal: AbortSignal,
    deadline: AbortSignal,
    req: RegistryRequest,
  ): Promise<void> {
    const code = (res && retryCodeOf(res.status)) ?? 'registry_unreachable';
    const delay = backoffDelay(attempt, res?.retryAfterMs, this.fetch);
    return waitBeforeRetry(ctx, delay, signal, deadline, code, req.signal);
  }

  private unexpected(req: RegistryRequest, status: number): SourceError {
    return new SourceError(
      'registry_unreachable',
      `${req.what}: registry ${this.access.host} answered ${status}`,
      { host: this.access.host, status },
    );
  }
}
