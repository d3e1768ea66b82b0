/*
 * Integration tests against a real docker-registry (CNCF Distribution 2.8) on loopback.
 * It has no OCI 1.1 referrers API, so the referrers tag-schema fallback is exercised.
 */
import { parseImageReference } from '../reference';
import {
  createArtifactSource,
  type ClosableArtifactSource,
} from './artifact-source';
import {
  pushBlob,
  pushBundleReferrer,
  pushCosignAttestation,
  pushCosignSignature,
  pushEmptyConfig,
  pushImage,
  pushManifest,
  pushReferrersTagIndex,
  sha256,
  startAuthRegistry,
  startRegistry,
  AUTH_PASSWORD,
  AUTH_USER,
  type TestRegistry,
} from './__testUtils__/registry';
import { SourceError } from './types';

jest.setTimeout(30_000);

let reg: TestRegistry;
let source: ClosableArtifactSource;

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return e instanceof SourceError ? e.code : `untyped:${String(e)}`;
  }
  return undefined;
}

beforeAll(async () => {
  reg = await startRegistry();
  source = createArtifactSource({
    registries: [{ host: reg.host, insecure: true, region: 'eusc-de-east-1' }],
    fetchOptions: { baseDelayMs: 5, maxAttempts: 2 },
  });
});

afterAll(async () => {
  await source?.close();
  await reg?.stop();
});

describe('resolve against a real registry', () => {
  it('resolves a tag once to the digest of the manifest bytes', async () => {
    const pushed = await pushImage(reg.url, 'team/app', 'v1');
    const img = await source.resolve(
      parseImageReference(`${reg.host}/team/app:v1`),
    );
    expect(img.digest).toBe(pushed.digest);
    expect(sha256(img.manifest)).toBe(pushed.digest);
    expect(img.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
  });

  it('resolves by digest, and the digest wins over a tag that moved elsewhere', async () => {
    const a = await pushImage(reg.url, 'team/moving', 'v1', { layer: 'A' });
    await pushImage(reg.url, 'team/moving', 'v1', { layer: 'B' }); // tag moved to B
    const img = await source.resolve(
      parseImageReference(`${reg.host}/team/moving:v1@${a.digest}`),
    );
    expect(img.digest).toBe(a.digest);
    const byTag = await source.resolve(
      parseImageReference(`${reg.host}/team/moving:v1`),
    );
    expect(byTag.digest).not.toBe(a.digest);
  });

  it('resolves a multi-arch index and a Docker v2 manifest by their own digests', async () => {
    const amd = await pushImage(reg.url, 'team/multi', 'amd64', {
      layer: 'amd',
    });
    const index = await pushManifest(
      reg.url,
      'team/multi',
      'v1',
      {
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: amd.digest,
            size: amd.size,
            platform: { architecture: 'amd64', os: 'linux' },
          },
        ],
      },
      'application/vnd.oci.image.index.v1+json',
    );
    const img = await source.resolve(
      parseImageReference(`${reg.host}/team/multi:v1`),
    );
    expect(img.digest).toBe(index.digest);
    expect(img.mediaType).toBe('application/vnd.oci.image.index.v1+json');

    const cfg = await pushBlob(
      reg.url,
      'team/docker',
      '{"config":{"Labels":{"a":"b"}}}',
    );
    const layer = await pushBlob(reg.url, 'team/docker', 'docker layer');
    const docker = await pushManifest(
      reg.url,
      'team/docker',
      'v1',
      {
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        config: {
          mediaType: 'application/vnd.docker.container.image.v1+json',
          ...cfg,
        },
        layers: [
          {
            mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
            ...layer,
          },
        ],
      },
      'application/vnd.docker.distribution.manifest.v2+json',
    );
    const dimg = await source.resolve(
      parseImageReference(`${reg.host}/team/docker:v1`),
    );
    expect(dimg.digest).toBe(docker.digest);
    expect(dimg.mediaType).toBe(
      'application/vnd.docker.distribution.manifest.v2+json',
    );
    expect((await source.discover(dimg)).claims).toEqual({ a: 'b' });
  });

  it('a missing tag is not_found (never an empty pass)', async () => {
    expect(
      await codeOf(
        source.resolve(parseImageReference(`${reg.host}/team/app:nope`)),
      ),
    ).toBe('not_found');
    expect(
      await codeOf(
        source.resolve(
          parseImageReference(`${reg.host}/team/app@sha256:${'0'.repeat(64)}`),
        ),
      ),
    ).toBe('not_found');
  });

  it('attack: registry not on the allow-list (loopback on another port) -> registry_not_allowed', async () => {
    const port = Number(reg.host.split(':')[1]);
    for (const text of [
      `127.0.0.1:${port + 1}/team/app:v1`,
      'localhost:7007/team/app:v1',
      '169.254.169.254/latest/meta-data:v1',
      `localhost:${port}/team/app:v1`, // same server, different spelling: exact match only
    ]) {
      expect(await codeOf(source.resolve(parseImageReference(text)))).toBe(
        'registry_not_allowed',
      );
    }
  });

  it('attack: hand-built reference with a traversal repository -> bad_reference, no request', async () => {
    const ref = {
      ...parseImageReference(`${reg.host}/team/app:v1`),
      repository: '../../v2/_catalog',
    };
    expect(await codeOf(source.resolve(ref))).toBe('bad_reference');
  });

  it('attack: oversized manifest -> too_large (cap enforced on the stream)', async () => {
    const small = createArtifactSource({
      registries: [{ host: reg.host, insecure: true }],
      limits: { manifestBytes: 200 },
    });
    try {
      await pushImage(reg.url, 'team/big', 'v1', {
        annotations: { pad: 'x'.repeat(500) },
      });
      expect(
        await codeOf(
          small.resolve(parseImageReference(`${reg.host}/team/big:v1`)),
        ),
      ).toBe('too_large');
    } finally {
      await small.close();
    }
  });
});

