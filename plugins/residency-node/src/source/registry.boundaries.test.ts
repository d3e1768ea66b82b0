/*
 * Registry trust boundaries (issue 12) and redirects (issue 13.6): each test names
 * the attack or fault, has its own loopback fixture and asserts the typed outcome.
 */
import type { ServerResponse } from 'node:http';
import { parseImageReference } from '../reference';
import { createArtifactSource } from './artifact-source';
import { RegistryClient } from './registry';
import { sha256 } from './__testUtils__/registry';
import {
  startHostile,
  type Handler,
  type HostileServer,
} from './__testUtils__/hostile';
import { SourceError, type RegistryAccess } from './types';
import type { FetchOptions } from './limits';

jest.setTimeout(20_000);

const CONFIG = Buffer.from('{}');
const MANIFEST = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: sha256(CONFIG),
      size: CONFIG.length,
    },
    layers: [],
  }),
);
const MANIFEST_DIGEST = sha256(MANIFEST);
const INDEX_TYPE = 'application/vnd.oci.image.index.v1+json';

const servers: HostileServer[] = [];
const closables: { close(): Promise<void> }[] = [];

afterEach(async () => {
  await Promise.all(closables.splice(0).map(c => c.close()));
  await Promise.all(servers.splice(0).map(s => s.close()));
});

async function serve(handler: Handler, hostname?: string) {
  const s = await startHostile(handler, hostname);
  servers.push(s);
  return s;
}

function client(
  s: HostileServer,
  extra: Partial<RegistryAccess> = {},
  fetchOptions: Partial<FetchOptions> = {},
) {
  const c = new RegistryClient({
    registry: { host: s.host, insecure: true, ...extra },
    fetchOptions: {
      baseDelayMs: 10,
      maxDelayMs: 20,
      maxAttempts: 2,
      ...fetchOptions,
    },
  });
  closables.push(c);
  return c;
}

async function errorOf(p: Promise<unknown>): Promise<SourceError> {
  const e = await p.then(
    () => undefined,
    err => err,
  );
  if (!(e instanceof SourceError))
    throw new Error(`expected a SourceError, got ${e}`);
  return e;
}

function sendManifest(res: ServerResponse, body: Buffer = MANIFEST) {
  res.writeHead(200, {
    'content-type': 'application/vnd.oci.image.manifest.v1+json',
    'content-length': String(body.length),
  });
  res.end(body);
}

function sendIndex(res: ServerResponse, headers: Record<string, string> = {}) {
  res.writeHead(200, { 'content-type': INDEX_TYPE, ...headers });
  res.end(
    JSON.stringify({ schemaVersion: 2, mediaType: INDEX_TYPE, manifests: [] }),
  );
}

describe('credentials follow the origin, not the host name', () => {
  it('attack: bearer realm on another port of the registry host -> registry_auth, realm never contacted', async () => {
    const realm = await serve((_req, res) => {
      res.writeHead(200);
      res.end('{"token":"stolen"}');
    });
    const s = await serve((_req, res) => {
      // Same host name (127.0.0.1) as the registry, another port: another service.
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="http://127.0.0.1:${realm.port}/token",service="r"`,
      });
      res.end();
    });
    const err = await errorOf(
      client(s, {
        credentials: { username: 'u', password: 'secret' },
      }).getManifest('app', 'v1'),
    );
    expect(err.code).toBe('registry_auth');
    expect(err.details?.problem).toBe('realm_foreign_origin');
    expect(realm.requests).toHaveLength(0);
  });

  it('a realm origin configured in tokenRealms receives the credentials (and only it)', async () => {
    const realm = await serve((_req, res) => {
      res.writeHead(200);
      res.end('{"token":"t1"}');
    });
    const s = await serve((req, res) => {
      if (req.headers.authorization === 'Bearer t1') {
        sendManifest(res);
        return;
      }
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="http://127.0.0.1:${realm.port}/token",service="r"`,
      });
      res.end();
    });
    const m = await client(s, {
      credentials: { username: 'u', password: 'secret' },
      tokenRealms: [`http://127.0.0.1:${realm.port}`],
    }).getManifest('app', 'v1');
    expect(m?.digest).toBe(MANIFEST_DIGEST);
    expect(realm.requests).toHaveLength(1);
    expect(realm.requests[0].headers.authorization).toBe(
      `Basic ${Buffer.from('u:secret').toString('base64')}`,
    );
  });
});

