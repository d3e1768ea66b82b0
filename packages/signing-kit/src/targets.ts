/*
 * Where images and signed material go: a repository of an OCI registry (through the
 * push client of ./testing/registry) or an OCI image layout directory on disk, written
 * the way `skopeo copy ... oci:<dir>:<tag>` writes one: an `oci-layout` marker,
 * `index.json` naming tagged manifests with `org.opencontainers.image.ref.name`, and
 * content-addressed files under `blobs/sha256/<hex>`.
 */
import { mkdir, readFile, rename, writeFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ANNOTATION_REF_NAME,
  Blob,
  Descriptor,
  digestOf,
  MEDIA_OCI_INDEX,
} from './oci';
import { SigningKitError } from './keys';
import {
  fetchBlob,
  fetchManifest,
  pushBlob,
  pushManifest,
} from './testing/registry';

/** Where to write: a registry host (`127.0.0.1:5000`) or a layout directory. */
export type TargetSpec = { registry: string } | { layout: string };

/** A fetched manifest. */
export interface StoredManifest {
  bytes: Uint8Array;
  mediaType: string;
  digest: string;
}

/** A place that stores blobs and (optionally tagged) manifests. */
export interface OciTarget {
  /** Human-readable reference prefix: `host/repo` or `oci:<dir>`. */
  readonly name: string;
  putBlob(blob: Blob): Promise<void>;
  /** Stores a manifest; tags it when `tag` is given. Returns its descriptor. */
  putManifest(
    bytes: Uint8Array,
    mediaType: string,
    tag?: string,
  ): Promise<Descriptor>;
  getManifest(tagOrDigest: string): Promise<StoredManifest | null>;
  getBlob(digest: string): Promise<Uint8Array | null>;
}

/** A repository in a registry reachable over plain HTTP (loopback test registries). */
export class RegistryTarget implements OciTarget {
  readonly name: string;
  constructor(readonly host: string, readonly repository: string) {
    this.name = `${host}/${repository}`;
  }
  async putBlob(blob: Blob): Promise<void> {
    await pushBlob(this.host, this.repository, blob.bytes);
  }
  async putManifest(bytes: Uint8Array, mediaType: string, tag?: string) {
    const digest = digestOf(bytes);
    await pushManifest(
      this.host,
      this.repository,
      tag ?? digest,
      bytes,
      mediaType,
    );
    return { mediaType, digest, size: bytes.byteLength };
  }
  getManifest(tagOrDigest: string) {
    return fetchManifest(this.host, this.repository, tagOrDigest);
  }
  getBlob(digest: string) {
    return fetchBlob(this.host, this.repository, digest);
  }
}

interface LayoutIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

// index.json is read-modify-written; serialise writers of the same directory in-process.
const layoutLocks = new Map<string, Promise<unknown>>();
function withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const prev = layoutLocks.get(dir) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  layoutLocks.set(
    dir,
    next.catch(() => undefined),
  );
  return next;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function atomicWrite(path: string, bytes: Uint8Array | string) {
  const tmp = `${path}.tmp-${process.pid}-${Math.random()
    .toString(36)
    .slice(2)}`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}

function hexOf(digest: string): string {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (!m)
    throw new SigningKitError(`not a sha256 digest: ${digest}`, 'bad_input');
  return m[1];
}

/**
 * An OCI image layout directory. A tag is the `org.opencontainers.image.ref.name`
 * annotation of an `index.json` entry; re-tagging moves the name (as skopeo does).
 * Untagged manifests (referrers) are listed in `index.json` without a name so that
 * readers can discover them by their `subject`.
 */
export class LayoutTarget implements OciTarget {
  readonly name: string;
  constructor(readonly dir: string) {
    this.name = `oci:${dir}`;
  }

  private async init(): Promise<void> {
    await mkdir(join(this.dir, 'blobs', 'sha256'), { recursive: true });
    const marker = join(this.dir, 'oci-layout');
    if (!(await exists(marker))) {
      await atomicWrite(
        marker,
        JSON.stringify({ imageLayoutVersion: '1.0.0' }),
      );
    }
    const index = join(this.dir, 'index.json');
    if (!(await exists(index))) {
      await atomicWrite(
        index,
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA_OCI_INDEX,
          manifests: [],
        }),
      );
    }
  }

  /** Reads `index.json` (empty index when the layout does not exist yet). */
  async readIndex(): Promise<LayoutIndex> {
    let text: string;
    try {
      text = await readFile(join(this.dir, 'index.json'), 'utf8');
    } catch {
      return { schemaVersion: 2, mediaType: MEDIA_OCI_INDEX, manifests: [] };
    }
    const parsed = JSON.parse(text) as LayoutIndex;
    if (!parsed || !Array.isArray(parsed.manifests)) {
      throw new SigningKitError(
        `${this.dir}/index.json is not an OCI index`,
        'layout_invalid',
      );
    }
    return parsed;
  }

  private async writeBlobFile(bytes: Uint8Array): Promise<string> {
    const digest = digestOf(bytes);
    const path = join(this.dir, 'blobs', 'sha256', hexOf(digest));
    if (!(await exists(path))) await atomicWrite(path, bytes);
    return digest;
  }

  async putBlob(blob: Blob): Promise<void> {
    await this.init();
    await this.writeBlobFile(blob.bytes);
  }

  putManifest(bytes: Uint8Array, mediaType: string, tag?: string) {
    return withLock(this.dir, async () => {
      await this.init();
      const digest = await this.writeBlobFile(bytes);
      const desc: Descriptor = { mediaType, digest, size: bytes.byteLength };
      const index = await this.readIndex();
      let manifests = index.manifests;
      if (tag !== undefined) {
        manifests = manifests.filter(
          m => m.annotations?.[ANNOTATION_REF_NAME] !== tag,
        );
        manifests.push({
          ...desc,
          annotations: { [ANNOTATION_REF_NAME]: tag },
        });
      } else if (!manifests.some(m => m.digest === digest)) {
        manifests.push(desc);
      }
      await atomicWrite(
        join(this.dir, 'index.json'),
        JSON.stringify({ ...index, manifests }),
      );
      return desc;
    });
  }

  async getManifest(tagOrDigest: string): Promise<StoredManifest | null> {
    const index = await this.readIndex();
    const entry = tagOrDigest.startsWith('sha256:')
      ? index.manifests.find(m => m.digest === tagOrDigest)
      : index.manifests.find(
          m => m.annotations?.[ANNOTATION_REF_NAME] === tagOrDigest,
        );
    if (!entry) return null;
    const bytes = await this.getBlob(entry.digest);
    if (!bytes) return null;
    return { bytes, mediaType: entry.mediaType, digest: entry.digest };
  }

  async getBlob(digest: string): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(
        await readFile(join(this.dir, 'blobs', 'sha256', hexOf(digest))),
      );
    } catch (e) {
      if (e instanceof SigningKitError) throw e;
      return null;
    }
  }
}

/** Opens a target: registry repository or layout directory. */
export function openTarget(spec: TargetSpec, repository: string): OciTarget {
  if ('registry' in spec) return new RegistryTarget(spec.registry, repository);
  return new LayoutTarget(spec.layout);
}
