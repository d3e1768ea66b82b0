/*
 * OCI image layout source: hand-built layouts for hostile cases, and a layout written
 * by the real `skopeo copy ... oci:` for the happy path.
 */
import { execFile } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseImageReference } from '../reference';
import {
  createArtifactSource,
  type ClosableArtifactSource,
} from './artifact-source';
import {
  pushImage,
  sha256,
  startRegistry,
  type TestRegistry,
} from './__testUtils__/registry';
import { SourceError } from './types';

jest.setTimeout(30_000);

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const BUNDLE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

const dirs: string[] = [];
const sources: ClosableArtifactSource[] = [];

afterEach(async () => {
  await Promise.all(sources.splice(0).map(s => s.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'residency-layout-'));
  dirs.push(d);
  return d;
}

function src(layoutRoots?: string[], limits = {}) {
  const s = createArtifactSource({ registries: [], layoutRoots, limits });
  sources.push(s);
  return s;
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return e instanceof SourceError ? e.code : `untyped:${String(e)}`;
  }
  return undefined;
}

class LayoutBuilder {
  readonly index: object[] = [];
  constructor(readonly dir: string) {
    mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  }
  blob(content: string | Buffer, mediaType: string, extra: object = {}) {
    const bytes = Buffer.from(content);
    const digest = sha256(bytes);
    writeFileSync(join(this.dir, 'blobs', 'sha256', digest.slice(7)), bytes);
    return { mediaType, digest, size: bytes.length, ...extra };
  }
  manifest(doc: object, tag?: string, extra: object = {}) {
    const d = this.blob(
      JSON.stringify(doc),
      (doc as { mediaType?: string }).mediaType ?? OCI_MANIFEST,
      extra,
    );
    this.index.push(
      tag
        ? { ...d, annotations: { 'org.opencontainers.image.ref.name': tag } }
        : d,
    );
    return d;
  }
  write() {
    writeFileSync(
      join(this.dir, 'index.json'),
      JSON.stringify({ schemaVersion: 2, manifests: this.index }),
    );
  }
}

function buildSignedLayout(dir: string) {
  const b = new LayoutBuilder(dir);
  const config = b.blob(
    JSON.stringify({ config: { Labels: { team: 'acme' } } }),
    'application/vnd.oci.image.config.v1+json',
  );
  const image = b.manifest(
    {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config,
      layers: [],
      annotations: { 'residency.dev/region': 'eusc-de-east-1' },
    },
    'v1',
  );
  const empty = b.blob('{}', 'application/vnd.oci.empty.v1+json');
  const base = image.digest.replace(':', '-');
  b.manifest(
    {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: empty,
      layers: [
        b.blob(
          '{"critical":{}}',
          'application/vnd.dev.cosign.simplesigning.v1+json',
          {
            annotations: { 'dev.cosignproject.cosign/signature': 'U0lH' },
          },
        ),
      ],
    },
    `${base}.sig`,
  );
  b.manifest(
    {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: empty,
      layers: [
        b.blob('{"payload":""}', 'application/vnd.dsse.envelope.v1+json'),
      ],
    },
    `${base}.att`,
  );
  // A referrer found only through its subject (no tag).
  b.manifest({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: BUNDLE,
    config: empty,
    layers: [b.blob('{"bundle":"by-subject"}', BUNDLE)],
    subject: image,
  });
  // A referrer listed in the tag-schema index (not in index.json by itself).
  const viaTag = b.blob(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: BUNDLE,
      config: empty,
      layers: [b.blob('{"bundle":"by-tag"}', BUNDLE)],
      subject: image,
    }),
    OCI_MANIFEST,
    { artifactType: BUNDLE },
  );
  b.manifest(
    {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [viaTag],
    },
    base,
  );
  b.write();
  return { image, builder: b };
}