describe('discovery against a real registry', () => {
  it('finds .sig, .att and tag-schema referrer bundles and unions them', async () => {
    const img = await pushImage(reg.url, 'acme/svc', 'v1', {
      labels: { 'residency.dev/region': 'eusc-de-east-1' },
      annotations: {
        'org.opencontainers.image.source': 'https://git.example/acme',
      },
    });
    await pushCosignSignature(reg.url, 'acme/svc', img.digest, [
      {
        payload: '{"critical":{"image":{"docker-manifest-digest":"x"}}}',
        signature: 'c2ln',
        certificate: 'CERT',
      },
    ]);
    await pushCosignAttestation(reg.url, 'acme/svc', img.digest, [
      '{"payloadType":"application/vnd.in-toto+json"}',
    ]);
    const b1 = await pushBundleReferrer(
      reg.url,
      'acme/svc',
      img,
      '{"bundle":1}',
    );
    const b2 = await pushBundleReferrer(
      reg.url,
      'acme/svc',
      img,
      '{"bundle":2}',
      'application/vnd.dev.sigstore.bundle+json;version=0.2',
    );
    // The same referrer listed twice (as both mechanisms would) is fetched once.
    await pushReferrersTagIndex(reg.url, 'acme/svc', img.digest, [b1, b2, b1]);

    const resolved = await source.resolve(
      parseImageReference(`${reg.host}/acme/svc:v1`),
    );
    const d = await source.discover(resolved);
    expect(d.signatures).toHaveLength(1);
    expect(Buffer.from(d.signatures[0].payload).toString()).toContain(
      'docker-manifest-digest',
    );
    expect(d.signatures[0]).toMatchObject({
      source: 'cosign-tag',
      signature: 'c2ln',
      certificate: 'CERT',
    });
    expect(d.envelopes).toHaveLength(1);
    expect(d.envelopes[0].source).toBe('cosign-tag');
    expect(d.bundles.map(b => Buffer.from(b.bundle).toString()).sort()).toEqual(
      ['{"bundle":1}', '{"bundle":2}'],
    );
    expect(d.bundles.map(b => b.mediaType).sort()).toEqual([
      'application/vnd.dev.sigstore.bundle+json;version=0.2',
      'application/vnd.dev.sigstore.bundle.v0.3+json',
    ]);
    expect(d.claims).toEqual({
      'residency.dev/region': 'eusc-de-east-1',
      'org.opencontainers.image.source': 'https://git.example/acme',
    });
  });

  it('a dangling entry in the referrers tag index is skipped, the rest still found', async () => {
    const img = await pushImage(reg.url, 'acme/dangling', 'v1');
    const good = await pushBundleReferrer(
      reg.url,
      'acme/dangling',
      img,
      '{"bundle":"kept"}',
    );
    const gone = await pushBundleReferrer(
      reg.url,
      'acme/dangling',
      img,
      '{"bundle":"deleted"}',
    );
    await pushReferrersTagIndex(reg.url, 'acme/dangling', img.digest, [
      gone,
      good,
    ]);
    const del = await fetch(
      `${reg.url}/v2/acme/dangling/manifests/${gone.digest}`,
      { method: 'DELETE' },
    );
    expect(del.status).toBe(202);
    const d = await source.discover(
      await source.resolve(parseImageReference(`${reg.host}/acme/dangling:v1`)),
    );
    expect(d.bundles.map(b => Buffer.from(b.bundle).toString())).toEqual([
      '{"bundle":"kept"}',
    ]);
  });

  it('an unsigned image yields empty discovery (404 on .sig/.att/referrers is definitive)', async () => {
    const img = await pushImage(reg.url, 'acme/unsigned', 'v1');
    const d = await source.discover(
      await source.resolve(
        parseImageReference(`${reg.host}/acme/unsigned@${img.digest}`),
      ),
    );
    expect(d).toEqual({
      signatures: [],
      envelopes: [],
      bundles: [],
      claims: {},
    });
  });

  it('attack: signatures of image A are not discovered for image B', async () => {
    const a = await pushImage(reg.url, 'acme/pair', 'a', { layer: 'pa' });
    const b = await pushImage(reg.url, 'acme/pair', 'b', { layer: 'pb' });
    await pushCosignSignature(reg.url, 'acme/pair', a.digest, [
      { payload: 'p', signature: 's' },
    ]);
    // A referrer whose subject is A, slipped into B's tag-schema index.
    const refA = await pushBundleReferrer(
      reg.url,
      'acme/pair',
      a,
      '{"for":"a"}',
    );
    await pushReferrersTagIndex(reg.url, 'acme/pair', b.digest, [refA]);
    const d = await source.discover(
      await source.resolve(parseImageReference(`${reg.host}/acme/pair:b`)),
    );
    expect(d.signatures).toHaveLength(0);
    expect(d.bundles).toHaveLength(0);
  });

  it('attack: .sig manifest with more layers than the cap -> too_large before fetching layers', async () => {
    const capped = createArtifactSource({
      registries: [{ host: reg.host, insecure: true }],
      limits: { layersPerManifest: 3 },
    });
    try {
      const img = await pushImage(reg.url, 'acme/many', 'v1');
      const sigs = Array.from({ length: 4 }, (_, i) => ({
        payload: `p${i}`,
        signature: `s${i}`,
      }));
      await pushCosignSignature(reg.url, 'acme/many', img.digest, sigs);
      const resolved = await capped.resolve(
        parseImageReference(`${reg.host}/acme/many:v1`),
      );
      expect(await codeOf(capped.discover(resolved))).toBe('too_large');
    } finally {
      await capped.close();
    }
  });

  it('attack: many small signed objects adding up -> too_large from the per-image budget', async () => {
    const capped = createArtifactSource({
      registries: [{ host: reg.host, insecure: true }],
      limits: { discoveryItems: 5 },
    });
    try {
      const img = await pushImage(reg.url, 'acme/budget', 'v1');
      const sigs = Array.from({ length: 4 }, (_, i) => ({
        payload: `p${i}`,
        signature: `s${i}`,
      }));
      await pushCosignSignature(reg.url, 'acme/budget', img.digest, sigs);
      await pushCosignAttestation(reg.url, 'acme/budget', img.digest, [
        'e1',
        'e2',
      ]);
      const resolved = await capped.resolve(
        parseImageReference(`${reg.host}/acme/budget:v1`),
      );
      expect(await codeOf(capped.discover(resolved))).toBe('too_large');
      // Within budget the same image is fine.
      expect((await source.discover(resolved)).signatures).toHaveLength(4);
    } finally {
      await capped.close();
    }
  });

  it('attack: signature layer larger than the blob cap -> too_large', async () => {
    const capped = createArtifactSource({
      registries: [{ host: reg.host, insecure: true }],
      limits: { blobBytes: 64 },
    });
    try {
      const img = await pushImage(reg.url, 'acme/hugesig', 'v1');
      await pushCosignAttestation(reg.url, 'acme/hugesig', img.digest, [
        'x'.repeat(1000),
      ]);
      const resolved = await capped.resolve(
        parseImageReference(`${reg.host}/acme/hugesig:v1`),
      );
      expect(await codeOf(capped.discover(resolved))).toBe('too_large');
    } finally {
      await capped.close();
    }
  });

  it('attack: descriptor size smaller than the blob (size lie) -> too_large at size+1', async () => {
    const img = await pushImage(reg.url, 'acme/sizelie', 'v1');
    const config = await pushEmptyConfig(reg.url, 'acme/sizelie');
    const blob = await pushBlob(
      reg.url,
      'acme/sizelie',
      'a payload longer than declared',
    );
    await pushManifest(
      reg.url,
      'acme/sizelie',
      `${img.digest.replace(':', '-')}.sig`,
      {
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config,
        layers: [
          {
            mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
            digest: blob.digest,
            size: 5,
            annotations: { 'dev.cosignproject.cosign/signature': 'x' },
          },
        ],
      },
    );
    const resolved = await source.resolve(
      parseImageReference(`${reg.host}/acme/sizelie:v1`),
    );
    expect(await codeOf(source.discover(resolved))).toBe('too_large');
  });
});

