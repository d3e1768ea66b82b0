/*
 * Hostile-registry behaviours, served by a tiny loopback HTTP(S) server: each test
 * names the attack or fault and asserts the typed error code.
 */
import type { ServerResponse } from 'node:http';
import fc from 'fast-check';
import { parseImageReference } from '../reference';
import { createArtifactSource } from './artifact-source';
import { RegistryClient } from './registry';
import { sha256 } from './__testUtils__/registry';
import {
  selfSigned,
  startHostile,
  startHostileTls,
  type Handler,
  type HostileServer,
} from './__testUtils__/hostile';
import { SourceError } from './types';
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
const OTHER_DIGEST = sha256('something else');

const servers: HostileServer[] = [];
const clients: { close(): Promise<void> }[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map(c => c.close()));
  await Promise.all(servers.splice(0).map(s => s.close()));
});

async function serve(handler: Handler, hostname?: string) {
  const s = await startHostile(handler, hostname);
  servers.push(s);
  return s;
}

function client(
  s: HostileServer,
  extra: Partial<
    ConstructorParameters<typeof RegistryClient>[0]['registry']
  > = {},
  fetchOptions: Partial<FetchOptions> = {},
) {
  const c = new RegistryClient({
    registry: { host: s.host, insecure: s.url.startsWith('http:'), ...extra },
    fetchOptions: {
      baseDelayMs: 10,
      maxDelayMs: 20,
      maxAttempts: 3,
      ...fetchOptions,
    },
  });
  clients.push(c);
  return c;
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return e instanceof SourceError ? e.code : `untyped:${String(e)}`;
  }
  return undefined;
}

function sendManifest(
  res: ServerResponse,
  body: Buffer = MANIFEST,
  headers: Record<string, string> = {},
) {
  res.writeHead(200, {
    'content-type': 'application/vnd.oci.image.manifest.v1+json',
    'content-length': String(body.length),
    ...headers,
  });
  res.end(body);
}

describe('digests are computed, never believed', () => {
  it('attack: lying Docker-Content-Digest on a tag fetch -> digest_mismatch', async () => {
    const s = await serve((_req, res) =>
      sendManifest(res, MANIFEST, { 'docker-content-digest': OTHER_DIGEST }),
    );
    expect(await codeOf(client(s).getManifest('app', 'v1'))).toBe(
      'digest_mismatch',
    );
  });

  it('attack: bytes that do not hash to the digest asked for -> digest_mismatch', async () => {
    const s = await serve((_req, res) => sendManifest(res));
    expect(await codeOf(client(s).getManifest('app', OTHER_DIGEST))).toBe(
      'digest_mismatch',
    );
    expect(await codeOf(client(s).getBlob('app', OTHER_DIGEST))).toBe(
      'digest_mismatch',
    );
  });

  it('tag resolution records the digest of the bytes (honest header accepted)', async () => {
    const s = await serve((_req, res) =>
      sendManifest(res, MANIFEST, { 'docker-content-digest': MANIFEST_DIGEST }),
    );
    const m = await client(s).getManifest('app', 'v1');
    expect(m?.digest).toBe(MANIFEST_DIGEST);
  });
});

