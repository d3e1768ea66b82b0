import { setupServer } from 'msw/node';
import { http, HttpResponse } from 'msw';
import { MockFetchApi, registerMswTestHooks } from '@backstage/test-utils';
import { ResponseError } from '@backstage/errors';
import { ResidencyClient } from './ResidencyClient';
import {
  evidenceFilename,
  filenameFromContentDisposition,
  sanitizeFilename,
} from './filename';

const server = setupServer();
registerMswTestHooks(server);

const baseUrl = 'http://backstage.test/api/residency';
const discoveryApi = { getBaseUrl: async () => baseUrl };

function makeClient(options: { token?: string } = {}) {
  const saved: { blob: Blob; filename: string }[] = [];
  const client = new ResidencyClient({
    discoveryApi,
    fetchApi: new MockFetchApi({
      injectIdentityAuth: options.token ? { token: options.token } : undefined,
    }),
    saveBlob: (blob, filename) => saved.push({ blob, filename }),
  });
  return { client, saved };
}

describe('ResidencyClient', () => {
  it('encodes every path parameter of an entity reference', async () => {
    let seenPath = '';
    server.use(
      http.get(
        `${baseUrl}/entities/:kind/:namespace/:name/status`,
        ({ request }) => {
          seenPath = new URL(request.url).pathname;
          return HttpResponse.json({ entityRef: 'x', decision: 'compliant' });
        },
      ),
    );
    const { client } = makeClient();
    await client.getStatus({
      entityRef: { kind: 'Component', namespace: 'a/b', name: '../etc?x#y' },
    });
    expect(seenPath).toBe(
      '/api/residency/entities/Component/a%2Fb/..%2Fetc%3Fx%23y/status',
    );
  });

  it('parses a string entity reference with the default namespace', async () => {
    let seenPath = '';
    server.use(
      http.get(
        `${baseUrl}/entities/:kind/:namespace/:name/status`,
        ({ request }) => {
          seenPath = new URL(request.url).pathname;
          return HttpResponse.json({ decision: 'compliant' });
        },
      ),
    );
    const { client } = makeClient();
    await client.getStatus({ entityRef: 'component:payments' });
    expect(seenPath).toBe(
      '/api/residency/entities/component/default/payments/status',
    );
  });

  it('returns undefined for an entity the backend has not checked (404)', async () => {
    server.use(
      http.get(`${baseUrl}/entities/:kind/:namespace/:name/status`, () =>
        HttpResponse.json(
          { error: { name: 'NotFoundError', message: 'not found' } },
          { status: 404 },
        ),
      ),
    );
    const { client } = makeClient();
    await expect(
      client.getStatus({ entityRef: 'component:default/unknown' }),
    ).resolves.toBeUndefined();
  });

  it('throws a ResponseError carrying the status for server errors', async () => {
    server.use(
      http.get(`${baseUrl}/entities/:kind/:namespace/:name/status`, () =>
        HttpResponse.json(
          {
            error: { name: 'Error', message: 'database down' },
            response: { statusCode: 500 },
          },
          { status: 500 },
        ),
      ),
    );
    const { client } = makeClient();
    const error = await client
      .getStatus({ entityRef: 'component:default/payments' })
      .catch(e => e);
    expect(error).toBeInstanceOf(ResponseError);
    expect((error as ResponseError).response.status).toBe(500);
    expect((error as ResponseError).cause.message).toBe('database down');
  });

  it('throws on 404 for routes other than status', async () => {
    server.use(
      http.get(
        `${baseUrl}/entities/:kind/:namespace/:name/evidence`,
        () => new HttpResponse(null, { status: 404 }),
      ),
    );
    const { client } = makeClient();
    await expect(
      client.listEvidence({ entityRef: 'component:default/payments' }),
    ).rejects.toBeInstanceOf(ResponseError);
  });

  it('sends list filters as query parameters and omits empty ones', async () => {
    let seen: URLSearchParams | undefined;
    server.use(
      http.get(`${baseUrl}/entities`, ({ request }) => {
        seen = new URL(request.url).searchParams;
        return HttpResponse.json({ items: [], totalCount: 0 });
      }),
    );
    const { client } = makeClient();
    await client.listEntities({
      status: 'non_compliant',
      tenant: 'eu sovereign&co',
      q: '',
      cursor: 'abc=',
      limit: 25,
    });
    expect(seen?.get('status')).toBe('non_compliant');
    expect(seen?.get('tenant')).toBe('eu sovereign&co');
    expect(seen?.has('q')).toBe(false);
    expect(seen?.get('cursor')).toBe('abc=');
    expect(seen?.get('limit')).toBe('25');
  });

  it('refreshes with POST', async () => {
    const methods: string[] = [];
    server.use(
      http.post(
        `${baseUrl}/entities/:kind/:namespace/:name/refresh`,
        ({ request }) => {
          methods.push(request.method);
          return HttpResponse.json({ decision: 'compliant', stale: false });
        },
      ),
    );
    const { client } = makeClient();
    const status = await client.refresh({
      entityRef: 'component:default/payments',
    });
    expect(methods).toEqual(['POST']);
    expect(status.decision).toBe('compliant');
  });

  it('fetches the compliance history in one request', async () => {
    const urls: string[] = [];
    server.use(
      http.get(`${baseUrl}/compliance/history`, ({ request }) => {
        urls.push(request.url);
        return HttpResponse.json({
          days: [
            {
              day: '2026-11-20',
              resident: 1,
              notResident: 0,
              unknown: 0,
              unchecked: 0,
            },
          ],
        });
      }),
    );
    const { client } = makeClient();
    const history = await client.getComplianceHistory({ days: 14 });
    expect(urls).toEqual([`${baseUrl}/compliance/history?days=14`]);
    expect(history.days[0].resident).toBe(1);
  });

  it('fetches the chain verification, tenants and mismatches', async () => {
    let mismatchTenant: string | null = null;
    server.use(
      http.get(
        `${baseUrl}/entities/:kind/:namespace/:name/evidence/verify`,
        () =>
          HttpResponse.json({
            entityRef: 'component:default/payments',
            ok: false,
            length: 3,
            brokenAt: { sequence: 2, problem: 'hash' },
          }),
      ),
      http.get(`${baseUrl}/tenants`, () =>
        HttpResponse.json({ items: [{ id: 'eusc' }] }),
      ),
      http.get(`${baseUrl}/mismatches`, ({ request }) => {
        mismatchTenant = new URL(request.url).searchParams.get('tenant');
        return HttpResponse.json({ items: [] });
      }),
    );
    const { client } = makeClient();
    const chain = await client.verifyChain({
      entityRef: 'component:default/payments',
    });
    expect(chain.brokenAt?.sequence).toBe(2);
    expect((await client.listTenants()).items[0].id).toBe('eusc');
    await client.listMismatches({ tenant: 'eusc' });
    expect(mismatchTenant).toBe('eusc');
  });

  describe('downloadEvidence', () => {
    it('fetches through fetchApi with the user token and names the file from Content-Disposition', async () => {
      let auth: string | null = null;
      server.use(
        http.get(`${baseUrl}/evidence/:id`, ({ request, params }) => {
          auth = request.headers.get('authorization');
          return new HttpResponse(JSON.stringify({ id: params.id }), {
            headers: {
              'content-type': 'application/json',
              'content-disposition':
                'attachment; filename="residency-evidence-payments-7.json"',
            },
          });
        }),
      );
      const { client, saved } = makeClient({ token: 'user-token' });
      const result = await client.downloadEvidence({
        id: 'ev/7',
        entityRef: 'component:default/payments',
        sequence: 7,
      });
      expect(auth).toBe('Bearer user-token');
      expect(result.filename).toBe('residency-evidence-payments-7.json');
      expect(saved).toHaveLength(1);
      expect(saved[0].filename).toBe('residency-evidence-payments-7.json');
      expect(JSON.parse(await saved[0].blob.text())).toEqual({ id: 'ev/7' });
    });

    it('falls back to a meaningful name when the server gives none', async () => {
      server.use(
        http.get(`${baseUrl}/evidence/:id`, () =>
          HttpResponse.json({ ok: true }),
        ),
      );
      const { client, saved } = makeClient();
      await client.downloadEvidence({
        id: 'abc',
        entityRef: 'component:default/payments',
        sequence: 12,
      });
      expect(saved[0].filename).toBe(
        'residency-evidence-component-default-payments-12.json',
      );
    });

    it('does not save anything when the download is forbidden', async () => {
      server.use(
        http.get(`${baseUrl}/evidence/:id`, () =>
          HttpResponse.json(
            { error: { name: 'NotAllowedError', message: 'forbidden' } },
            { status: 403 },
          ),
        ),
      );
      const { client, saved } = makeClient();
      await expect(
        client.downloadEvidence({ id: 'abc' }),
      ).rejects.toBeInstanceOf(ResponseError);
      expect(saved).toHaveLength(0);
    });
  });

  describe('downloadVsa', () => {
    const vsaItem = {
      digest: `sha256:${'a'.repeat(64)}`,
      verificationResult: 'PASSED',
      timeVerified: '2026-01-01T00:00:00.000Z',
      keyFingerprint: 'fp',
      envelope: { payloadType: 'application/vnd.in-toto+json' },
      bundle: { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' },
    };

    it('saves the signed summaries of a record with the user token', async () => {
      let auth: string | null = null;
      let seenPath = '';
      server.use(
        http.get(`${baseUrl}/evidence/:id/vsa`, ({ request }) => {
          auth = request.headers.get('authorization');
          seenPath = new URL(request.url).pathname;
          return HttpResponse.json({ items: [vsaItem] });
        }),
      );
      const { client, saved } = makeClient({ token: 'user-token' });
      const result = await client.downloadVsa({
        id: 'ev/7',
        entityRef: 'component:default/payments',
        sequence: 7,
      });
      expect(auth).toBe('Bearer user-token');
      expect(seenPath).toBe('/api/residency/evidence/ev%2F7/vsa');
      expect(result?.filename).toBe(
        'residency-vsa-component-default-payments-7.json',
      );
      expect(result?.count).toBe(1);
      expect(saved).toHaveLength(1);
      expect(JSON.parse(await saved[0].blob.text())).toEqual({
        items: [vsaItem],
      });
    });

    it('returns undefined and saves nothing when no VSA was issued (404 or empty)', async () => {
      let status = 404;
      server.use(
        http.get(`${baseUrl}/evidence/:id/vsa`, () =>
          status === 404
            ? HttpResponse.json(
                { error: { name: 'NotFoundError', message: 'none' } },
                { status: 404 },
              )
            : HttpResponse.json({ items: [] }),
        ),
      );
      const { client, saved } = makeClient();
      await expect(client.downloadVsa({ id: 'abc' })).resolves.toBeUndefined();
      status = 200;
      await expect(client.downloadVsa({ id: 'abc' })).resolves.toBeUndefined();
      expect(saved).toHaveLength(0);
    });

    it('throws on a forbidden VSA download', async () => {
      server.use(
        http.get(`${baseUrl}/evidence/:id/vsa`, () =>
          HttpResponse.json(
            { error: { name: 'NotAllowedError', message: 'forbidden' } },
            { status: 403 },
          ),
        ),
      );
      const { client, saved } = makeClient();
      await expect(client.downloadVsa({ id: 'abc' })).rejects.toBeInstanceOf(
        ResponseError,
      );
      expect(saved).toHaveLength(0);
    });
  });
});

describe('file names', () => {
  it('reads RFC 5987 and quoted forms', () => {
    expect(
      filenameFromContentDisposition(
        `attachment; filename="a.json"; filename*=UTF-8''b%20c.json`,
      ),
    ).toBe('b c.json');
    expect(
      filenameFromContentDisposition('attachment; filename=plain.json'),
    ).toBe('plain.json');
    expect(filenameFromContentDisposition('attachment')).toBeUndefined();
    expect(filenameFromContentDisposition(null)).toBeUndefined();
  });

  it('strips directories, control characters and leading dots (path traversal)', () => {
    expect(
      filenameFromContentDisposition('attachment; filename="../../etc/passwd"'),
    ).toBe('passwd');
    expect(sanitizeFilename('..\\..\\evil\u0000.json')).toBe('evil_.json');
    expect(sanitizeFilename('.bashrc')).toBe('bashrc');
    expect(sanitizeFilename('...')).toBeUndefined();
  });

  it('builds the fallback from the entity and the sequence', () => {
    expect(
      evidenceFilename({
        entityRef: 'Component:Default/My Service',
        sequence: 3,
        id: 'x',
      }),
    ).toBe('residency-evidence-component-default-my-service-3.json');
    expect(evidenceFilename({ id: 'Ab/12' })).toBe(
      'residency-evidence-entity-ab-12.json',
    );
  });
});
