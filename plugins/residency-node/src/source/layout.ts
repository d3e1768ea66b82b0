/*
 * OCI image layout directories (what `skopeo copy ... oci:<dir>:<tag>` writes) as a
 * source: `index.json` names tags via `org.opencontainers.image.ref.name`, content
 * lives in `blobs/<alg>/<hex>`. `cosign save` layouts name nothing by tag: their
 * index entries carry a `kind` annotation instead (`dev.cosignproject.cosign/image`,
 * `/imageIndex`, `/sigs`, `/atts`, one image per layout), mapped here onto the tags
 * discovery asks for. Same hashing and caps as the registry client; digests
 * are validated before they become paths, so nothing can traverse out of `blobs/`.
 */
import { createHash } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { join, relative, resolve as resolvePath, isAbsolute } from 'node:path';
import { isValidDigest } from '../reference';
import type { SourceLimits } from './limits';
import {
  ANNOTATION_REF_NAME,
  MEDIA_OCI_INDEX,
  parseManifest,
  verifyDigest,
  type Descriptor,
  type ParsedManifest,
} from './oci';
import type { FetchedManifest, OciStore } from './store';
import { SourceError } from './types';

/** cosign's `cosign save` index-entry annotation and its values (pkg/oci/layout). */
export const COSIGN_SAVE_KIND = 'kind';
export const COSIGN_SAVE_IMAGE = 'dev.cosignproject.cosign/image';
export const COSIGN_SAVE_IMAGE_INDEX = 'dev.cosignproject.cosign/imageIndex';
export const COSIGN_SAVE_SIGS = 'dev.cosignproject.cosign/sigs';
export const COSIGN_SAVE_ATTS = 'dev.cosignproject.cosign/atts';

function ioError(e: unknown, what: string): SourceError {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new SourceError('not_found', `${what} not found in the OCI layout`);
  }
  return new SourceError(
    'registry_unreachable',
    `${what}: cannot read the OCI layout (${code ?? 'I/O error'})`,
    {
      problem: 'io',
    },
  );
}

