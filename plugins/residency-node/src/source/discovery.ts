/*
 * Discovery of signed material attached to one image digest, over any OciStore:
 * cosign's tag scheme (`sha256-<hex>.sig` / `.att`) and Sigstore bundles found as
 * referrers (native referrers API and the `sha256-<hex>` tag-schema index), queried
 * together and united. Discovery never verifies: it only returns hash-checked bytes.
 */
import type { SourceLimits } from './limits';
import {
  ANNOTATION_COSIGN_BUNDLE,
  ANNOTATION_COSIGN_CERTIFICATE,
  ANNOTATION_COSIGN_CHAIN,
  ANNOTATION_COSIGN_SIGNATURE,
  ANNOTATION_COSIGN_TIMESTAMP,
  MEDIA_COSIGN_SIMPLESIGNING,
  MEDIA_DOCKER_CONFIG,
  MEDIA_DOCKER_LIST,
  MEDIA_DSSE_ENVELOPE,
  MEDIA_OCI_CONFIG,
  MEDIA_OCI_INDEX,
  digestTagBase,
  isSigstoreBundleMediaType,
  parseManifest,
  type Descriptor,
} from './oci';
import type { OciStore } from './store';
import {
  SourceError,
  type Discovery,
  type FoundBundle,
  type FoundEnvelope,
  type FoundSimpleSignature,
  type ResolvedImage,
} from './types';

/**
 * Tag names for a digest: cosign's `<alg>-<hex>.sig` / `.att` (undefined when longer
 * than the 128-character tag limit, i.e. for sha512), and the OCI referrers tag schema
 * `<alg>-<ref>` with the algorithm truncated to 32 and the encoded part to 64 characters.
 */
export function cosignTags(digest: string): {
  sig?: string;
  att?: string;
  referrers: string;
} {
  const base = digestTagBase(digest);
  const ok = (t: string) => (t.length <= 128 ? t : undefined);
  const [alg, hex] = digest.split(':');
  return {
    sig: ok(`${base}.sig`),
    att: ok(`${base}.att`),
    referrers: `${alg.slice(0, 32)}-${(hex ?? '').slice(0, 64)}`,
  };
}

/**
 * The layers of the cosign manifest at `tag` (`.sig` or `.att`), count-capped before
 * anything iterates them; none when the tag is absent (a definitive "unsigned").
 */
async function layersOfTag(
  store: OciStore,
  tag: string | undefined,
  what: 'signature' | 'attestation',
  limits: SourceLimits,
  signal?: AbortSignal,
) {
  if (!tag) return [];
  const m = await store.manifestByTag(tag, limits.manifestBytes, signal);
  if (!m) return [];
  return parseManifest(
    m.bytes,
    m.mediaType,
    limits.layersPerManifest,
    `${what} manifest ${tag}`,
  ).layers;
}

async function signaturesFromTag(
  store: OciStore,
  tag: string | undefined,
  limits: SourceLimits,
  signal?: AbortSignal,
): Promise<FoundSimpleSignature[]> {
  const out: FoundSimpleSignature[] = [];
  for (const layer of await layersOfTag(
    store,
    tag,
    'signature',
    limits,
    signal,
  )) {
    if (layer.mediaType !== MEDIA_COSIGN_SIMPLESIGNING) continue;
    const s = await simpleSignatureOf(
      store,
      layer,
      store.tagSource,
      limits,
      signal,
    );
    if (s) out.push(s);
  }
  return out;
}

// Parallel to signaturesFromTag on purpose: the same walk over a tag's layers,
// but each keeps only its own media type and reads it into its own shape.
async function envelopesFromTag(
  store: OciStore,
  tag: string | undefined,
  limits: SourceLimits,
  signal?: AbortSignal,
): Promise<FoundEnvelope[]> {
  const out: FoundEnvelope[] = [];
  for (const layer of await layersOfTag(
    store,
    tag,
    'attestation',
    limits,
    signal,
  )) {
    if (layer.mediaType !== MEDIA_DSSE_ENVELOPE) continue;
    const envelope = await store.blob(
      layer.digest,
      layer.size,
      limits.blobBytes,
      `attestation ${layer.digest}`,
      signal,
    );
    out.push({
      source: store.tagSource,
      envelope,
      ...keylessAnnotations(layer),
    });
  }
  return out;
}

/** cosign's keyless annotations on a `.sig` or DSSE layer (certificate, chain, Rekor bundle, timestamp). */
function keylessAnnotations(
  layer: Descriptor,
): Omit<FoundEnvelope, 'source' | 'envelope'> {
  const a = layer.annotations ?? {};
  return {
    ...(a[ANNOTATION_COSIGN_CERTIFICATE] !== undefined
      ? { certificate: a[ANNOTATION_COSIGN_CERTIFICATE] }
      : {}),
    ...(a[ANNOTATION_COSIGN_CHAIN] !== undefined
      ? { chain: a[ANNOTATION_COSIGN_CHAIN] }
      : {}),
    ...(a[ANNOTATION_COSIGN_BUNDLE] !== undefined
      ? { rekorBundle: a[ANNOTATION_COSIGN_BUNDLE] }
      : {}),
    ...(a[ANNOTATION_COSIGN_TIMESTAMP] !== undefined
      ? { rfc3161Timestamp: a[ANNOTATION_COSIGN_TIMESTAMP] }
      : {}),
  };
}

