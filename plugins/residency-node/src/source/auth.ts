/*
 * Registry authentication: WWW-Authenticate challenge parsing and bearer-token caching.
 * The challenge grammar (RFC 7235 auth-params) is small, so it is parsed by hand here.
 */
import { exchange, type Exchange, type RegistryRequest } from './exchange';
import type { FetchOptions, SourceLimits } from './limits';
import type { PoolSet } from './pool';
import { abortError, type RetryContext } from './retry';
import { SourceError, type RegistryAccess } from './types';

/** A parsed WWW-Authenticate challenge. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses the first challenge of a WWW-Authenticate header:
 * `Bearer realm="https://r/token",service="r",scope="repository:a:pull"`.
 * Returns undefined for anything unparseable.
 */
export function parseChallenge(
  header: string | undefined,
): Challenge | undefined {
  if (!header || header.length > 8192) return undefined;
  const m = /^\s*([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)\s*/.exec(header);
  if (!m) return undefined;
  const scheme = m[1].toLowerCase();
  const params: Record<string, string> = Object.create(null);
  let rest = header.slice(m[0].length);
  const param =
    /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(?:,\s*)?/;
  while (rest.length > 0) {
    const p = param.exec(rest);
    if (!p) break; // a further challenge or garbage: stop at the first challenge
    const key = p[1].toLowerCase();
    const value =
      p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3] ?? '';
    if (!(key in params)) params[key] = value;
    rest = rest.slice(p[0].length);
  }
  return { scheme, params };
}

/** Credentials of one configured registry; they are only ever sent to that registry. */
export type RegistryCredentials =
  | { username: string; password: string }
  | { token: string };

/**
 * Checks a bearer realm before any credential (or even an anonymous token request)
 * goes there: it must be https (http only for an insecure, plain-http registry), and
 * on the registry's own origin (scheme, host and port) unless that realm origin is
 * explicitly configured (`tokenRealms`).
 */
export function checkRealm(
  realm: string,
  registryUrl: URL,
  allowedOrigins: readonly string[],
): URL {
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new SourceError(
      'registry_auth',
      'Bearer challenge has an invalid realm URL',
      {
        problem: 'realm_invalid',
      },
    );
  }
  if (url.username || url.password) {
    throw new SourceError(
      'registry_auth',
      'Bearer realm must not carry userinfo',
      {
        problem: 'realm_userinfo',
      },
    );
  }
  if (
    url.protocol !== 'https:' &&
    !(url.protocol === 'http:' && registryUrl.protocol === 'http:')
  ) {
    throw new SourceError(
      'registry_auth',
      `Refusing bearer realm over ${url.protocol.replace(
        ':',
        '',
      )} for an ${registryUrl.protocol.replace(':', '')} registry`,
      { problem: 'realm_insecure', realm: url.origin },
    );
  }
  // The exact origin (scheme, host, port), not the host name: a realm on another port
  // of the registry's host is another service and gets nothing unless configured.
  if (
    url.origin !== registryUrl.origin &&
    !allowedOrigins.includes(url.origin)
  ) {
    const sameHost = url.hostname === registryUrl.hostname;
    throw new SourceError(
      'registry_auth',
      sameHost
        ? `Refusing bearer realm on another origin (${url.origin}) than the registry (${registryUrl.origin})`
        : `Refusing bearer realm on another host (${url.hostname}) than the registry (${registryUrl.hostname})`,
      {
        problem: sameHost ? 'realm_foreign_origin' : 'realm_foreign_host',
        realm: url.origin,
      },
    );
  }
  return url;
}

/** Bearer tokens per scope with expiry; one in-flight fetch per scope. */
export class TokenCache {
  private readonly tokens = new Map<
    string,
    { token: string; expiresAt: number }
  >();
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(private readonly now: () => number = Date.now) {}

  get(scope: string): string | undefined {
    const hit = this.tokens.get(scope);
    if (!hit) return undefined;
    if (hit.expiresAt <= this.now()) {
      this.tokens.delete(scope);
      return undefined;
    }
    return hit.token;
  }

  set(scope: string, token: string, expiresInSeconds: number): void {
    // Expire 10 s early so a token is never sent at the edge of its lifetime.
    const life = Math.max(0, Math.min(expiresInSeconds, 3600) - 10) * 1000;
    if (this.tokens.size > 1000) this.tokens.clear();
    this.tokens.set(scope, { token, expiresAt: this.now() + life });
  }

  delete(scope: string): void {
    this.tokens.delete(scope);
  }

  /** Runs `fetcher` once per scope at a time; concurrent callers share the result. */
  async fetchOnce(
    scope: string,
    fetcher: () => Promise<string>,
  ): Promise<string> {
    const running = this.inflight.get(scope);
    if (running) return running;
    const p = fetcher().finally(() => this.inflight.delete(scope));
    this.inflight.set(scope, p);
    return p;
  }
}

/** Parses a token endpoint response body (`token` or `access_token`, `expires_in`). */
export function parseTokenResponse(bytes: Uint8Array): {
  token: string;
  expiresIn: number;
} {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new SourceError(
      'registry_auth',
      'Token endpoint returned invalid JSON',
      {
        problem: 'token_invalid',
      },
    );
  }
  const o = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<
    string,
    unknown
  >;
  const token = typeof o.token === 'string' ? o.token : o.access_token;
  // Printable ASCII only and bounded, so it can never inject into a header.
  if (typeof token !== 'string' || !/^[\x21-\x7e]{1,16384}$/.test(token)) {
    throw new SourceError(
      'registry_auth',
      'Token endpoint returned no usable token',
      {
        problem: 'token_invalid',
      },
    );
  }
  const expiresIn =
    typeof o.expires_in === 'number' &&
    Number.isFinite(o.expires_in) &&
    o.expires_in > 0
      ? o.expires_in
      : 60;
  return { token, expiresIn };
}

