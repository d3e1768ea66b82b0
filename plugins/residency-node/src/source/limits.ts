/*
 * Caps and timeouts of the artifact sources. Every object read from a registry or a
 * layout has a byte cap per object type, and every list a count cap checked before
 * iterating, so hostile registries cannot exhaust memory or time.
 */

const MiB = 1024 * 1024;

/** Byte and count caps applied to everything a source reads. */
export interface SourceLimits {
  /** Image, `.sig`/`.att` and referrer manifests. Default 4 MiB. */
  manifestBytes: number;
  /** Signature, attestation and bundle layers. Default 16 MiB. */
  blobBytes: number;
  /** Referrers API responses, referrers tag-schema indexes, layout `index.json`. Default 4 MiB. */
  referrersBytes: number;
  /** Bearer token responses. Default 1 MiB. */
  tokenBytes: number;
  /** Image config blobs (read only for unsigned label claims). Default 1 MiB. */
  configBytes: number;
  /** Layers accepted in one `.sig`/`.att`/referrer manifest. Default 64. */
  layersPerManifest: number;
  /** Referrer descriptors accepted for one digest (API and tag schema together). Default 128. */
  referrersEntries: number;
  /** Manifests accepted in a layout's `index.json`. Default 4096. */
  layoutIndexEntries: number;
  /** Bytes of all blobs fetched while discovering one image (all mechanisms). Default 64 MiB. */
  discoveryBytes: number;
  /** Blobs fetched while discovering one image (signatures, envelopes, bundles). Default 256. */
  discoveryItems: number;
  /** Unsigned claims (labels/annotations) kept per image. Default 64. */
  claims: number;
  /** Concurrent requests per registry host. Default 4. */
  concurrencyPerRegistry: number;
}

/** Network behaviour of the registry client. */
export interface FetchOptions {
  /** TCP/TLS connect timeout. Default 5 s. */
  connectTimeoutMs: number;
  /** Time to receive response headers. Default 10 s. */
  headersTimeoutMs: number;
  /** Longest pause between two body chunks. Default 10 s. */
  bodyIdleTimeoutMs: number;
  /** Deadline of one logical operation (all retries and redirects included). Default 60 s. */
  totalTimeoutMs: number;
  /**
   * Overall deadline of one image: resolving it and discovering everything attached,
   * all requests together (a registry dripping each of many layers just under the
   * per-request deadline ends here as `registry_unreachable`, `problem: image_deadline`).
   * Default 120 s.
   */
  imageTimeoutMs: number;
  /** Attempts per request including the first (408/429/5xx/network errors). Default 4. */
  maxAttempts: number;
  /** First backoff step; doubled each retry, full jitter. Default 250 ms. */
  baseDelayMs: number;
  /** Largest backoff step. Default 4 s. */
  maxDelayMs: number;
  /** Largest Retry-After honoured; a longer one gives up at once. Default 30 s. */
  retryAfterCapMs: number;
  /** Redirects followed per request (blob storage). Default 3. */
  maxRedirects: number;
  /** User-Agent header. */
  userAgent: string;
  /** Random source in [0,1) for jitter (tests make it deterministic). */
  random: () => number;
  /** Extra trusted CA certificates (PEM) for registries with a private CA. */
  ca?: string | string[];
}

/** Defaults of {@link SourceLimits}. */
export const DEFAULT_SOURCE_LIMITS: Readonly<SourceLimits> = Object.freeze({
  manifestBytes: 4 * MiB,
  blobBytes: 16 * MiB,
  referrersBytes: 4 * MiB,
  tokenBytes: 1 * MiB,
  configBytes: 1 * MiB,
  layersPerManifest: 64,
  referrersEntries: 128,
  layoutIndexEntries: 4096,
  discoveryBytes: 64 * MiB,
  discoveryItems: 256,
  claims: 64,
  concurrencyPerRegistry: 4,
});

/** Defaults of {@link FetchOptions}. */
export const DEFAULT_FETCH_OPTIONS: Readonly<FetchOptions> = Object.freeze({
  connectTimeoutMs: 5_000,
  headersTimeoutMs: 10_000,
  bodyIdleTimeoutMs: 10_000,
  totalTimeoutMs: 60_000,
  imageTimeoutMs: 120_000,
  maxAttempts: 4,
  baseDelayMs: 250,
  maxDelayMs: 4_000,
  retryAfterCapMs: 30_000,
  maxRedirects: 3,
  userAgent: 'residency-verifier/0.1',
  random: Math.random,
});

function positive(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0
    ? Math.floor(value)
    : fallback;
}

/** Fills in defaults; non-positive or non-numeric values fall back to the default. */
export function resolveLimits(partial?: Partial<SourceLimits>): SourceLimits {
  const out = { ...DEFAULT_SOURCE_LIMITS };
  for (const key of Object.keys(out) as (keyof SourceLimits)[]) {
    out[key] = positive(partial?.[key], DEFAULT_SOURCE_LIMITS[key]);
  }
  return out;
}

/** Fills in defaults of the network options. */
export function resolveFetchOptions(
  partial?: Partial<FetchOptions>,
): FetchOptions {
  const d = DEFAULT_FETCH_OPTIONS;
  return {
    connectTimeoutMs: positive(partial?.connectTimeoutMs, d.connectTimeoutMs),
    headersTimeoutMs: positive(partial?.headersTimeoutMs, d.headersTimeoutMs),
    bodyIdleTimeoutMs: positive(
      partial?.bodyIdleTimeoutMs,
      d.bodyIdleTimeoutMs,
    ),
    totalTimeoutMs: positive(partial?.totalTimeoutMs, d.totalTimeoutMs),
    imageTimeoutMs: positive(partial?.imageTimeoutMs, d.imageTimeoutMs),
    maxAttempts: positive(partial?.maxAttempts, d.maxAttempts),
    baseDelayMs: positive(partial?.baseDelayMs, d.baseDelayMs),
    maxDelayMs: positive(partial?.maxDelayMs, d.maxDelayMs),
    retryAfterCapMs: positive(partial?.retryAfterCapMs, d.retryAfterCapMs),
    maxRedirects:
      typeof partial?.maxRedirects === 'number' && partial.maxRedirects >= 0
        ? Math.floor(partial.maxRedirects)
        : d.maxRedirects,
    userAgent: partial?.userAgent ?? d.userAgent,
    random: partial?.random ?? d.random,
    ...(partial?.ca !== undefined ? { ca: partial.ca } : {}),
  };
}