/** Descriptors of referrer manifests: native mechanism plus the tag-schema index, united. */
async function referrerDescriptors(
  store: OciStore,
  digest: string,
  tag: string | undefined,
  limits: SourceLimits,
  signal?: AbortSignal,
): Promise<{ descriptor: Descriptor; source: 'native' | 'tag' }[]> {
  const [native, tagged] = await Promise.all([
    store.referrers(digest, signal),
    (async () => {
      if (!tag) return [];
      const m = await store.manifestByTag(tag, limits.referrersBytes, signal);
      if (!m) return [];
      return parseManifest(
        m.bytes,
        m.mediaType,
        limits.referrersEntries,
        `referrers tag index ${tag}`,
      ).manifests;
    })(),
  ]);
  const seen = new Set<string>();
  const out: { descriptor: Descriptor; source: 'native' | 'tag' }[] = [];
  for (const [list, source] of [
    [native ?? [], 'native'],
    [tagged, 'tag'],
  ] as const) {
    for (const d of list) {
      if (seen.has(d.digest)) continue;
      seen.add(d.digest);
      out.push({ descriptor: d, source });
    }
  }
  if (out.length > limits.referrersEntries) {
    throw new SourceError(
      'too_large',
      `more than ${limits.referrersEntries} referrers`,
      {
        limit: limits.referrersEntries,
      },
    );
  }
  return out;
}

/** What the referrers of one digest carry, sorted by the layer media types. */
interface ReferrerMaterial {
  bundles: FoundBundle[];
  signatures: FoundSimpleSignature[];
  envelopes: FoundEnvelope[];
}

/** One simple-signing layer as a found signature; undefined without a signature annotation. */
async function simpleSignatureOf(
  store: OciStore,
  layer: Descriptor,
  source: FoundSimpleSignature['source'],
  limits: SourceLimits,
  signal?: AbortSignal,
): Promise<FoundSimpleSignature | undefined> {
  const a = layer.annotations ?? {};
  const signature = a[ANNOTATION_COSIGN_SIGNATURE];
  if (signature === undefined) return undefined; // not a signature layer
  const payload = await store.blob(
    layer.digest,
    layer.size,
    limits.blobBytes,
    `signature payload ${layer.digest}`,
    signal,
  );
  return {
    source,
    payload,
    signature,
    ...keylessAnnotations(layer),
  };
}

/**
 * Fetches every referrer manifest and sorts its layers by their own media types:
 * Sigstore bundles (cosign v3, sigstore-js, GitHub), cosign simple-signing layers
 * (cosign's experimental OCI 1.1 `sign`) and DSSE envelopes (cosign's OCI 1.1
 * `attest`). The index entry's `artifactType` is never trusted to decide this:
 * go-containerregistry's tag-schema fallback writes the referrer's *config* media type
 * there (`application/vnd.oci.empty.v1+json` for cosign v3 bundles). Layers of any
 * other type, and nested indexes, are ignored, never fatal.
 */
export async function materialFromReferrers(
  store: OciStore,
  descriptors: Descriptor[],
  subjectDigest: string,
  limits: SourceLimits,
  signal?: AbortSignal,
): Promise<ReferrerMaterial> {
  const out: ReferrerMaterial = { bundles: [], signatures: [], envelopes: [] };
  const seenLayers = new Set<string>(); // union of both mechanisms, deduplicated by blob digest
  const source = store.referrersSource;
  for (const d of descriptors) {
    if (d.mediaType === MEDIA_OCI_INDEX || d.mediaType === MEDIA_DOCKER_LIST)
      continue; // an index is not a signature artifact
    let m;
    try {
      m = await store.manifestByDigest(d.digest, limits.manifestBytes, signal);
    } catch (e) {
      // A dangling entry (referrer deleted, index left behind) is definitively absent;
      // skipping it can only remove evidence, never add any. Other failures propagate.
      if (e instanceof SourceError && e.code === 'not_found') continue;
      throw e;
    }
    const manifest = parseManifest(
      m.bytes,
      m.mediaType,
      limits.layersPerManifest,
      `referrer ${d.digest}`,
    );
    // A referrer naming another subject was not attached to this image.
    if (manifest.subject && manifest.subject.digest !== subjectDigest) continue;
    for (const layer of manifest.layers) {
      if (seenLayers.has(layer.digest)) continue;
      if (isSigstoreBundleMediaType(layer.mediaType)) {
        seenLayers.add(layer.digest);
        const bundle = await store.blob(
          layer.digest,
          layer.size,
          limits.blobBytes,
          `bundle ${layer.digest}`,
          signal,
        );
        out.bundles.push({ source, bundle, mediaType: layer.mediaType });
      } else if (layer.mediaType === MEDIA_COSIGN_SIMPLESIGNING) {
        seenLayers.add(layer.digest);
        const s = await simpleSignatureOf(store, layer, source, limits, signal);
        if (s) out.signatures.push(s);
      } else if (layer.mediaType === MEDIA_DSSE_ENVELOPE) {
        seenLayers.add(layer.digest);
        const envelope = await store.blob(
          layer.digest,
          layer.size,
          limits.blobBytes,
          `attestation ${layer.digest}`,
          signal,
        );
        out.envelopes.push({ source, envelope, ...keylessAnnotations(layer) });
      }
    }
  }
  return out;
}

