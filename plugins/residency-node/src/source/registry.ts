/*
 * OCI Distribution v2 client for one allow-listed registry: manifests by tag or digest,
 * blobs by digest, the OCI 1.1 referrers API. Every manifest and blob is hashed here
 * and compared with the digest asked for; Docker-Content-Digest is only cross-checked.
 */
import {
  isValidDigest,
  isValidRepository,
  isValidTag,
  parseDigest,
} from '../reference';
import type { HealthSlot, RegistryHealth } from './health';
import { PoolSet, RegistryHttp } from './http';
import {
  resolveFetchOptions,
  resolveLimits,
  type FetchOptions,
  type SourceLimits,
} from './limits';
import {
  MANIFEST_MEDIA_TYPES,
  MEDIA_OCI_INDEX,
  digestOf,
  manifestMediaType,
  parseManifest,
  verifyDigest,
  type Descriptor,
} from './oci';
import type { FetchedManifest, OciStore } from './store';
import { SourceError, type RegistryAccess } from './types';

const MANIFEST_ACCEPT = MANIFEST_MEDIA_TYPES.join(', ');
const MAX_REFERRER_PAGES = 8;
/**
 * How long an absent referrers API is remembered when nobody starts a new cycle
 * (the default full-refresh interval): a long-running process without `newCycle`
 * calls still notices a registry upgraded to OCI 1.1.
 */
const REFERRERS_ABSENT_MS = 10 * 60_000;

/** Options of a standalone {@link RegistryClient}. */
export interface RegistryClientOptions {
  registry: RegistryAccess;
  limits?: Partial<SourceLimits>;
  fetchOptions?: Partial<FetchOptions>;
  /** Share keep-alive pools between clients (createArtifactSource does). */
  pools?: PoolSet;
  /** The registry health of the current cycle, shared with the source (see `newCycle`). */
  health?: HealthSlot;
}

function checkDigestHeader(
  bytes: Uint8Array,
  header: string | undefined,
  what: string,
) {
  // The registry's claim is never trusted, only compared: a well-formed header that
  // disagrees with the bytes is a lying registry.
  if (header && isValidDigest(header.trim()))
    verifyDigest(bytes, header.trim(), `${what} (Docker-Content-Digest)`);
}

/** Repository and tag/digest become URL paths: only grammar-valid values get that far. */
function checkTarget(repository: string, reference?: string): void {
  if (!isValidRepository(repository)) {
    throw new SourceError('bad_reference', 'Invalid repository name', {
      repository: String(repository).slice(0, 100),
    });
  }
  if (
    reference !== undefined &&
    !isValidTag(reference) &&
    !isValidDigest(reference)
  ) {
    throw new SourceError('bad_reference', 'Invalid tag or digest', {
      reference: String(reference).slice(0, 140),
    });
  }
}

/** Discovery's view of one repository of a registry. */
class RegistryStore implements OciStore {
  readonly tagSource = 'cosign-tag' as const;
  readonly referrersSource = 'referrers' as const;
  constructor(
    private readonly client: RegistryClient,
    private readonly repository: string,
  ) {}

  manifestByTag(tag: string, cap: number, signal?: AbortSignal) {
    return this.client.getManifest(this.repository, tag, {
      cap,
      optional: true,
      signal,
    });
  }

  async manifestByDigest(digest: string, cap: number, signal?: AbortSignal) {
    const m = await this.client.getManifest(this.repository, digest, {
      cap,
      signal,
    });
    return m as FetchedManifest;
  }

  blob(
    digest: string,
    size: number | undefined,
    cap: number,
    what: string,
    signal?: AbortSignal,
  ) {
    return this.client.getBlob(this.repository, digest, {
      ...(size !== undefined ? { size } : {}),
      cap,
      what,
      signal,
    });
  }

  referrers(digest: string, signal?: AbortSignal) {
    return this.client.getReferrers(this.repository, digest, signal);
  }
}