describe('caps on bytes', () => {
  it('attack: endless manifest body without Content-Length -> too_large, stream aborted', async () => {
    let written = 0;
    const s = await serve((_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/vnd.oci.image.manifest.v1+json',
      });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk)) {
          written += chunk.length;
          if (written > 512 * 1024 * 1024) {
            res.end();
            return;
          }
        }
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const c = new RegistryClient({
      registry: { host: s.host, insecure: true },
      limits: { manifestBytes: 256 * 1024 },
    });
    clients.push(c);
    expect(await codeOf(c.getManifest('app', 'v1'))).toBe('too_large');
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it('attack: Content-Length above the cap -> too_large without reading', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': String(10 * 1024 * 1024 * 1024) });
      res.write('x');
    });
    expect(await codeOf(client(s).getBlob('app', MANIFEST_DIGEST))).toBe(
      'too_large',
    );
  });

  it('attack: blob longer than its declared descriptor size -> too_large at size+1', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200);
      res.end(Buffer.alloc(1000, 1));
    });
    expect(
      await codeOf(client(s).getBlob('app', MANIFEST_DIGEST, { size: 10 })),
    ).toBe('too_large');
  });

  it('attack: huge token response -> too_large', async () => {
    const s = await serve((req, res) => {
      if (req.url?.startsWith('/token')) {
        res.writeHead(200);
        res.end(`{"token":"${'a'.repeat(2 * 1024 * 1024)}"}`);
        return;
      }
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="http://${req.headers.host}/token",service="r"`,
      });
      res.end();
    });
    expect(await codeOf(client(s).getManifest('app', 'v1'))).toBe('too_large');
  });
});

describe('retries, rate limits and timeouts', () => {
  it('429 with Retry-After seconds is honoured, then succeeds', async () => {
    let n = 0;
    const s = await serve((_req, res) => {
      if (n++ === 0) {
        res.writeHead(429, { 'retry-after': '1' });
        res.end();
        return;
      }
      sendManifest(res);
    });
    const t0 = Date.now();
    const m = await client(s).getManifest('app', 'v1');
    expect(m?.digest).toBe(MANIFEST_DIGEST);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(s.requests).toHaveLength(2);
  });

  it('429 with Retry-After as an HTTP date is honoured', async () => {
    let n = 0;
    const s = await serve((_req, res) => {
      if (n++ === 0) {
        res.writeHead(429, {
          'retry-after': new Date(Date.now() + 1500).toUTCString(),
        });
        res.end();
        return;
      }
      sendManifest(res);
    });
    const t0 = Date.now();
    await client(s).getManifest('app', 'v1');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    expect(s.requests).toHaveLength(2);
  });

  it('attack: endless 429 -> rate_limited after the bounded attempts (no retry storm)', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(429);
      res.end();
    });
    expect(await codeOf(client(s).getManifest('app', 'v1'))).toBe(
      'rate_limited',
    );
    expect(s.requests).toHaveLength(3);
  });

  it('attack: Retry-After beyond the cap -> rate_limited at once', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(429, { 'retry-after': '86400' });
      res.end();
    });
    expect(await codeOf(client(s).getManifest('app', 'v1'))).toBe(
      'rate_limited',
    );
    expect(s.requests).toHaveLength(1);
  });

  it('5xx is retried and recovers; persistent 5xx -> registry_unreachable', async () => {
    let n = 0;
    const flaky = await serve((_req, res) => {
      if (n++ < 2) {
        res.writeHead(503);
        res.end();
        return;
      }
      sendManifest(res);
    });
    expect((await client(flaky).getManifest('app', 'v1'))?.digest).toBe(
      MANIFEST_DIGEST,
    );
    const dead = await serve((_req, res) => {
      res.writeHead(500);
      res.end();
    });
    expect(await codeOf(client(dead).getManifest('app', 'v1'))).toBe(
      'registry_unreachable',
    );
    expect(dead.requests).toHaveLength(3);
  });

  it('network errors (connection reset) are retried, then registry_unreachable', async () => {
    const s = await serve(req => {
      req.socket.destroy();
    });
    expect(await codeOf(client(s).getManifest('app', 'v1'))).toBe(
      'registry_unreachable',
    );
    expect(s.requests).toHaveLength(3);
  });

  it('attack: stalled headers -> registry_unreachable after the header timeout', async () => {
    const s = await serve(() => undefined);
    const t0 = Date.now();
    expect(
      await codeOf(
        client(s, {}, { headersTimeoutMs: 200, maxAttempts: 1 }).getManifest(
          'app',
          'v1',
        ),
      ),
    ).toBe('registry_unreachable');
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('attack: body stalls mid-stream -> registry_unreachable after the idle timeout', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/vnd.oci.image.manifest.v1+json',
      });
      res.write('{"schemaVersion":');
    });
    expect(
      await codeOf(
        client(s, {}, { bodyIdleTimeoutMs: 200, maxAttempts: 1 }).getManifest(
          'app',
          'v1',
        ),
      ),
    ).toBe('registry_unreachable');
  });

  it('attack: slow drip defeats idle timeouts but not the total deadline', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200);
      const t = setInterval(
        () => (res.destroyed ? clearInterval(t) : res.write(' ')),
        50,
      );
      res.once('close', () => clearInterval(t));
    });
    const t0 = Date.now();
    const err = await client(s, {}, { totalTimeoutMs: 500 })
      .getManifest('app', 'v1')
      .catch(e => e);
    expect(err).toBeInstanceOf(SourceError);
    expect(err.code).toBe('registry_unreachable');
    expect(err.details.problem).toBe('timeout');
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});

describe('authentication', () => {
  it('attack: bearer realm on a foreign host -> registry_auth, realm never contacted', async () => {
    const realm = await serve((_req, res) => {
      res.writeHead(200);
      res.end('{"token":"stolen"}');
    }, 'localhost');
    const s = await serve((_req, res) => {
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="${realm.url}/token",service="evil"`,
      });
      res.end();
    });
    const err = await client(s, {
      credentials: { username: 'u', password: 'secret' },
    })
      .getManifest('app', 'v1')
      .catch(e => e);
    expect(err.code).toBe('registry_auth');
    expect(err.details.problem).toBe('realm_foreign_host');
    expect(realm.requests).toHaveLength(0);
  });

  it('bearer flow: credentials go only to the realm on the registry host; token cached per scope', async () => {
    const s = await serve((req, res) => {
      if (req.url?.startsWith('/token')) {
        res.writeHead(200);
        res.end(JSON.stringify({ token: 'tok-1', expires_in: 300 }));
        return;
      }
      if (req.headers.authorization !== 'Bearer tok-1') {
        res.writeHead(401, {
          'www-authenticate': `Bearer realm="http://${req.headers.host}/token",service="reg",scope="repository:app:pull"`,
        });
        res.end();
        return;
      }
      sendManifest(res);
    });
    const c = client(s, { credentials: { username: 'u', password: 'p' } });
    await c.getManifest('app', 'v1');
    await c.getManifest('app', 'v2');
    const tokenReqs = s.requests.filter(r => r.url.startsWith('/token'));
    expect(tokenReqs).toHaveLength(1);
    expect(tokenReqs[0].url).toContain('scope=repository%3Aapp%3Apull');
    expect(tokenReqs[0].headers.authorization).toBe(
      `Basic ${Buffer.from('u:p').toString('base64')}`,
    );
    // 401, token, retried manifest, then the second manifest straight with the cached token
    expect(s.requests.map(r => r.url)).toHaveLength(4);
  });

  it('basic auth when challenged, and registry_auth without credentials', async () => {
    const handler: Handler = (req, res) => {
      if (
        req.headers.authorization !==
        `Basic ${Buffer.from('u:p').toString('base64')}`
      ) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="registry"' });
        res.end();
        return;
      }
      sendManifest(res);
    };
    const s = await serve(handler);
    expect(
      (
        await client(s, {
          credentials: { username: 'u', password: 'p' },
        }).getManifest('app', 'v1')
      )?.digest,
    ).toBe(MANIFEST_DIGEST);
    expect(await codeOf(client(s).getManifest('app', 'v1'))).toBe(
      'registry_auth',
    );
    expect(
      await codeOf(
        client(s, {
          credentials: { username: 'u', password: 'wrong' },
        }).getManifest('app', 'v1'),
      ),
    ).toBe('registry_auth');
  });

  it('403 -> registry_auth, not retried and not conflated with "unsigned"', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(403);
      res.end();
    });
    const c = client(s);
    expect(
      await codeOf(c.getManifest('app', 'sha256-x.sig', { optional: true })),
    ).toBe('registry_auth');
    expect(s.requests).toHaveLength(1);
  });

  it('static token is sent as Bearer to the registry only', async () => {
    const s = await serve((req, res) => {
      if (req.headers.authorization !== 'Bearer static') {
        res.writeHead(401, {
          'www-authenticate': 'Bearer realm="https://elsewhere/token"',
        });
        res.end();
        return;
      }
      sendManifest(res);
    });
    expect(
      (
        await client(s, { credentials: { token: 'static' } }).getManifest(
          'app',
          'v1',
        )
      )?.digest,
    ).toBe(MANIFEST_DIGEST);
  });
});