async function claimsOf(
  store: OciStore,
  image: ResolvedImage,
  limits: SourceLimits,
  signal?: AbortSignal,
): Promise<Record<string, string>> {
  const manifest = parseManifest(
    image.manifest,
    image.mediaType,
    Number.MAX_SAFE_INTEGER,
    'image manifest',
  );
  const claims: Record<string, string> = {};
  const add = (k: string, v: unknown) => {
    if (typeof v !== 'string' || Object.keys(claims).length >= limits.claims)
      return;
    if (k.length > 256 || k === '__proto__') return;
    claims[k] = v.length > 1024 ? `${v.slice(0, 1024)}…` : v;
  };
  const cfg = manifest.config;
  // Labels are cheap only when the config is small; larger configs are skipped, never fetched.
  if (
    cfg &&
    (cfg.mediaType === MEDIA_OCI_CONFIG ||
      cfg.mediaType === MEDIA_DOCKER_CONFIG) &&
    cfg.size <= limits.configBytes
  ) {
    const bytes = await store.blob(
      cfg.digest,
      cfg.size,
      limits.configBytes,
      `image config ${cfg.digest}`,
      signal,
    );
    try {
      const doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
      const labels = doc?.config?.Labels;
      if (labels && typeof labels === 'object' && !Array.isArray(labels)) {
        for (const k of Object.keys(labels).slice(0, limits.claims))
          add(k, labels[k]);
      }
    } catch {
      // An unparseable config only means there are no label claims.
    }
  }
  for (const [k, v] of Object.entries(manifest.annotations)) add(k, v);
  return claims;
}

/**
 * Wraps a store so that one discovery fetches at most `discoveryItems` blobs and
 * `discoveryBytes` bytes in total: the declared size is charged before the fetch (and
 * the fetch itself reads no more than that size), so many small caps cannot add up to
 * an out-of-memory.
 */
function budgeted(store: OciStore, limits: SourceLimits): OciStore {
  let bytes = 0;
  let items = 0;
  return {
    tagSource: store.tagSource,
    referrersSource: store.referrersSource,
    manifestByTag: (t, c, s) => store.manifestByTag(t, c, s),
    manifestByDigest: (d, c, s) => store.manifestByDigest(d, c, s),
    referrers: (d, s) => store.referrers(d, s),
    async blob(digest, size, cap, what, signal) {
      const charge = Math.min(size ?? cap, cap);
      items += 1;
      bytes += charge;
      if (items > limits.discoveryItems || bytes > limits.discoveryBytes) {
        throw new SourceError(
          'too_large',
          `signed material of this image exceeds ${limits.discoveryItems} objects or ${limits.discoveryBytes} bytes`,
          {
            limitItems: limits.discoveryItems,
            limitBytes: limits.discoveryBytes,
          },
        );
      }
      return store.blob(digest, size, cap, what, signal);
    },
  };
}

/**
 * Discovers everything attached to `image.digest` in `store`. All mechanisms are
 * queried; a definitive "nothing there" (404) is empty, any other failure throws.
 */
export async function discoverIn(
  source: OciStore,
  image: ResolvedImage,
  limits: SourceLimits,
  signal?: AbortSignal,
): Promise<Discovery> {
  const store = budgeted(source, limits);
  const tags = cosignTags(image.digest);
  const [signatures, envelopes, refs, claims] = await Promise.all([
    signaturesFromTag(store, tags.sig, limits, signal),
    envelopesFromTag(store, tags.att, limits, signal),
    referrerDescriptors(store, image.digest, tags.referrers, limits, signal),
    claimsOf(store, image, limits, signal),
  ]);
  const descriptors = refs.map(r => r.descriptor);
  const referred = await materialFromReferrers(
    store,
    descriptors,
    image.digest,
    limits,
    signal,
  );
  return {
    signatures: [...signatures, ...referred.signatures],
    envelopes: [...envelopes, ...referred.envelopes],
    bundles: referred.bundles,
    claims,
  };
}
