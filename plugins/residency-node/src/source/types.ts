/*
 * Contract between artifact sources (OCI registries, OCI image layouts on disk) and
 * the verifier. A source resolves a reference to a digest exactly once per check and
 * discovers the signed material attached to that digest; it never verifies anything.
 */
import type { DiscoverySource } from '@residency-dev/plugin-residency-common';

/** A parsed image reference (OCI distribution grammar, or an `oci:` layout path). */
export interface ImageReference {
  /** The text as written. */
  original: string;
  /** `registry` for host[:port]/repo refs, `layout` for `oci:<path>`. */
  kind: 'registry' | 'layout';
  /** host[:port] (registry refs, lowercased, `docker.io` normalised) or the layout path. */
  registry: string;
  /** Repository path (registry refs); for layouts, the tag or '' */
  repository: string;
  tag?: string;
  /** `sha256:<hex>` or `sha512:<hex>`; wins over the tag when both are given. */
  digest?: string;
}

/** The image as resolved for this check: everything downstream is keyed by `digest`. */
export interface ResolvedImage {
  reference: ImageReference;
  digest: string;
  /** Raw manifest bytes, already hashed and compared with `digest`. */
  manifest: Uint8Array;
  mediaType: string;
}

/** A cosign simple-signing signature (one layer of a `.sig` manifest). */
export interface FoundSimpleSignature {
  source: DiscoverySource;
  /** Raw payload bytes (the layer blob, hash-checked). */
  payload: Uint8Array;
  /** base64 signature from the `dev.cosignproject.cosign/signature` annotation. */
  signature: string;
  certificate?: string;
  chain?: string;
  rekorBundle?: string;
  /** JSON from the `dev.sigstore.cosign/rfc3161timestamp` annotation, when present (extension). */
  rfc3161Timestamp?: string;
}

/** A DSSE envelope (one layer of an `.att` manifest), raw bytes. */
export interface FoundEnvelope {
  source: DiscoverySource;
  envelope: Uint8Array;
  /** cosign keyless `attest`: the layer's certificate, chain, Rekor bundle and timestamp annotations. */
  certificate?: string;
  chain?: string;
  rekorBundle?: string;
  rfc3161Timestamp?: string;
}

/** A Sigstore bundle (from a referrer or `sha256-<hex>` tag-schema fallback), raw bytes. */
export interface FoundBundle {
  source: DiscoverySource;
  bundle: Uint8Array;
  mediaType: string;
}

/** Everything discovered for one digest (union of cosign tags and referrers). */
export interface Discovery {
  signatures: FoundSimpleSignature[];
  envelopes: FoundEnvelope[];
  bundles: FoundBundle[];
  /** Unsigned labels/annotations from the image manifest/config: claims only. */
  claims: Record<string, string>;
}

/** Codes of source failures; map 1:1 onto reason codes (`not_found` -> unknown). */
export type SourceErrorCode =
  | 'bad_reference'
  | 'registry_not_allowed'
  | 'registry_unreachable'
  | 'registry_auth'
  | 'rate_limited'
  | 'too_large'
  | 'digest_mismatch'
  | 'not_found';

/** A typed failure of a source; never swallowed into a pass. */
export class SourceError extends Error {
  readonly name = 'SourceError';
  constructor(
    readonly code: SourceErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** Resolves and discovers; one implementation per kind, plus a router over them. */
export interface ArtifactSource {
  resolve(ref: ImageReference, signal?: AbortSignal): Promise<ResolvedImage>;
  discover(image: ResolvedImage, signal?: AbortSignal): Promise<Discovery>;
}

/**
 * One registry of the configuration's allow-list, as the registry client needs it
 * (extension of the contract: added for `createArtifactSource`). Credentials are only
 * ever sent to this registry's own origin (and to a bearer realm on its host or in
 * `tokenRealms`).
 */
export interface RegistryAccess {
  /** host[:port] exactly as it appears in references (lowercase; `docker.io` for Docker Hub). */
  host: string;
  /** Configured region (informational for the source). */
  region?: string;
  /** Plain http: loopback and development only. */
  insecure?: boolean;
  credentials?: { username: string; password: string } | { token: string };
  /** Base URL override, e.g. `https://registry-1.docker.io` (the default for `docker.io`). */
  endpoint?: string;
  /**
   * Extra origins (`https://auth.example.com`) allowed as bearer realms. Matched by
   * exact origin (scheme, host, port); the registry's own origin is always allowed.
   */
  tokenRealms?: string[];
  /**
   * Origins (`https://bucket.s3.eu-central-1.amazonaws.com`, a CDN) this registry may
   * redirect downloads to. Redirects anywhere else fail with `registry_unreachable`
   * (`problem: redirect_not_allowed`). Credentials are never sent to them.
   */
  blobHosts?: string[];
  /** Concurrent requests to this registry; default `limits.concurrencyPerRegistry`. */
  concurrency?: number;
}
