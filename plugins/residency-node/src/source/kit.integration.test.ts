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
