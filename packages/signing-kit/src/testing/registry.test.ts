import {
  fetchBlob,
  fetchManifest,
  pushBlob,
  pushManifest,
  sha256Digest,
  startTestRegistry,
  TestRegistry,
} from './registry';

describe('startTestRegistry', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startTestRegistry();
  }, 30000);
  afterAll(async () => {
    await registry?.stop();
  });

  it('answers /v2/ on loopback', async () => {
    expect(registry.host).toMatch(/^127\.0\.0\.1:\d+$/);
    const res = await fetch(`${registry.url}/v2/`);
    expect(res.status).toBe(200);
  });

  it('stores pushed blobs and manifests and serves them back byte for byte', async () => {
    const config = new TextEncoder().encode('{}');
    const layer = new TextEncoder().encode('hello residency');
    const cfgDigest = await pushBlob(registry.host, 'demo/app', config);
    const layerDigest = await pushBlob(registry.host, 'demo/app', layer);
    expect(layerDigest).toBe(sha256Digest(layer));
    // second push of the same blob is a no-op, not an error
    expect(await pushBlob(registry.host, 'demo/app', layer)).toBe(layerDigest);
    const manifest = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: cfgDigest,
          size: config.length,
        },
        layers: [
          {
            mediaType: 'application/vnd.oci.image.layer.v1.tar',
            digest: layerDigest,
            size: layer.length,
          },
        ],
      }),
    );
    const digest = await pushManifest(
      registry.host,
      'demo/app',
      'v1',
      manifest,
      'application/vnd.oci.image.manifest.v1+json',
    );
    const back = await fetchManifest(registry.host, 'demo/app', 'v1');
    expect(back?.digest).toBe(digest);
    expect(Buffer.from(back!.bytes).equals(Buffer.from(manifest))).toBe(true);
    const blob = await fetchBlob(registry.host, 'demo/app', layerDigest);
    expect(Buffer.from(blob!).toString()).toBe('hello residency');
    expect(await fetchManifest(registry.host, 'demo/app', 'nope')).toBeNull();
  });

  it('refuses a manifest that references missing blobs', async () => {
    const manifest = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: `sha256:${'0'.repeat(64)}`,
          size: 2,
        },
        layers: [],
      }),
    );
    await expect(
      pushManifest(
        registry.host,
        'demo/app',
        'broken',
        manifest,
        'application/vnd.oci.image.manifest.v1+json',
      ),
    ).rejects.toMatchObject({ code: 'push_failed', status: 400 });
  });

  it('stop() kills the process and frees the port', async () => {
    const r = await startTestRegistry();
    await r.stop();
    await expect(fetch(`${r.url}/v2/`)).rejects.toThrow();
    await r.stop();
  }, 30000);
});
