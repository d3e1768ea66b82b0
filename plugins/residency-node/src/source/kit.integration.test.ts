/*
 * Discovery of what the project's signing kit writes in cosign's formats (the same
 * bytes cosign writes: `.sig`, `.att`, Sigstore-bundle referrers with the tag-schema
 * fallback), into a real docker-registry and into an OCI layout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateKey,
  publishSignedImage,
  startTestRegistry,
  type TestRegistry,
} from '@residency-dev/signing-kit';
import { parseImageReference } from '../reference';
import {
  createArtifactSource,
  type ClosableArtifactSource,
} from './artifact-source';
import type { Discovery } from './types';
import { OciLayout } from './layout';
import { resolveLimits } from './limits';

jest.setTimeout(30_000);

let reg: TestRegistry;
let source: ClosableArtifactSource;
let dir: string;

beforeAll(async () => {
  reg = await startTestRegistry();
  dir = mkdtempSync(join(tmpdir(), 'residency-kit-layout-'));
  source = createArtifactSource({
    registries: [{ host: reg.host, insecure: true }],
    layoutRoots: [dir],
  });
});

afterAll(async () => {
  await source?.close();
  await reg?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const key = generateKey('ecdsa-p256');
const publishOptions = {
  repository: 'acme/payments',
  tag: 'v1',
  key,
  attestations: [
    {
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: { buildDefinition: {} },
    },
  ],
  bundles: [{ kind: 'dsse' as const }, { kind: 'message' as const }],
};

function check(
  d: Discovery,
  published: Awaited<ReturnType<typeof publishSignedImage>>,
) {
  expect(d.signatures).toHaveLength(1);
  const payload = JSON.parse(Buffer.from(d.signatures[0].payload).toString());
  expect(payload.critical.image['docker-manifest-digest']).toBe(
    published.digest,
  );
  expect(d.signatures[0].signature).toBe(published.signatures[0].signature);
  expect(d.envelopes).toHaveLength(1);
  expect(JSON.parse(Buffer.from(d.envelopes[0].envelope).toString())).toEqual(
    published.envelopes[0],
  );
  expect(d.bundles).toHaveLength(2);
  expect(
    d.bundles.every(
      b => b.mediaType === 'application/vnd.dev.sigstore.bundle.v0.3+json',
    ),
  ).toBe(true);
  const found = d.bundles.map(b =>
    JSON.parse(Buffer.from(b.bundle).toString()),
  );
  expect(found).toEqual(expect.arrayContaining(published.bundles as unknown[]));
}

it('finds everything the kit published into a registry', async () => {
  const published = await publishSignedImage({
    target: { registry: reg.host },
    ...publishOptions,
  });
  const img = await source.resolve(parseImageReference(published.reference));
  expect(img.digest).toBe(published.digest);
  const d = await source.discover(img);
  check(d, published);
  expect(d.signatures[0].source).toBe('cosign-tag');
  expect(d.bundles.every(b => b.source === 'referrers')).toBe(true);
});

it('finds everything the kit published into an OCI layout', async () => {
  const layout = join(dir, 'payments');
  const published = await publishSignedImage({
    target: { layout },
    ...publishOptions,
  });
  const img = await source.resolve(
    parseImageReference(published.digestReference),
  );
  expect(img.digest).toBe(published.digest);
  const d = await source.discover(img);
  check(d, published);
  expect(
    [...d.signatures, ...d.envelopes, ...d.bundles].every(
      x => x.source === 'layout',
    ),
  ).toBe(true);
});

describe('OCI layout referrers (no referrers API: found by subject)', () => {
  it('finds each image its own referrers in a many-image layout, and sees a new one after the index changes', async () => {
    const layoutDir = mkdtempSync(join(dir, 'many-'));
    const limits = resolveLimits();
    const images = [];
    for (let i = 0; i < 6; i++) {
      images.push(
        await publishSignedImage({
          target: { layout: layoutDir },
          repository: 'acme/many',
          tag: `v${i}`,
          key,
          bundles: [{ kind: 'message' as const }],
        }),
      );
    }
    let layout = await OciLayout.open(layoutDir, limits);
    for (const img of images) {
      const refs = await layout.referrers(img.digest);
      expect(refs).toHaveLength(1);
      expect(refs[0].digest).toBe(img.referrers[0].digest);
    }

    // A second bundle for image 0 changes index.json: the next open must see it.
    const again = await publishSignedImage({
      target: { layout: layoutDir },
      repository: 'acme/many',
      tag: 'v0',
      image: images[0].image,
      key,
      bundles: [{ kind: 'dsse' as const }],
    });
    layout = await OciLayout.open(layoutDir, limits);
    const refs = await layout.referrers(images[0].digest);
    expect(refs.map(r => r.digest).sort()).toEqual(
      [images[0].referrers[0].digest, again.referrers[0].digest].sort(),
    );
    expect(await layout.referrers(images[1].digest)).toHaveLength(1);
  });
});