/** Waits for `p` to settle, or for `signal` to abort (whichever comes first). */
async function settledOrAborted(
  p: Promise<void>,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (!signal) {
    await p;
    return;
  }
  let onAbort: (() => void) | undefined;
  try {
    await Promise.race([
      p,
      new Promise<void>(r => {
        onAbort = () => r();
        if (signal.aborted) r();
        else signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** The target of a `Link: <...>; rel="next"` header, if any. */
function nextLink(header: string | undefined): string | undefined {
  return /<([^>]+)>\s*;\s*rel="?next"?/.exec(header ?? '')?.[1];
}

/** Client of one registry of the allow-list. Safe for concurrent use. */
export class RegistryClient {
  readonly host: string;
  /**
   * The registry answered 404/400/405 for `/referrers/`: it has no referrers API, so
   * it is not asked again for every image of this cycle (the tag schema still is).
   * Cleared by {@link RegistryClient.newCycle}, and after 10 minutes at the latest.
   */
  private referrersAbsentUntil = 0;
  /** The registry answered a `/referrers/` request with a listing this cycle. */
  private referrersPresent = false;
  /**
   * The one `/referrers/` request in flight while it is not known whether the
   * registry has the API: images asking meanwhile wait for its answer instead of
   * each asking too (settled whatever the answer; only a clean 400/404/405 marks
   * the API absent, a 5xx, timeout or reset leaves it unknown).
   */
  private referrersProbe?: Promise<void>;
  private readonly http: RegistryHttp;
  private readonly healthSlot: HealthSlot;
  private readonly ownsPools: boolean;
  private readonly pools: PoolSet;
  readonly limits: SourceLimits;

  constructor(options: RegistryClientOptions) {
    this.limits = resolveLimits(options.limits);
    this.healthSlot = options.health ?? {};
    const fetch = resolveFetchOptions(options.fetchOptions);
    this.ownsPools = !options.pools;
    this.pools =
      options.pools ?? new PoolSet(fetch, this.limits.concurrencyPerRegistry);
    this.http = new RegistryHttp(
      options.registry,
      this.limits,
      fetch,
      this.pools,
      this.healthSlot,
    );
    this.host = options.registry.host;
  }

  /**
   * Fetches a manifest by tag or digest. By digest, the bytes must hash to it; by tag,
   * the digest is computed from the bytes (sha256) and recorded once. With
   * `optional`, a 404 yields undefined (a definitive "nothing there").
   */
  async getManifest(
    repository: string,
    reference: string,
    options: {
      cap?: number;
      optional?: boolean;
      signal?: AbortSignal;
      what?: string;
    } = {},
  ): Promise<FetchedManifest | undefined> {
    checkTarget(repository, reference);
    const byDigest = isValidDigest(reference);
    const what = options.what ?? `manifest ${repository}:${reference}`;
    const res = await this.http.request({
      path: `/v2/${repository}/manifests/${reference}`,
      accept: MANIFEST_ACCEPT,
      repository,
      cap: options.cap ?? this.limits.manifestBytes,
      what,
      passStatuses: [404],
      signal: options.signal,
    });
    if (res.status === 404) {
      if (options.optional) return undefined;
      throw new SourceError('not_found', `${what} not found`, {
        host: this.host,
        repository,
        reference,
      });
    }
    const bytes = res.body ?? new Uint8Array();
    let digest: string;
    if (byDigest) {
      verifyDigest(bytes, reference, what);
      digest = reference;
    } else {
      digest = digestOf(bytes, 'sha256');
    }
    checkDigestHeader(bytes, res.headers['docker-content-digest'], what);
    return {
      digest,
      bytes,
      mediaType: manifestMediaType(bytes, res.headers['content-type']),
    };
  }

  /** Fetches a blob by digest, reading at most min(size, cap)+1 bytes, and hash-checks it. */
  async getBlob(
    repository: string,
    digest: string,
    options: {
      size?: number;
      cap?: number;
      signal?: AbortSignal;
      what?: string;
    } = {},
  ): Promise<Uint8Array> {
    checkTarget(repository);
    parseDigest(digest);
    const what = options.what ?? `blob ${digest}`;
    const res = await this.http.request({
      path: `/v2/${repository}/blobs/${digest}`,
      repository,
      cap: options.cap ?? this.limits.blobBytes,
      ...(options.size !== undefined ? { expectedSize: options.size } : {}),
      what,
      signal: options.signal,
    });
    const bytes = res.body ?? new Uint8Array();
    verifyDigest(bytes, digest, what);
    return bytes;
  }

  /**
   * OCI 1.1 referrers of a digest. Undefined when the registry has no referrers API
   * (404/400/405: the caller falls back to the `sha256-<hex>` tag schema); that answer
   * is remembered until {@link RegistryClient.newCycle}. While the first request of a
   * cycle is in flight, concurrent callers wait for its answer (one request per
   * registry and cycle when the API is absent). A listing longer than the
   * page cap, or one whose later page fails, is an error, never a partial list.
   */
  async getReferrers(
    repository: string,
    digest: string,
    signal?: AbortSignal,
  ): Promise<Descriptor[] | undefined> {
    checkTarget(repository);
    parseDigest(digest);
    while (!this.referrersPresent && this.referrersProbe) {
      await settledOrAborted(this.referrersProbe, signal);
      signal?.throwIfAborted();
    }
    if (Date.now() < this.referrersAbsentUntil) return undefined;
    let settle: (() => void) | undefined;
    if (!this.referrersPresent) {
      this.referrersProbe = new Promise<void>(r => (settle = r));
    }
    try {
      return await this.listReferrers(repository, digest, signal);
    } finally {
      if (settle) {
        this.referrersProbe = undefined;
        settle();
      }
    }
  }

  private async listReferrers(
    repository: string,
    digest: string,
    signal?: AbortSignal,
  ): Promise<Descriptor[] | undefined> {
    const out: Descriptor[] = [];
    let path: string | undefined = `/v2/${repository}/referrers/${digest}`;
    for (let page = 0; path !== undefined; page++) {
      if (page >= MAX_REFERRER_PAGES) throw this.pageCapError(digest);
      const res = await this.http.request({
        path,
        accept: MEDIA_OCI_INDEX,
        repository,
        cap: this.limits.referrersBytes,
        what: `referrers of ${digest}`,
        passStatuses: [400, 404, 405],
        signal,
      });
      if (res.status < 200 || res.status >= 300) {
        if (page > 0) throw this.brokenPageError(digest, res.status);
        this.referrersAbsentUntil = Date.now() + REFERRERS_ABSENT_MS;
        return undefined;
      }
      this.referrersPresent = true;
      out.push(...this.referrersPage(res.body, digest, out.length));
      // A link outside the registry is refused by request() (registry fault, unknown).
      path = nextLink(res.headers.link);
    }
    return out;
  }

  /** One page of a referrers listing, checked against the count cap before use. */
  private referrersPage(
    body: Uint8Array | undefined,
    digest: string,
    already: number,
  ): Descriptor[] {
    const index = parseManifest(
      body ?? new Uint8Array(),
      MEDIA_OCI_INDEX,
      this.limits.referrersEntries,
      `referrers index of ${digest}`,
    );
    if (already + index.manifests.length > this.limits.referrersEntries) {
      throw new SourceError(
        'too_large',
        `more than ${this.limits.referrersEntries} referrers for ${digest}`,
        { limit: this.limits.referrersEntries },
      );
    }
    return index.manifests;
  }

  private pageCapError(digest: string): SourceError {
    return new SourceError(
      'too_large',
      `referrers of ${digest}: the registry's listing continues beyond ${MAX_REFERRER_PAGES} pages; a partial list is not used`,
      { host: this.host, problem: 'page_cap', pages: MAX_REFERRER_PAGES },
    );
  }

  private brokenPageError(digest: string, status: number): SourceError {
    return new SourceError(
      'registry_unreachable',
      `referrers of ${digest}: the registry answered ${status} for a further page of its own listing; a partial list is not used`,
      { host: this.host, status, problem: 'listing_incomplete' },
    );
  }

  /**
   * Starts a new refresh cycle: the registry is asked again whether it has a
   * referrers API (it may have been upgraded since). A standalone client may be given
   * the cycle's registry health here; a client of a source shares the source's.
   */
  newCycle(options: { health?: RegistryHealth } = {}): void {
    this.referrersAbsentUntil = 0;
    this.referrersPresent = false;
    if ('health' in options) this.healthSlot.current = options.health;
  }

  /** A store view of one repository, for discovery. */
  store(repository: string): OciStore {
    return new RegistryStore(this, repository);
  }

  async close(): Promise<void> {
    if (this.ownsPools) await this.pools.close();
  }
}