/** Reads a regular file, at most `limit` bytes (more => too_large); FIFOs and devices are refused. */
async function readFileCapped(
  path: string,
  limit: number,
  what: string,
): Promise<Uint8Array> {
  let handle: fs.FileHandle;
  try {
    // O_NONBLOCK: opening a FIFO planted in the layout must not hang the check.
    handle = await fs.open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw ioError(e, what);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) {
      throw new SourceError(
        'registry_unreachable',
        `${what} is not a regular file`,
        { problem: 'io' },
      );
    }
    if (st.size > limit) {
      throw new SourceError(
        'too_large',
        `${what} is ${st.size} bytes, over the limit of ${limit}`,
        {
          limit,
          size: st.size,
        },
      );
    }
    // Read at most limit+1 bytes even if the file grows after the stat.
    const buf = Buffer.alloc(Math.min(limit, st.size) + 1);
    let total = 0;
    for (;;) {
      const { bytesRead } = await handle.read(
        buf,
        total,
        buf.length - total,
        total,
      );
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > limit) {
        throw new SourceError('too_large', `${what} exceeds ${limit} bytes`, {
          limit,
        });
      }
      if (total === buf.length) break;
    }
    return buf.subarray(0, total);
  } catch (e) {
    if (e instanceof SourceError) throw e;
    throw ioError(e, what);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** An opened OCI image layout; reopen per check (the directory may change). */
export class OciLayout implements OciStore {
  readonly tagSource = 'layout' as const;
  readonly referrersSource = 'layout' as const;

  /**
   * Subject digest -> referrer descriptors, per layout root and index.json content.
   * A layout has no referrers API, so finding an image's referrers means reading
   * every manifest the index lists; doing that once per index instead of once per
   * image keeps a check of a large layout linear instead of quadratic. Keyed by the
   * SHA-256 of index.json: any change to the layout's index builds a new map, and
   * manifests are content-addressed (re-hashed whenever they are read for use).
   */
  private static readonly subjectMaps = new Map<
    string,
    Promise<Map<string, Descriptor[]>>
  >();
  private static readonly SUBJECT_MAP_CACHE_SIZE = 16;

  private constructor(
    readonly root: string,
    private readonly index: ParsedManifest,
    private readonly limits: SourceLimits,
    private readonly indexHash: string,
  ) {}

  /**
   * Opens a layout. With `roots`, the directory (after resolving symlinks) must lie
   * inside one of them, otherwise `registry_not_allowed` and nothing is read.
   */
  static async open(
    path: string,
    limits: SourceLimits,
    roots?: readonly string[],
  ): Promise<OciLayout> {
    let root = resolvePath(path);
    if (roots) {
      try {
        root = await fs.realpath(root);
      } catch (e) {
        throw ioError(e, `layout ${path}`);
      }
      const inside = await Promise.all(
        roots.map(async r => {
          const base = await fs.realpath(resolvePath(r)).catch(() => undefined);
          if (!base) return false;
          const rel = relative(base, root);
          return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
        }),
      );
      if (!inside.some(Boolean)) {
        throw new SourceError(
          'registry_not_allowed',
          'OCI layout path is outside the configured layout roots',
          {
            path: path.slice(0, 200),
          },
        );
      }
    }
    await readFileCapped(join(root, 'oci-layout'), 4096, 'oci-layout marker');
    const bytes = await readFileCapped(
      join(root, 'index.json'),
      limits.referrersBytes,
      'index.json',
    );
    const index = parseManifest(
      bytes,
      MEDIA_OCI_INDEX,
      limits.layoutIndexEntries,
      'index.json',
    );
    const indexHash = createHash('sha256').update(bytes).digest('hex');
    return new OciLayout(root, index, limits, indexHash);
  }

  /** Descriptors of index.json (validated). */
  get manifests(): readonly Descriptor[] {
    return this.index.manifests;
  }

  private blobPath(digest: string): string {
    if (!isValidDigest(digest)) {
      throw new SourceError(
        'digest_mismatch',
        'invalid digest in the OCI layout',
        { problem: 'invalid_digest' },
      );
    }
    const [alg, hex] = digest.split(':');
    return join(this.root, 'blobs', alg, hex);
  }

  async manifestByTag(
    tag: string,
    cap: number,
  ): Promise<FetchedManifest | undefined> {
    const d =
      this.index.manifests.find(
        m => m.annotations?.[ANNOTATION_REF_NAME] === tag,
      ) ?? this.cosignSaveEntry(tag);
    if (!d) return undefined;
    return this.readManifest(d.digest, cap, d.size, d.mediaType);
  }

  /**
   * The entry a tag stands for in a `cosign save` layout, which has no tag names:
   * `latest` is its one signed image (or index), and `<alg>-<hex>.sig` / `.att` its
   * signatures / attestations manifest, but only when `<alg>:<hex>` is that image's
   * digest (a layout of cosign save holds the material of exactly one image). With
   * more than one image entry nothing is guessed.
   */
  private cosignSaveEntry(tag: string): Descriptor | undefined {
    const kind = (d: Descriptor) => d.annotations?.[COSIGN_SAVE_KIND];
    const images = this.index.manifests.filter(
      d => kind(d) === COSIGN_SAVE_IMAGE || kind(d) === COSIGN_SAVE_IMAGE_INDEX,
    );
    if (images.length !== 1) return undefined;
    if (tag === 'latest') return images[0];
    const m = /^(sha256|sha512)-([0-9a-f]+)\.(sig|att)$/.exec(tag);
    if (!m || `${m[1]}:${m[2]}` !== images[0].digest) return undefined;
    const want = m[3] === 'sig' ? COSIGN_SAVE_SIGS : COSIGN_SAVE_ATTS;
    const found = this.index.manifests.filter(d => kind(d) === want);
    return found.length === 1 ? found[0] : undefined;
  }

  async manifestByDigest(
    digest: string,
    cap: number,
  ): Promise<FetchedManifest> {
    const d = this.index.manifests.find(m => m.digest === digest);
    return this.readManifest(digest, cap, d?.size, d?.mediaType);
  }

  private async readManifest(
    digest: string,
    cap: number,
    size: number | undefined,
    mediaType: string | undefined,
  ): Promise<FetchedManifest> {
    const bytes = await this.blob(digest, size, cap, `manifest ${digest}`);
    const parsed = parseManifest(
      bytes,
      mediaType,
      Number.MAX_SAFE_INTEGER,
      `manifest ${digest}`,
    );
    return { digest, bytes, mediaType: parsed.mediaType };
  }

  async blob(
    digest: string,
    size: number | undefined,
    cap: number,
    what: string,
  ): Promise<Uint8Array> {
    const limit = Math.min(cap, size ?? Number.POSITIVE_INFINITY);
    const bytes = await readFileCapped(this.blobPath(digest), limit, what);
    verifyDigest(bytes, digest, what);
    return bytes;
  }

  /** Manifests listed in index.json whose `subject` is `digest` (layouts have no referrers API). */
  async referrers(digest: string): Promise<Descriptor[]> {
    const key = `${this.root}\0${this.indexHash}\0${this.limits.manifestBytes}`;
    const cache = OciLayout.subjectMaps;
    let map = cache.get(key);
    if (!map) {
      map = this.buildSubjectMap();
      cache.set(key, map);
      map.catch(() => cache.delete(key)); // an I/O failure is not remembered
      if (cache.size > OciLayout.SUBJECT_MAP_CACHE_SIZE) {
        cache.delete(cache.keys().next().value!);
      }
    }
    const out = (await map).get(digest) ?? [];
    if (out.length > this.limits.referrersEntries) {
      throw new SourceError(
        'too_large',
        `more than ${this.limits.referrersEntries} referrers`,
        { limit: this.limits.referrersEntries },
      );
    }
    return out.map(d => ({ ...d }));
  }

  private async buildSubjectMap(): Promise<Map<string, Descriptor[]>> {
    const bySubject = new Map<string, Descriptor[]>();
    for (const d of this.index.manifests) {
      if (d.size > this.limits.manifestBytes) continue;
      const bytes = await this.blob(
        d.digest,
        d.size,
        this.limits.manifestBytes,
        `manifest ${d.digest}`,
      );
      let parsed: ParsedManifest;
      try {
        parsed = parseManifest(
          bytes,
          d.mediaType,
          Number.MAX_SAFE_INTEGER,
          `manifest ${d.digest}`,
        );
      } catch {
        continue; // not a manifest we understand, so not a referrer of ours
      }
      const subject = parsed.subject?.digest;
      if (!subject || subject === d.digest) continue;
      const list = bySubject.get(subject) ?? [];
      list.push({
        ...d,
        ...(parsed.artifactType ? { artifactType: parsed.artifactType } : {}),
      });
      bySubject.set(subject, list);
    }
    return bySubject;
  }
}
