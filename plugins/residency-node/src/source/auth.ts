/*
 * Registry authentication: WWW-Authenticate challenge parsing and bearer-token caching.
 * The challenge grammar (RFC 7235 auth-params) is small, so it is parsed by hand here.
 */
import { SourceError } from './types';

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
 * on the registry's own host name unless its origin is explicitly configured.
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
  if (
    url.hostname !== registryUrl.hostname &&
    !allowedOrigins.includes(url.origin)
  ) {
    throw new SourceError(
      'registry_auth',
      `Refusing bearer realm on another host (${url.hostname}) than the registry (${registryUrl.hostname})`,
      { problem: 'realm_foreign_host', realm: url.origin },
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