describe('OCI layout source', () => {
  it('resolves by tag and by digest, and discovers .sig, .att and referrers (subject and tag schema)', async () => {
    const dir = tmp();
    const { image } = buildSignedLayout(dir);
    const s = src();
    const byTag = await s.resolve(parseImageReference(`oci:${dir}:v1`));
    expect(byTag.digest).toBe(image.digest);
    const byDigest = await s.resolve(
      parseImageReference(`oci:${dir}@${image.digest}`),
    );
    expect(byDigest.digest).toBe(image.digest);
    const d = await s.discover(byTag);
    expect(d.signatures).toHaveLength(1);
    expect(d.signatures[0]).toMatchObject({
      source: 'layout',
      signature: 'U0lH',
    });
    expect(d.envelopes).toHaveLength(1);
    expect(d.bundles.map(x => Buffer.from(x.bundle).toString()).sort()).toEqual(
      ['{"bundle":"by-subject"}', '{"bundle":"by-tag"}'],
    );
    expect(d.bundles.every(x => x.source === 'layout')).toBe(true);
    expect(d.claims).toEqual({
      team: 'acme',
      'residency.dev/region': 'eusc-de-east-1',
    });
  });

  it('a missing tag or layout is not_found', async () => {
    const dir = tmp();
    buildSignedLayout(dir);
    expect(
      await codeOf(src().resolve(parseImageReference(`oci:${dir}:nope`))),
    ).toBe('not_found');
    expect(
      await codeOf(src().resolve(parseImageReference(`oci:${dir}/missing:v1`))),
    ).toBe('not_found');
  });

  it('attack: blob tampered on disk -> digest_mismatch', async () => {
    const dir = tmp();
    const { image } = buildSignedLayout(dir);
    writeFileSync(
      join(dir, 'blobs', 'sha256', image.digest.slice(7)),
      '{"schemaVersion":2,"layers":[]}',
    );
    expect(
      await codeOf(src().resolve(parseImageReference(`oci:${dir}:v1`))),
    ).toBe('digest_mismatch');
  });

  it('attack: path traversal in an index.json digest -> typed error, nothing read outside', async () => {
    const dir = tmp();
    const b = new LayoutBuilder(dir);
    b.index.push({
      mediaType: OCI_MANIFEST,
      digest: 'sha256:../../../../etc/passwd',
      size: 10,
      annotations: { 'org.opencontainers.image.ref.name': 'v1' },
    });
    b.write();
    const err = await src()
      .resolve(parseImageReference(`oci:${dir}:v1`))
      .catch(e => e);
    expect(err).toBeInstanceOf(SourceError);
    expect(err.code).toBe('registry_unreachable');
    expect(err.details.problem).toBe('malformed_manifest');
  });

  it('attack: layout outside the configured roots (directly or via symlink) -> registry_not_allowed', async () => {
    const root = tmp();
    const outside = tmp();
    buildSignedLayout(outside);
    symlinkSync(outside, join(root, 'escape'));
    const s = src([root]);
    expect(
      await codeOf(s.resolve(parseImageReference(`oci:${outside}:v1`))),
    ).toBe('registry_not_allowed');
    expect(
      await codeOf(s.resolve(parseImageReference(`oci:${root}/escape:v1`))),
    ).toBe('registry_not_allowed');
    expect(
      await codeOf(
        s.resolve(
          parseImageReference(`oci:${root}/../${outside.split('/').pop()}:v1`),
        ),
      ),
    ).toBe('registry_not_allowed');
    // Inside the root it works.
    const inside = join(root, 'ok');
    mkdirSync(inside);
    buildSignedLayout(inside);
    expect(
      (await s.resolve(parseImageReference(`oci:${inside}:v1`))).digest,
    ).toMatch(/^sha256:/);
    // An empty list of roots refuses every layout.
    expect(
      await codeOf(src([]).resolve(parseImageReference(`oci:${inside}:v1`))),
    ).toBe('registry_not_allowed');
  });

  it('attack: FIFO planted as a blob does not hang the check', async () => {
    const dir = tmp();
    const { image } = buildSignedLayout(dir);
    const path = join(dir, 'blobs', 'sha256', image.digest.slice(7));
    rmSync(path);
    await promisify(execFile)('mkfifo', [path]);
    expect(
      await codeOf(src().resolve(parseImageReference(`oci:${dir}:v1`))),
    ).toBe('registry_unreachable');
  });

  it('attack: oversized signature layer on disk -> too_large', async () => {
    const dir = tmp();
    const b = new LayoutBuilder(dir);
    const image = b.manifest(
      {
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: b.blob('{}', 'application/vnd.oci.empty.v1+json'),
        layers: [],
      },
      'v1',
    );
    b.manifest(
      {
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: b.blob('{}', 'application/vnd.oci.empty.v1+json'),
        layers: [
          b.blob(
            Buffer.alloc(4096, 0x20),
            'application/vnd.dsse.envelope.v1+json',
          ),
        ],
      },
      `${image.digest.replace(':', '-')}.att`,
    );
    b.write();
    const s = src(undefined, { blobBytes: 1024 });
    const resolved = await s.resolve(parseImageReference(`oci:${dir}:v1`));
    expect(await codeOf(s.discover(resolved))).toBe('too_large');
  });

  it('attack: index.json with more entries than the cap -> too_large', async () => {
    const dir = tmp();
    const b = new LayoutBuilder(dir);
    const d = b.blob('{}', OCI_MANIFEST);
    for (let i = 0; i < 20; i++) b.index.push(d);
    b.write();
    expect(
      await codeOf(
        src(undefined, { layoutIndexEntries: 10 }).resolve(
          parseImageReference(`oci:${dir}:v1`),
        ),
      ),
    ).toBe('too_large');
  });
});

describe('layout written by skopeo', () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry();
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it('resolves the same digest as the registry it was copied from', async () => {
    const pushed = await pushImage(reg.url, 'demo/app', 'v1', {
      labels: { owner: 'demo' },
    });
    const dir = join(tmp(), 'layout');
    await promisify(execFile)('skopeo', [
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      '--preserve-digests',
      `docker://${reg.host}/demo/app:v1`,
      `oci:${dir}:v1`,
    ]);
    const s = src();
    const img = await s.resolve(parseImageReference(`oci:${dir}:v1`));
    expect(img.digest).toBe(pushed.digest);
    const d = await s.discover(img);
    expect(d.claims).toEqual({ owner: 'demo' });
    expect(d.signatures).toEqual([]);
  });
});
