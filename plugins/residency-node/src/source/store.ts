/*
 * The read-only view discovery needs of a place holding OCI content: a repository in
 * a registry, or an OCI image layout directory. Both hash-check everything they return.
 */
import type { DiscoverySource } from '@residency-dev/plugin-residency-common';
import type { Descriptor } from './oci';

/** A manifest as fetched: raw bytes, the digest they hash to, and their media type. */
export interface FetchedManifest {
  digest: string;
  bytes: Uint8Array;
  mediaType: string;
}

/** Content-addressed read access used by discovery. */
export interface OciStore {
  /** Where tag-found material is reported from. */
  readonly tagSource: DiscoverySource;
  /** Where referrer-found material is reported from. */
  readonly referrersSource: DiscoverySource;
  /** A manifest by tag; undefined when the tag does not exist (definitive). */
  manifestByTag(
    tag: string,
    cap: number,
    signal?: AbortSignal,
  ): Promise<FetchedManifest | undefined>;
  /** A manifest by digest, hash-checked; `not_found` when absent. */
  manifestByDigest(
    digest: string,
    cap: number,
    signal?: AbortSignal,
  ): Promise<FetchedManifest>;
  /** A blob by digest, hash-checked, at most min(size, cap) bytes. */
  blob(
    digest: string,
    size: number | undefined,
    cap: number,
    what: string,
    signal?: AbortSignal,
  ): Promise<Uint8Array>;
  /** Native referrers of a digest; undefined when the store has no such mechanism. */
  referrers(
    digest: string,
    signal?: AbortSignal,
  ): Promise<Descriptor[] | undefined>;
}