describe('redirects', () => {
  it('blob redirect to another origin drops Authorization; bytes still hash-checked', async () => {
    const storage = await serve((_req, res) => {
      res.writeHead(200);
      res.end(MANIFEST);
    }, 'localhost');
    const s = await serve((req, res) => {
      if (req.headers.authorization !== 'Bearer static') {
        res.writeHead(401, { 'www-authenticate': 'Bearer realm="x"' });
        res.end();
        return;
      }
      res.writeHead(307, { location: `${storage.url}/blob?sig=1` });
      res.end();
    });
    const bytes = await client(s, {
      credentials: { token: 'static' },
      blobHosts: [storage.url],
    }).getBlob('app', MANIFEST_DIGEST);
    expect(sha256(bytes)).toBe(MANIFEST_DIGEST);
    expect(storage.requests).toHaveLength(1);
    expect(storage.requests[0].headers.authorization).toBeUndefined();
  });

  it('attack: redirect loops and non-http locations -> registry_unreachable, bounded requests', async () => {
    const loop = await serve((req, res) => {
      res.writeHead(302, { location: `${req.url}x` });
      res.end();
    });
    expect(await codeOf(client(loop).getBlob('app', MANIFEST_DIGEST))).toBe(
      'registry_unreachable',
    );
    expect(loop.requests.length).toBeLessThanOrEqual(4);
    const file = await serve((_req, res) => {
      res.writeHead(302, { location: 'file:///etc/passwd' });
      res.end();
    });
    expect(await codeOf(client(file).getBlob('app', MANIFEST_DIGEST))).toBe(
      'registry_unreachable',
    );
  });

  it('attack: https registry redirecting to plain http -> refused, target never contacted', async () => {
    const plain = await serve((_req, res) => {
      res.writeHead(200);
      res.end(MANIFEST);
    });
    const tls = selfSigned();
    const s = await startHostileTls((_req, res) => {
      res.writeHead(302, { location: `${plain.url}/blob` });
      res.end();
    }, tls);
    servers.push(s);
    const c = new RegistryClient({
      registry: { host: s.host },
      fetchOptions: { ca: tls.cert, maxAttempts: 1 },
    });
    clients.push(c);
    const err = await c.getBlob('app', MANIFEST_DIGEST).catch(e => e);
    expect(err).toBeInstanceOf(SourceError);
    expect(err.details.problem).toBe('insecure_redirect');
    expect(plain.requests).toHaveLength(0);
  });

  it('attack: http bearer realm for an https registry -> registry_auth', async () => {
    const plain = await serve((_req, res) => {
      res.writeHead(200);
      res.end('{"token":"t"}');
    });
    const tls = selfSigned();
    const s = await startHostileTls((_req, res) => {
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="http://127.0.0.1:${plain.port}/token"`,
      });
      res.end();
    }, tls);
    servers.push(s);
    const c = new RegistryClient({
      registry: { host: s.host, credentials: { username: 'u', password: 'p' } },
      fetchOptions: { ca: tls.cert, maxAttempts: 1 },
    });
    clients.push(c);
    const err = await c.getManifest('app', 'v1').catch(e => e);
    expect(err.code).toBe('registry_auth');
    expect(err.details.problem).toBe('realm_insecure');
    expect(plain.requests).toHaveLength(0);
  });
});

describe('allow-list and isolation', () => {
  it('attack: reference to an unlisted host -> registry_not_allowed with no network call', async () => {
    const s = await serve((_req, res) => sendManifest(res));
    const src = createArtifactSource({
      registries: [{ host: 'registry.eu.example.com' }],
    });
    clients.push(src);
    const err = await src
      .resolve(parseImageReference(`${s.host}/app:v1`))
      .catch(e => e);
    expect(err.code).toBe('registry_not_allowed');
    expect(s.requests).toHaveLength(0);
  });

  it('one slow registry never blocks another; per-host concurrency is bounded', async () => {
    const slow = await serve((_req, res) => {
      setTimeout(() => sendManifest(res), 300);
    });
    const fast = await serve((_req, res) => sendManifest(res));
    const src = createArtifactSource({
      registries: [
        { host: slow.host, insecure: true },
        { host: fast.host, insecure: true },
      ],
      limits: { concurrencyPerRegistry: 2 },
    });
    clients.push(src);
    const slowDone = Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        src.resolve(parseImageReference(`${slow.host}/app:v${i}`)),
      ),
    );
    const t0 = Date.now();
    await src.resolve(parseImageReference(`${fast.host}/app:v1`));
    const fastMs = Date.now() - t0;
    await slowDone;
    expect(fastMs).toBeLessThan(250);
    expect(slow.inflight.max).toBeLessThanOrEqual(2);
    expect(slow.requests).toHaveLength(6);
  });
});

describe('OCI 1.1 referrers API', () => {
  const bundle = Buffer.from(
    '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}',
  );
  const empty = Buffer.from('{}');
  const referrer = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      config: {
        mediaType: 'application/vnd.oci.empty.v1+json',
        digest: sha256(empty),
        size: 2,
      },
      layers: [
        {
          mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
          digest: sha256(bundle),
          size: bundle.length,
        },
      ],
      subject: {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: MANIFEST_DIGEST,
        size: MANIFEST.length,
      },
    }),
  );
  const descriptor = (n = 1) =>
    Array.from({ length: n }, () => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: sha256(referrer),
      size: referrer.length,
      artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    }));

  function registryWithReferrers(count: number): Handler {
    const blobs: Record<string, Buffer> = {
      [sha256(bundle)]: bundle,
      [sha256(empty)]: empty,
      [sha256(CONFIG)]: CONFIG,
    };
    return (req, res) => {
      const url = req.url ?? '';
      if (url.includes('/referrers/')) {
        res.writeHead(200, {
          'content-type': 'application/vnd.oci.image.index.v1+json',
        });
        res.end(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: 'application/vnd.oci.image.index.v1+json',
            manifests: descriptor(count),
          }),
        );
        return;
      }
      if (url.endsWith(`/manifests/${sha256(referrer)}`)) {
        sendManifest(res, referrer);
        return;
      }
      if (
        url.endsWith('/manifests/v1') ||
        url.endsWith(`/manifests/${MANIFEST_DIGEST}`)
      ) {
        sendManifest(res);
        return;
      }
      const blob = Object.entries(blobs).find(([d]) =>
        url.endsWith(`/blobs/${d}`),
      );
      if (blob) {
        res.writeHead(200);
        res.end(blob[1]);
        return;
      }
      res.writeHead(404);
      res.end();
    };
  }

  it('bundles found through the referrers API are reported with source "referrers"', async () => {
    const s = await serve(registryWithReferrers(1));
    const src = createArtifactSource({
      registries: [{ host: s.host, insecure: true }],
    });
    clients.push(src);
    const img = await src.resolve(parseImageReference(`${s.host}/app:v1`));
    const d = await src.discover(img);
    expect(d.bundles).toHaveLength(1);
    expect(d.bundles[0]).toMatchObject({
      source: 'referrers',
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    });
    expect(Buffer.from(d.bundles[0].bundle).equals(bundle)).toBe(true);
  });

  it('referrers API and tag schema disagreeing -> union of both', async () => {
    const other = Buffer.from('{"bundle":"from-tag-schema"}');
    const otherRef = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        config: {
          mediaType: 'application/vnd.oci.empty.v1+json',
          digest: sha256(empty),
          size: 2,
        },
        layers: [
          {
            mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
            digest: sha256(other),
            size: other.length,
          },
        ],
        subject: {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: MANIFEST_DIGEST,
          size: MANIFEST.length,
        },
      }),
    );
    const base = registryWithReferrers(1);
    const s = await serve((req, res, st) => {
      const url = req.url ?? '';
      if (url.endsWith(`/manifests/${MANIFEST_DIGEST.replace(':', '-')}`)) {
        return sendManifest(
          res,
          Buffer.from(
            JSON.stringify({
              schemaVersion: 2,
              mediaType: 'application/vnd.oci.image.index.v1+json',
              manifests: [
                {
                  mediaType: 'application/vnd.oci.image.manifest.v1+json',
                  digest: sha256(otherRef),
                  size: otherRef.length,
                },
              ],
            }),
          ),
          { 'content-type': 'application/vnd.oci.image.index.v1+json' },
        );
      }
      if (url.endsWith(`/manifests/${sha256(otherRef)}`))
        return sendManifest(res, otherRef);
      if (url.endsWith(`/blobs/${sha256(other)}`)) {
        res.writeHead(200);
        res.end(other);
        return undefined;
      }
      return base(req, res, st);
    });
    const src = createArtifactSource({
      registries: [{ host: s.host, insecure: true }],
    });
    clients.push(src);
    const d = await src.discover(
      await src.resolve(parseImageReference(`${s.host}/app:v1`)),
    );
    expect(d.bundles.map(b => Buffer.from(b.bundle).toString()).sort()).toEqual(
      [bundle.toString(), other.toString()].sort(),
    );
  });

  it('attack: thousands of referrers -> too_large before iterating', async () => {
    const s = await serve(registryWithReferrers(5000));
    const src = createArtifactSource({
      registries: [{ host: s.host, insecure: true }],
    });
    clients.push(src);
    const img = await src.resolve(parseImageReference(`${s.host}/app:v1`));
    expect(await codeOf(src.discover(img))).toBe('too_large');
    expect(
      s.requests.filter(r => r.url.includes(sha256(referrer))),
    ).toHaveLength(0);
  });
});

describe('input validation and cancellation', () => {
  it('attack: repository or tag that would alter the URL path -> bad_reference, no request', async () => {
    const s = await serve((_req, res) => sendManifest(res));
    const c = client(s);
    expect(await codeOf(c.getManifest('../../v2/_catalog', 'v1'))).toBe(
      'bad_reference',
    );
    expect(await codeOf(c.getManifest('app', '../../x'))).toBe('bad_reference');
    expect(await codeOf(c.getManifest('app', 'v1?x=1'))).toBe('bad_reference');
    expect(await codeOf(c.getBlob('app', 'sha256:../../x'))).toBe(
      'bad_reference',
    );
    expect(s.requests).toHaveLength(0);
  });

  it('a caller abort stops the request with a typed error (never a pass)', async () => {
    const s = await serve(() => undefined);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const err = await client(s)
      .getManifest('app', 'v1', { signal: ac.signal })
      .catch(e => e);
    expect(err).toBeInstanceOf(SourceError);
    expect(err.code).toBe('registry_unreachable');
    expect(err.details.problem).toBe('aborted');
  });
});

describe('property: hostile registry bytes', () => {
  it('resolve + discover on arbitrary manifest/blob bytes end in a result or a typed SourceError', async () => {
    let body: Buffer = MANIFEST;
    let contentType = 'application/vnd.oci.image.manifest.v1+json';
    const s = await serve((_req, res) => {
      // Every manifest/blob/referrers request gets the same hostile bytes.
      res.writeHead(200, { 'content-type': contentType });
      res.end(body);
    });
    const src = createArtifactSource({
      registries: [{ host: s.host, insecure: true }],
      fetchOptions: { maxAttempts: 1 },
    });
    clients.push(src);
    const descriptor = fc.record(
      {
        mediaType: fc.constantFrom(
          'application/vnd.dev.cosign.simplesigning.v1+json',
          'application/vnd.dsse.envelope.v1+json',
          'application/vnd.dev.sigstore.bundle.v0.3+json',
          'application/vnd.oci.image.config.v1+json',
        ),
        digest: fc.oneof(fc.constant(MANIFEST_DIGEST), fc.string()),
        size: fc.oneof(fc.nat(), fc.integer()),
        annotations: fc.dictionary(fc.string(), fc.string()),
        artifactType: fc.constant(
          'application/vnd.dev.sigstore.bundle.v0.3+json',
        ),
      },
      { requiredKeys: ['mediaType', 'digest', 'size'] },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc
            .record(
              {
                schemaVersion: fc.constantFrom(2, 1, '2'),
                mediaType: fc.constantFrom(
                  'application/vnd.oci.image.manifest.v1+json',
                  'application/vnd.oci.image.index.v1+json',
                  'text/plain',
                ),
                config: descriptor,
                layers: fc.array(descriptor, { maxLength: 3 }),
                manifests: fc.array(descriptor, { maxLength: 3 }),
                subject: descriptor,
              },
              { requiredKeys: ['schemaVersion'] },
            )
            .map(o => Buffer.from(JSON.stringify(o))),
          fc.uint8Array({ maxLength: 64 }).map(b => Buffer.from(b)),
        ),
        fc.constantFrom(
          'application/vnd.oci.image.manifest.v1+json',
          'application/vnd.oci.image.index.v1+json',
          'text/html',
        ),
        async (bytes, ct) => {
          body = bytes;
          contentType = ct;
          let outcome = 'ok';
          try {
            await src.discover(
              await src.resolve(parseImageReference(`${s.host}/app:v1`)),
            );
          } catch (e) {
            outcome =
              e instanceof SourceError ? 'typed' : `untyped: ${String(e)}`;
          }
          expect(['ok', 'typed']).toContain(outcome);
        },
      ),
      { numRuns: 150 },
    );
  });
});
