/*
 * Small but real OCI images: one gzip-compressed tar layer (hand-written ustar
 * headers, fixed mtime/uid/gid so equal inputs give equal digests), an image config
 * whose rootfs.diff_ids is the uncompressed layer digest, and an OCI image manifest.
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import {
  Blob,
  blobOf,
  Descriptor,
  digestOf,
  jsonBytes,
  MEDIA_OCI_CONFIG,
  MEDIA_OCI_LAYER_GZIP,
  MEDIA_OCI_MANIFEST,
} from './oci';
import type { OciTarget } from './targets';

/** Inputs of {@link makeImage}. */
export interface ImageSpec {
  /** Files in the single layer: path -> content. Default: `/app/hello.txt`. */
  files?: Record<string, string | Uint8Array>;
  /** Config labels (unsigned claims, e.g. `residency.dev/region`). */
  labels?: Record<string, string>;
  /** Manifest annotations (unsigned claims). */
  annotations?: Record<string, string>;
  /** Config `created`; default the epoch, so images are reproducible. */
  created?: string;
  /** false: add a random file so every call yields a new digest. Default true. */
  deterministic?: boolean;
}

/** A built image: every blob plus the manifest bytes and descriptor. */
export interface BuiltImage {
  manifest: Blob;
  config: Blob;
  layers: Blob[];
  /** `sha256:<hex>` of the manifest bytes. */
  digest: string;
  /** Manifest descriptor (for `subject` fields). */
  descriptor: Descriptor;
}

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

/** One ustar entry: 512-byte header then content padded to 512. */
function tarEntry(name: string, content: Uint8Array, type: '0' | '5'): Buffer {
  const header = Buffer.alloc(512);
  const nameBytes = Buffer.from(name, 'utf8');
  if (nameBytes.length > 100) {
    throw new RangeError(`tar path too long (max 100 bytes): ${name}`);
  }
  nameBytes.copy(header, 0);
  header.write(octal(type === '5' ? 0o755 : 0o644, 8), 100, 'ascii');
  header.write(octal(0, 8), 108, 'ascii'); // uid
  header.write(octal(0, 8), 116, 'ascii'); // gid
  header.write(octal(content.length, 12), 124, 'ascii');
  header.write(octal(0, 12), 136, 'ascii'); // mtime: epoch, for reproducibility
  header.fill(' ', 148, 156); // checksum field counts as spaces while summing
  header.write(type, 156, 'ascii');
  header.write('ustar\0', 257, 'ascii');
  header.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  const pad = (512 - (content.length % 512)) % 512;
  return Buffer.concat([header, Buffer.from(content), Buffer.alloc(pad)]);
}

/** A tar archive of the given files (sorted, with their parent directories). */
export function makeTar(files: Record<string, string | Uint8Array>): Buffer {
  const entries: Buffer[] = [];
  const dirs = new Set<string>();
  for (const path of Object.keys(files).sort()) {
    const rel = path.replace(/^\/+/, '');
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = `${parts.slice(0, i).join('/')}/`;
      if (!dirs.has(d)) {
        dirs.add(d);
        entries.push(tarEntry(d, new Uint8Array(), '5'));
      }
    }
    const c = files[path];
    entries.push(
      tarEntry(rel, typeof c === 'string' ? Buffer.from(c, 'utf8') : c, '0'),
    );
  }
  entries.push(Buffer.alloc(1024)); // two zero blocks end the archive
  return Buffer.concat(entries);
}

/** Builds an OCI image (manifest + config + one gzip layer) in memory. */
export function makeImage(spec: ImageSpec = {}): BuiltImage {
  const files: Record<string, string | Uint8Array> = {
    ...(spec.files ?? { '/app/hello.txt': 'hello from residency\n' }),
  };
  if (spec.deterministic === false) {
    files['/app/.nonce'] = randomBytes(16).toString('hex');
  }
  const tar = makeTar(files);
  // level 9 and no filename/mtime in the gzip header: stable bytes for equal input.
  const layer = blobOf(gzipSync(tar, { level: 9 }), MEDIA_OCI_LAYER_GZIP);
  const config = blobOf(
    jsonBytes({
      created: spec.created ?? '1970-01-01T00:00:00Z',
      architecture: 'amd64',
      os: 'linux',
      config: {
        Cmd: ['/bin/true'],
        ...(spec.labels ? { Labels: spec.labels } : {}),
      },
      rootfs: { type: 'layers', diff_ids: [digestOf(tar)] },
      history: [
        {
          created: spec.created ?? '1970-01-01T00:00:00Z',
          created_by: 'residency signing-kit',
        },
      ],
    }),
    MEDIA_OCI_CONFIG,
  );
  const manifest = blobOf(
    jsonBytes({
      schemaVersion: 2,
      mediaType: MEDIA_OCI_MANIFEST,
      config: config.descriptor,
      layers: [layer.descriptor],
      ...(spec.annotations ? { annotations: spec.annotations } : {}),
    }),
    MEDIA_OCI_MANIFEST,
  );
  return {
    manifest,
    config,
    layers: [layer],
    digest: manifest.descriptor.digest,
    descriptor: manifest.descriptor,
  };
}

/** Writes an image's blobs and manifest to a target, tagged when `tag` is given. */
export async function writeImage(
  target: OciTarget,
  image: BuiltImage,
  tag?: string,
): Promise<string> {
  await target.putBlob(image.config);
  for (const l of image.layers) await target.putBlob(l);
  await target.putManifest(image.manifest.bytes, MEDIA_OCI_MANIFEST, tag);
  return image.digest;
}