describe('one image, one deadline', () => {
  it('attack: every layer drips just under the request deadline -> unknown at the image deadline', async () => {
    const layers = Array.from({ length: 6 }, (_, i) =>
      Buffer.from(`layer ${i}`),
    );
    const sig = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: sha256(CONFIG),
          size: CONFIG.length,
        },
        layers: layers.map(l => ({
          mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
          digest: sha256(l),
          size: l.length,
          annotations: { 'dev.cosignproject.cosign/signature': 'AAAA' },
        })),
      }),
    );
    const s = await serve((req, res) => {
      const url = req.url ?? '';
      if (
        url.endsWith('/manifests/v1') ||
        url.endsWith(`/manifests/${MANIFEST_DIGEST}`)
      ) {
        sendManifest(res);
        return;
      }
      if (url.endsWith('.sig')) {
        sendManifest(res, sig);
        return;
      }
      if (url.includes('/blobs/')) {
        // Each blob drips one byte every 100 ms: under the idle timeout, ~1.5 s in all.
        const blob = layers.find(l => url.endsWith(sha256(l))) ?? CONFIG;
        res.writeHead(200, { 'content-length': String(blob.length) });
        let i = 0;
        const t = setInterval(() => {
          if (res.destroyed) {
            clearInterval(t);
            return;
          }
          res.write(blob.subarray(i, i + 1));
          i++;
          if (i >= blob.length) {
            clearInterval(t);
            res.end();
          }
        }, 100);
        res.once('close', () => clearInterval(t));
        return;
      }
      res.writeHead(404);
      res.end();
    });
    const source = createArtifactSource({
      registries: [{ host: s.host, insecure: true }],
      limits: { concurrencyPerRegistry: 1 },
      fetchOptions: {
        imageTimeoutMs: 1_500,
        totalTimeoutMs: 5_000,
        bodyIdleTimeoutMs: 1_000,
        maxAttempts: 1,
      },
    });
    closables.push(source);
    const t0 = Date.now();
    const image = await source.resolve(parseImageReference(`${s.host}/app:v1`));
    const err = await errorOf(source.discover(image));
    const took = Date.now() - t0;
    expect(err.code).toBe('registry_unreachable');
    expect(err.details?.problem).toBe('image_deadline');
    // Without the image deadline this image takes 6 layers x ~1 s.
    expect(took).toBeLessThan(4_000);
  });
});

