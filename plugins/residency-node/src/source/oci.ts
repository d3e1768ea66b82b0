/*
 * OCI media types, content hashing, capped reading and manifest parsing shared by the
 * registry and layout sources. Parsing is hand-written and defensive on purpose: the
 * input is hostile, so every field is type-checked and every list is counted against
 * its cap before anything iterates over it.
 */
import { createHash } from 'node:crypto';
import { isValidDigest } from '../reference';
import { SourceError } from './types';
import { parseStrictJson, StrictJsonError } from '../verify/json';

export const MEDIA_OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const MEDIA_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MEDIA_DOCKER_MANIFEST =
  'application/vnd.docker.distribution.manifest.v2+json';
export const MEDIA_DOCKER_LIST =
  'application/vnd.docker.distribution.manifest.list.v2+json';
export const MEDIA_OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const MEDIA_DOCKER_CONFIG =
  'application/vnd.docker.container.image.v1+json';
export const MEDIA_COSIGN_SIMPLESIGNING =
  'application/vnd.dev.cosign.simplesigning.v1+json';
export const MEDIA_DSSE_ENVELOPE = 'application/vnd.dsse.envelope.v1+json';
export const MEDIA_SIGSTORE_BUNDLE_V03 =
  'application/vnd.dev.sigstore.bundle.v0.3+json';

export const ANNOTATION_COSIGN_SIGNATURE = 'dev.cosignproject.cosign/signature';
export const ANNOTATION_COSIGN_CERTIFICATE = 'dev.sigstore.cosign/certificate';
export const ANNOTATION_COSIGN_CHAIN = 'dev.sigstore.cosign/chain';
export const ANNOTATION_COSIGN_BUNDLE = 'dev.sigstore.cosign/bundle';
export const ANNOTATION_COSIGN_TIMESTAMP =
  'dev.sigstore.cosign/rfc3161timestamp';
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';

/** Media types asked for (Accept) and accepted for manifests. */
export const MANIFEST_MEDIA_TYPES = [
  MEDIA_OCI_INDEX,
  MEDIA_OCI_MANIFEST,
  MEDIA_DOCKER_MANIFEST,
  MEDIA_DOCKER_LIST,
] as const;

/** `application/vnd.dev.sigstore.bundle.v0.3+json` and `...bundle+json;version=0.x`. */
export function isSigstoreBundleMediaType(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    /^application\/vnd\.dev\.sigstore\.bundle(?:\.v0\.\d+\+json|\+json;\s*version=0\.\d+)$/.test(
      value,
    )
  );
}

/** An OCI content descriptor, validated. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** A parsed image manifest or index (only the fields discovery needs). */
export interface ParsedManifest {
  mediaType: string;
  artifactType?: string;
  config?: Descriptor;
  layers: Descriptor[];
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations: Record<string, string>;
}

/** Hex digest of `bytes` with the algorithm named by `digest` (`sha256:`/`sha512:`). */
export function digestOf(
  bytes: Uint8Array,
  algorithm: 'sha256' | 'sha512' = 'sha256',
): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** Hashes `bytes` with the digest's algorithm and throws `digest_mismatch` when they differ. */
export function verifyDigest(
  bytes: Uint8Array,
  expected: string,
  what: string,
): void {
  const algorithm = expected.startsWith('sha512:') ? 'sha512' : 'sha256';
  const actual = digestOf(bytes, algorithm);
  if (actual !== expected) {
    throw new SourceError(
      'digest_mismatch',
      `${what}: content does not hash to the digest asked for`,
      {
        expected,
        actual,
      },
    );
  }
}

/** Splits a digest into algorithm and hex, as in cosign's tag names (`sha256-<hex>`). */
export function digestTagBase(digest: string): string {
  return digest.replace(':', '-');
}

/**
 * Reads a stream of chunks into memory, stopping as soon as more than `limit` bytes
 * arrived (`limit` = min(declared size, cap)): the stream is destroyed and `too_large`
 * thrown, so an endless or lying body costs at most limit+1 bytes of memory.
 */
export async function readCapped(
  stream: AsyncIterable<Uint8Array | string> & {
    destroy?: (e?: Error) => void;
    on?: (event: 'error', fn: () => void) => unknown;
  },
  limit: number,
  what: string,
  details: Record<string, unknown> = {},
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const raw of stream) {
      const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
      total += chunk.byteLength;
      if (total > limit) {
        throw new SourceError('too_large', `${what} exceeds ${limit} bytes`, {
          ...details,
          limit,
        });
      }
      chunks.push(chunk);
    }
  } catch (e) {
    stream.on?.('error', () => undefined); // the abort we cause is expected
    stream.destroy?.();
    throw e;
  }
  return Buffer.concat(chunks, total);
}

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function malformed(what: string, problem: string): SourceError {
  // A registry or layout serving bytes that are not a manifest is a fault of the source:
  // we could not read the image, so it is reported as an I/O-class failure (unknown).
  return new SourceError(
    'registry_unreachable',
    `${what} is not a valid OCI manifest: ${problem}`,
    {
      problem: 'malformed_manifest',
      detail: problem,
    },
  );
}