function basicHeader(c: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString(
    'base64',
  )}`;
}

/**
 * The anonymous/basic/bearer dance for one configured registry. Its credentials go
 * only to the registry's origin and to a bearer realm that passed {@link checkRealm}.
 */
export class RegistryAuth {
  private readonly tokens = new TokenCache();
  private basic = false;

  constructor(
    private readonly access: RegistryAccess,
    private readonly base: URL,
    private readonly limits: SourceLimits,
    private readonly fetch: FetchOptions,
    private readonly pools: PoolSet,
  ) {}

  private scopeOf(repository: string): string {
    return `repository:${repository}:pull`;
  }

  /** The Authorization header for a request about `repository`, if any. */
  authorization(repository: string): string | undefined {
    const c = this.access.credentials;
    if (c && 'token' in c) return `Bearer ${c.token}`;
    const cached = this.tokens.get(this.scopeOf(repository));
    if (cached) return `Bearer ${cached}`;
    if (this.basic && c && 'username' in c) return basicHeader(c);
    return undefined;
  }

  /** Forgets the token of a scope the registry refused. */
  forget(repository: string): void {
    this.tokens.delete(this.scopeOf(repository));
  }

  refused(req: RegistryRequest, status: number): SourceError {
    return new SourceError(
      'registry_auth',
      `${req.what}: registry ${this.access.host} refused access (${status})`,
      { host: this.access.host, status },
    );
  }

  /** Answers a 401 challenge: switch to basic, or fetch a bearer token from a checked realm. */
  async authenticate(
    header: string | undefined,
    req: RegistryRequest,
    signal: AbortSignal,
    deadline: AbortSignal,
  ): Promise<void> {
    const challenge = this.usableChallenge(header, req);
    if (challenge.scheme === 'basic') {
      this.useBasic(req);
      return;
    }
    const realm = checkRealm(challenge.params.realm, this.base, this.realms());
    const scope = this.scopeOf(req.repository);
    await this.tokens.fetchOnce(scope, async () => {
      const tokenUrl = new URL(realm.href);
      if (challenge.params.service)
        tokenUrl.searchParams.set('service', challenge.params.service);
      tokenUrl.searchParams.set('scope', scope);
      const res = await this.requestToken(tokenUrl, req, signal, deadline);
      const { token, expiresIn } = parseTokenResponse(res.body!);
      this.tokens.set(scope, token, expiresIn);
      return token;
    });
  }

  private usableChallenge(
    header: string | undefined,
    req: RegistryRequest,
  ): Challenge {
    const creds = this.access.credentials;
    const challenge = parseChallenge(header);
    if (!challenge) {
      throw new SourceError(
        'registry_auth',
        `${req.what}: 401 without a usable challenge`,
        { host: this.access.host },
      );
    }
    if (creds && 'token' in creds) throw this.refused(req, 401);
    if (challenge.scheme === 'basic') return challenge;
    if (challenge.scheme !== 'bearer' || !challenge.params.realm) {
      throw new SourceError(
        'registry_auth',
        `${req.what}: unsupported auth challenge`,
        { host: this.access.host, scheme: challenge.scheme.slice(0, 20) },
      );
    }
    return challenge;
  }

  private useBasic(req: RegistryRequest): void {
    const creds = this.access.credentials;
    if (!creds || !('username' in creds) || this.basic)
      throw this.refused(req, 401);
    this.basic = true;
  }

  /** Configured realm origins; Docker Hub's token service is the one built-in exception. */
  private realms(): string[] {
    return [
      ...(this.access.tokenRealms ?? []),
      ...(this.access.host === 'docker.io' && !this.access.endpoint
        ? ['https://auth.docker.io']
        : []),
    ];
  }

  private async requestToken(
    tokenUrl: URL,
    req: RegistryRequest,
    signal: AbortSignal,
    deadline: AbortSignal,
  ): Promise<Exchange> {
    const creds = this.access.credentials;
    const auth = creds && 'username' in creds ? basicHeader(creds) : undefined;
    const tokenReq: RegistryRequest = {
      path: tokenUrl.href,
      repository: req.repository,
      cap: this.limits.tokenBytes,
      what: `token for ${this.scopeOf(req.repository)}`,
    };
    let res: Exchange;
    try {
      // The realm was checked; Basic credentials go only to it, never elsewhere.
      res = await exchange(
        this.pools,
        this.fetch,
        tokenUrl,
        tokenReq,
        auth,
        signal,
        {
          host: this.access.host,
          authOrigin: tokenUrl.origin,
          followRedirects: false,
        },
      );
    } catch (e) {
      if (e instanceof SourceError) throw e;
      const ctx: RetryContext = {
        what: req.what,
        host: this.access.host,
        fetch: this.fetch,
      };
      if (signal.aborted) throw abortError(ctx, deadline, req.signal);
      throw new SourceError(
        'registry_unreachable',
        `token endpoint unreachable`,
        {
          host: this.access.host,
        },
      );
    }
    return this.checkTokenAnswer(res);
  }

  private checkTokenAnswer(res: Exchange): Exchange {
    if (res.status === 429) {
      throw new SourceError('rate_limited', 'token endpoint rate-limited us', {
        host: this.access.host,
      });
    }
    if (res.status !== 200 || !res.body) {
      throw new SourceError(
        res.status >= 500 ? 'registry_unreachable' : 'registry_auth',
        `token endpoint answered ${res.status}`,
        { host: this.access.host, status: res.status },
      );
    }
    return res;
  }
}
