/*
 * OCI media types, descriptors and the small JSON helpers shared by the writers.
 *
 * The media types and annotations are written here again on purpose, not imported
 * from residency-node's source/oci.ts: the kit plays cosign's part, and a constant
 * the engine got wrong must not be copied into the material the engine is tested
 * against (the interop tests compare both with real cosign output).
 */
import { createHash } from 'node:crypto';

export const MEDIA_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MEDIA_OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const MEDIA_OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const MEDIA_OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
export const MEDIA_OCI_LAYER_GZIP =
  'application/vnd.oci.image.layer.v1.tar+gzip';
export const MEDIA_COSIGN_SIMPLESIGNING =
  'application/vnd.dev.cosign.simplesigning.v1+json';
export const MEDIA_DSSE_ENVELOPE = 'application/vnd.dsse.envelope.v1+json';
export const MEDIA_SIGSTORE_BUNDLE_V03 =
  'application/vnd.dev.sigstore.bundle.v0.3+json';
export const MEDIA_IN_TOTO = 'application/vnd.in-toto+json';

export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';
export const ANNOTATION_COSIGN_SIGNATURE = 'dev.cosignproject.cosign/signature';

/** An OCI content descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** A blob or manifest held in memory, with its descriptor. */
export interface Blob {
  bytes: Uint8Array;
  descriptor: Descriptor;
}

/** `sha256:<hex>` of some bytes. */
export function digestOf(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** UTF-8 JSON bytes, compact, keys in insertion order (as Go's encoding/json emits structs). */
export function jsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** Wraps bytes as a blob with a descriptor. */
export function blobOf(
  bytes: Uint8Array,
  mediaType: string,
  extra: Partial<Pick<Descriptor, 'annotations' | 'artifactType'>> = {},
): Blob {
  return {
    bytes,
    descriptor: {
      mediaType,
      digest: digestOf(bytes),
      size: bytes.byteLength,
      ...extra,
    },
  };
}

/** The cosign tag for a digest: `sha256-<hex>` plus suffix (`.sig`, `.att`, or '' for the referrers fallback). */
export function cosignTag(
  digest: string,
  suffix: '.sig' | '.att' | '' = '',
): string {
  return `${digest.replace(':', '-')}${suffix}`;
}

/** The empty JSON blob (`{}`) used as config by artifact manifests. */
export const EMPTY_JSON = new TextEncoder().encode('{}');