function stringMap(
  v: Json,
  what: string,
  maxEntries = 4096,
): Record<string, string> {
  if (v === undefined) return {};
  if (!isObject(v)) throw malformed(what, 'annotations must be an object');
  const keys = Object.keys(v);
  if (keys.length > maxEntries) throw malformed(what, 'too many annotations');
  const out: Record<string, string> = Object.create(null);
  for (const k of keys) {
    const value = v[k];
    if (typeof value !== 'string')
      throw malformed(what, `annotation ${k.slice(0, 60)} is not a string`);
    out[k] = value;
  }
  return out;
}

/** Validates one descriptor; a digest that is not `sha256:`/`sha512:` hex is refused (no traversal). */
export function parseDescriptor(v: Json, what: string): Descriptor {
  if (!isObject(v)) throw malformed(what, 'descriptor must be an object');
  const { mediaType, digest, size, artifactType, annotations } = v;
  if (typeof mediaType !== 'string')
    throw malformed(what, 'descriptor mediaType missing');
  if (!isValidDigest(digest))
    throw malformed(what, 'descriptor digest invalid');
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw malformed(what, 'descriptor size invalid');
  }
  if (artifactType !== undefined && typeof artifactType !== 'string') {
    throw malformed(what, 'descriptor artifactType invalid');
  }
  const ann = stringMap(annotations, what);
  return {
    mediaType,
    digest,
    size,
    ...(artifactType ? { artifactType } : {}),
    ...(Object.keys(ann).length ? { annotations: ann } : {}),
  };
}

function descriptorList(
  v: Json,
  cap: number,
  what: string,
  field: string,
): Descriptor[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw malformed(what, `${field} must be an array`);
  if (v.length > cap) {
    throw new SourceError(
      'too_large',
      `${what}: ${v.length} ${field} exceed the cap of ${cap}`,
      {
        count: v.length,
        limit: cap,
      },
    );
  }
  return v.map(d => parseDescriptor(d, what));
}

/**
 * Parses manifest/index bytes. `mediaTypeHint` is the Content-Type or descriptor media
 * type; the document's own `mediaType` wins when present. `listCap` bounds `layers`
 * and `manifests` before they are iterated.
 */
export function parseManifest(
  bytes: Uint8Array,
  mediaTypeHint: string | undefined,
  listCap: number,
  what: string,
): ParsedManifest {
  let doc: Json;
  try {
    // Strict: duplicate keys would let two readers see two different manifests.
    doc = parseStrictJson(bytes, { maxLength: bytes.byteLength, maxDepth: 32 });
  } catch (e) {
    throw malformed(
      what,
      e instanceof StrictJsonError && e.problem === 'duplicate_key'
        ? 'duplicate keys'
        : 'not JSON',
    );
  }
  if (!isObject(doc)) throw malformed(what, 'not a JSON object');
  if (doc.schemaVersion !== 2) throw malformed(what, 'schemaVersion must be 2');
  // The OCI spec makes an image manifest's `layers` and an index's `manifests`
  // mutually exclusive: a document with both is ambiguous, never read as either.
  if (doc.layers !== undefined && doc.manifests !== undefined) {
    throw malformed(what, 'has both layers and manifests');
  }
  const hint = mediaTypeHint?.split(';')[0]?.trim();
  let mediaType: string;
  if (typeof doc.mediaType === 'string') mediaType = doc.mediaType;
  else if (hint && (MANIFEST_MEDIA_TYPES as readonly string[]).includes(hint))
    mediaType = hint;
  else if (Array.isArray(doc.manifests)) mediaType = MEDIA_OCI_INDEX;
  else mediaType = MEDIA_OCI_MANIFEST;
  if (!(MANIFEST_MEDIA_TYPES as readonly string[]).includes(mediaType)) {
    throw malformed(what, `unsupported media type ${mediaType.slice(0, 80)}`);
  }
  if (doc.artifactType !== undefined && typeof doc.artifactType !== 'string') {
    throw malformed(what, 'artifactType must be a string');
  }
  const isIndex =
    mediaType === MEDIA_OCI_INDEX || mediaType === MEDIA_DOCKER_LIST;
  return {
    mediaType,
    ...(typeof doc.artifactType === 'string'
      ? { artifactType: doc.artifactType }
      : {}),
    ...(!isIndex && doc.config !== undefined
      ? { config: parseDescriptor(doc.config, what) }
      : {}),
    layers: isIndex ? [] : descriptorList(doc.layers, listCap, what, 'layers'),
    manifests: isIndex
      ? descriptorList(doc.manifests, listCap, what, 'manifests')
      : [],
    ...(doc.subject !== undefined
      ? { subject: parseDescriptor(doc.subject, what) }
      : {}),
    annotations: stringMap(doc.annotations, what),
  };
}

/** Media type of manifest bytes: the document's `mediaType`, else the hint. */
export function manifestMediaType(bytes: Uint8Array, hint?: string): string {
  try {
    const doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
    if (isObject(doc) && typeof doc.mediaType === 'string')
      return doc.mediaType;
    if (isObject(doc) && Array.isArray(doc.manifests) && !hint)
      return MEDIA_OCI_INDEX;
  } catch {
    // fall through to the hint
  }
  return hint?.split(';')[0]?.trim() || MEDIA_OCI_MANIFEST;
}
