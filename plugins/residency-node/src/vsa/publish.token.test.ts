/*
 * Publishing through a registry that demands a bearer push token (as Harbor, GHCR or
 * Docker Hub do): a loopback front of the real docker-registry answers 401 with a
 * Bearer challenge and serves a token endpoint that checks Basic credentials and the
 * requested scope. A realm on another host gets no credentials.
 */
import { generateKeyPairSync } from 'node:crypto';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  pushImage,
  startRegistry,
  type TestRegistry,
} from '../source/__testUtils__/registry';
import { FileVsaSigner, signVsa } from './sign';
import { publishVsa } from './publish';
import {
  IN_TOTO_STATEMENT_V1,
  VSA_PREDICATE_TYPE,
  type VsaStatement,
} from './types';

jest.setTimeout(60_000);

function front(
  registry: TestRegistry,
  opts: { realmHost?: string },
): Promise<{ url: string; server: Server; tokenRequests: IncomingMessage[] }> {
  const tokenRequests: IncomingMessage[] = [];
  const target = new URL(registry.url);
  const server = createServer((req, res) => {
    const port = (server.address() as AddressInfo).port;
    if (req.url?.startsWith('/token')) {
      tokenRequests.push(req);
      const basic = `Basic ${Buffer.from('ci:pw').toString('base64')}`;
      const scope = new URL(req.url, 'http://x').searchParams.get('scope');
      if (
        req.headers.authorization !== basic ||
        scope !== 'repository:acme/app:pull,push'
      ) {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token: 'push-token', expires_in: 300 }));
      return;
    }
    if (req.headers.authorization !== 'Bearer push-token') {
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="http://${
          opts.realmHost ?? '127.0.0.1'
        }:${port}/token",service="reg",scope="repository:acme/app:pull"`,
      });
      res.end();
      return;
    }
    const up = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, authorization: '' },
      },
      r => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    req.pipe(up);
  });
  return new Promise(resolve =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        server,
        tokenRequests,
      }),
    ),
  );
}

const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signer = FileVsaSigner.fromPem(
  key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  { keyId: 'vsa.pem', region: 'eusc-de-east-1' },
);

async function vsaFor(digest: string, size: number) {
  const signed = await signVsa(
    {
      _type: IN_TOTO_STATEMENT_V1,
      subject: [{ name: 'r/app', digest: { sha256: digest.slice(7) } }],
      predicateType: VSA_PREDICATE_TYPE,
      predicate: { verificationResult: 'PASSED' },
    } as unknown as VsaStatement,
    signer,
    ['eusc-de-east-1'],
  );
  return {
    subject: {
      digest,
      size,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
    },
    envelope: signed.envelope,
    bundle: JSON.stringify(signed.bundle),
    predicateType: VSA_PREDICATE_TYPE,
  };
}

describe('publishVsa with a bearer token exchange', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(() => registry?.stop());

  it('exchanges Basic credentials for a pull,push token at the realm and pushes', async () => {
    const image = await pushImage(registry.url, 'acme/app', 'v1');
    const f = await front(registry, {});
    try {
      const out = await publishVsa(
        {
          baseUrl: f.url,
          repository: 'acme/app',
          credentials: { username: 'ci', password: 'pw' },
        },
        await vsaFor(image.digest, image.size),
      );
      expect(out.addedToAtt).toBe(true);
      expect(f.tokenRequests).toHaveLength(1);
      const att = await fetch(
        `${registry.url}/v2/acme/app/manifests/${out.attTag}`,
        { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } },
      );
      expect((await att.json()).layers).toHaveLength(1);
    } finally {
      await new Promise(r => f.server.close(r));
    }
  });

  it('sends no credentials to a realm on another host', async () => {
    const image = await pushImage(registry.url, 'acme/app', 'v2');
    const f = await front(registry, { realmHost: 'localhost' });
    try {
      await expect(
        publishVsa(
          {
            baseUrl: f.url,
            repository: 'acme/app',
            credentials: { username: 'ci', password: 'pw' },
          },
          await vsaFor(image.digest, image.size),
        ),
      ).rejects.toThrow(
        expect.objectContaining({
          code: 'vsa_publish_failed',
          message: expect.stringContaining('another host'),
        }),
      );
      expect(f.tokenRequests).toHaveLength(0);
    } finally {
      await new Promise(r => f.server.close(r));
    }
  });
});
