/*
 * One HTTP exchange with a registry (or a host it redirects to), on an undici pool:
 * redirects followed by hand under a policy, Authorization only for one origin, and
 * the body of a 2xx read up to min(expectedSize, cap) + 1 bytes. No retries here.
 */
import { readCapped } from './oci';
import type { PoolSet } from './pool';
import type { FetchOptions } from './limits';
import { NetworkFailure, parseRetryAfter } from './retry';
import { SourceError } from './types';

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

/** A response plus the registry's Retry-After, when it gave one. */
export interface Exchange extends RegistryResponse {
  retryAfterMs?: number;
}

/** How one exchange is made: where Authorization may go, which redirects are followed. */
export interface ExchangePolicy {
  /** Registry host (for messages and error details). */
  host: string;
  /** The only origin that ever receives `authorization`. */
  authOrigin: string;
  /** Redirects are refused outright when false (token endpoints). */
  followRedirects: boolean;
  /** Throws a typed error when a redirect target is not allowed. */
  checkRedirect?: (next: URL, req: RegistryRequest) => void;
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

/** Sends one GET; network failures become {@link NetworkFailure} (retried by the caller). */
async function send(
  pools: PoolSet,
  fetch: FetchOptions,
  url: URL,
  headers: Record<string, string>,
  signal: AbortSignal,
) {
  try {
    return await pools.get(url.origin).request({
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers,
      signal,
      headersTimeout: fetch.headersTimeoutMs,
      bodyTimeout: fetch.bodyIdleTimeoutMs,
    });
  } catch (e) {
    if (e instanceof SourceError) throw e;
    throw new NetworkFailure(e);
  }
}

/** The next URL of a redirect, after the checks every redirect must pass. */
function redirectTarget(
  location: string | undefined,
  current: URL,
  req: RegistryRequest,
  policy: ExchangePolicy,
): URL {
  let next: URL | undefined;
  try {
    next = location ? new URL(location, current) : undefined;
  } catch {
    next = undefined;
  }
  if (!next || (next.protocol !== 'https:' && next.protocol !== 'http:')) {
    throw new SourceError(
      'registry_unreachable',
      `${req.what}: invalid redirect location`,
    );
  }
  if (current.protocol === 'https:' && next.protocol === 'http:') {
    throw new SourceError(
      'registry_unreachable',
      `${req.what}: refusing redirect from https to http`,
      { host: policy.host, problem: 'insecure_redirect' },
    );
  }
  if (next.username || next.password) {
    throw new SourceError(
      'registry_unreachable',
      `${req.what}: redirect with userinfo refused`,
    );
  }
  policy.checkRedirect?.(next, req);
  return next;
}

/** Refuses a declared Content-Length over the limit before reading anything. */
function checkContentLength(
  headers: Record<string, string>,
  limit: number,
  req: RegistryRequest,
  details: Record<string, unknown>,
): void {
  const raw = headers['content-length'];
  const length = raw !== undefined ? Number(raw) : undefined;
  if (length !== undefined && Number.isFinite(length) && length > limit) {
    throw new SourceError(
      'too_large',
      `${req.what} is ${length} bytes, over the limit of ${limit}`,
      { ...details, contentLength: length },
    );
  }
}

/** Reads a 2xx body within the object's cap and declared size. */
async function readBody(
  res: Awaited<ReturnType<typeof send>>,
  headers: Record<string, string>,
  req: RegistryRequest,
  policy: ExchangePolicy,
): Promise<Uint8Array> {
  const limit = Math.min(req.cap, req.expectedSize ?? Number.POSITIVE_INFINITY);
  const details = {
    host: policy.host,
    cap: req.cap,
    ...(req.expectedSize !== undefined
      ? { declaredSize: req.expectedSize }
      : {}),
  };
  try {
    checkContentLength(headers, limit, req, details);
  } catch (e) {
    discard(res.body);
    throw e;
  }
  try {
    return await readCapped(res.body, limit, req.what, details);
  } catch (e) {
    if (e instanceof SourceError) throw e;
    throw new NetworkFailure(e);
  }
}

/**
 * One HTTP exchange, following redirects by hand: Authorization is only sent to
 * `policy.authOrigin`, a redirect to http from https is refused, every redirect target
 * passes `policy.checkRedirect`, and a 2xx body is read within its caps.
 */
export async function exchange(
  pools: PoolSet,
  fetch: FetchOptions,
  start: URL,
  req: RegistryRequest,
  authorization: string | undefined,
  signal: AbortSignal,
  policy: ExchangePolicy,
): Promise<Exchange> {
  let current = start;
  for (let redirects = 0; ; redirects++) {
    const headers: Record<string, string> = { 'user-agent': fetch.userAgent };
    if (req.accept) headers.accept = req.accept;
    if (authorization && current.origin === policy.authOrigin)
      headers.authorization = authorization;
    const res = await send(pools, fetch, current, headers, signal);
    const h = headerMap(res.headers);
    const status = res.statusCode;
    if (REDIRECTS.has(status)) {
      discard(res.body);
      if (!policy.followRedirects) {
        throw new SourceError(
          'registry_auth',
          `${req.what}: unexpected redirect`,
          { status },
        );
      }
      if (redirects >= fetch.maxRedirects) {
        throw new SourceError(
          'registry_unreachable',
          `${req.what}: too many redirects`,
          { host: policy.host },
        );
      }
      current = redirectTarget(h.location, current, req, policy);
      continue;
    }
    if (status < 200 || status >= 300) {
      discard(res.body);
      const retryAfterMs = parseRetryAfter(h['retry-after']);
      return {
        status,
        headers: h,
        url: current,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      };
    }
    const body = await readBody(res, h, req, policy);
    return { status, headers: h, body, url: current };
  }
}