describe("a registry's fault is never a configuration error", () => {
  it('attack: referrers pagination link to another host -> registry_unreachable (link_leaves_registry), not registry_not_allowed', async () => {
    const elsewhere = await serve((_req, res) => sendIndex(res));
    const s = await serve((_req, res) =>
      sendIndex(res, {
        link: `<${elsewhere.url}/v2/app/referrers/x>; rel="next"`,
      }),
    );
    const err = await errorOf(client(s).getReferrers('app', MANIFEST_DIGEST));
    expect(err.code).toBe('registry_unreachable');
    expect(err.details?.problem).toBe('link_leaves_registry');
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('attack: redirect to a host that is not a configured blob host -> registry_unreachable (redirect_not_allowed), target never contacted', async () => {
    const storage = await serve((_req, res) => {
      res.writeHead(200);
      res.end(MANIFEST);
    }, 'localhost');
    const s = await serve((_req, res) => {
      res.writeHead(307, { location: `${storage.url}/blob?sig=1` });
      res.end();
    });
    const err = await errorOf(client(s).getBlob('app', MANIFEST_DIGEST));
    expect(err.code).toBe('registry_unreachable');
    expect(err.details?.problem).toBe('redirect_not_allowed');
    expect(err.message).toContain('blobHosts');
    expect(storage.requests).toHaveLength(0);
  });

  it('a redirect to a configured blob host is followed, without credentials', async () => {
    const storage = await serve((_req, res) => {
      res.writeHead(200);
      res.end(MANIFEST);
    }, 'localhost');
    const s = await serve((_req, res) => {
      res.writeHead(307, { location: `${storage.url}/blob?sig=1` });
      res.end();
    });
    const bytes = await client(s, {
      blobHosts: [storage.url],
      credentials: { token: 'static' },
    }).getBlob('app', MANIFEST_DIGEST);
    expect(sha256(bytes)).toBe(MANIFEST_DIGEST);
    expect(storage.requests).toHaveLength(1);
    expect(storage.requests[0].headers.authorization).toBeUndefined();
  });

  it('attack: a referrers listing longer than the page cap -> too_large (page_cap), never a partial list', async () => {
    const s = await serve((req, res) =>
      sendIndex(res, { link: `<${req.url}x>; rel="next"` }),
    );
    const err = await errorOf(client(s).getReferrers('app', MANIFEST_DIGEST));
    expect(err.code).toBe('too_large');
    expect(err.details?.problem).toBe('page_cap');
    expect(s.requests).toHaveLength(8);
  });

  it('attack: a later page of a referrers listing fails -> registry_unreachable, never a partial list', async () => {
    const s = await serve((req, res) => {
      if ((req.url ?? '').endsWith('next')) {
        res.writeHead(404);
        res.end();
        return;
      }
      sendIndex(res, { link: `<${req.url}next>; rel="next"` });
    });
    const err = await errorOf(client(s).getReferrers('app', MANIFEST_DIGEST));
    expect(err.code).toBe('registry_unreachable');
    expect(err.details?.problem).toBe('listing_incomplete');
  });
});

describe('an absent referrers API is remembered per registry', () => {
  it('after one 404, /referrers/ is not asked again until the next cycle', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(404);
      res.end();
    });
    const c = client(s);
    const other = sha256('another image');
    expect(await c.getReferrers('app', MANIFEST_DIGEST)).toBeUndefined();
    expect(await c.getReferrers('app', other)).toBeUndefined();
    expect(await c.getReferrers('other/repo', other)).toBeUndefined();
    expect(s.requests.filter(r => r.url.includes('/referrers/'))).toHaveLength(
      1,
    );
    c.newCycle();
    expect(await c.getReferrers('app', other)).toBeUndefined();
    expect(s.requests.filter(r => r.url.includes('/referrers/'))).toHaveLength(
      2,
    );
  });

  it('without a new cycle, the memory lasts 10 minutes at most', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(404);
      res.end();
    });
    const c = client(s);
    expect(await c.getReferrers('app', MANIFEST_DIGEST)).toBeUndefined();
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now');
    try {
      clock.mockReturnValue(now + 9 * 60_000);
      await c.getReferrers('app', MANIFEST_DIGEST);
      expect(s.requests).toHaveLength(1);
      clock.mockReturnValue(now + 11 * 60_000);
      await c.getReferrers('app', MANIFEST_DIGEST);
      expect(s.requests).toHaveLength(2);
    } finally {
      clock.mockRestore();
    }
  });

  it('images asking at once while the first request is in flight wait for its 404: one request', async () => {
    const s = await serve((_req, res) => {
      setTimeout(() => {
        res.writeHead(404);
        res.end();
      }, 50);
    });
    const c = client(s);
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        c.getReferrers('app', sha256(`image ${i}`)),
      ),
    );
    expect(answers).toEqual(Array(8).fill(undefined));
    expect(s.requests).toHaveLength(1);
  });

  it('a 5xx is not an absent API: the next image asks again, and gets the listing', async () => {
    let calls = 0;
    const s = await serve((_req, res) => {
      calls++;
      if (calls <= 2) {
        // both attempts of the first image's request
        res.writeHead(503);
        res.end();
        return;
      }
      sendIndex(res);
    });
    const c = client(s);
    const err = await errorOf(c.getReferrers('app', MANIFEST_DIGEST));
    expect(err.code).toBe('registry_unreachable');
    expect(await c.getReferrers('app', sha256('next'))).toEqual([]);
    expect(s.requests.filter(r => r.url.includes('/referrers/'))).toHaveLength(
      3,
    );
  });

  it('a registry with the API is asked for every image', async () => {
    const s = await serve((_req, res) => sendIndex(res));
    const c = client(s);
    expect(await c.getReferrers('app', MANIFEST_DIGEST)).toEqual([]);
    expect(await c.getReferrers('app', sha256('x'))).toEqual([]);
    expect(s.requests).toHaveLength(2);
  });
});