describe('a real registry requiring basic auth (htpasswd)', () => {
  let authReg: TestRegistry;
  const basic = {
    authorization: `Basic ${Buffer.from(
      `${AUTH_USER}:${AUTH_PASSWORD}`,
    ).toString('base64')}`,
  };
  beforeAll(async () => {
    authReg = await startAuthRegistry();
  });
  afterAll(async () => {
    await authReg?.stop();
  });

  it('resolves and discovers with the configured credentials', async () => {
    const img = await pushImage(authReg.url, 'secure/app', 'v1', {
      auth: basic,
    });
    const src = createArtifactSource({
      registries: [
        {
          host: authReg.host,
          insecure: true,
          credentials: { username: AUTH_USER, password: AUTH_PASSWORD },
        },
      ],
    });
    try {
      const resolved = await src.resolve(
        parseImageReference(`${authReg.host}/secure/app:v1`),
      );
      expect(resolved.digest).toBe(img.digest);
      expect(await src.discover(resolved)).toMatchObject({
        signatures: [],
        envelopes: [],
        bundles: [],
      });
    } finally {
      await src.close();
    }
  });

  it('attack: no or wrong credentials -> registry_auth (not "unsigned", not unreachable)', async () => {
    await pushImage(authReg.url, 'secure/app', 'v2', { auth: basic });
    for (const credentials of [
      undefined,
      { username: AUTH_USER, password: 'wrong' },
    ]) {
      const src = createArtifactSource({
        registries: [
          {
            host: authReg.host,
            insecure: true,
            ...(credentials ? { credentials } : {}),
          },
        ],
        fetchOptions: { maxAttempts: 1 },
      });
      try {
        expect(
          await codeOf(
            src.resolve(parseImageReference(`${authReg.host}/secure/app:v2`)),
          ),
        ).toBe('registry_auth');
      } finally {
        await src.close();
      }
    }
  });
});
