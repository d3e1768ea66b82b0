import {
  TestDatabases,
  mockCredentials,
  mockErrorHandler,
  mockServices,
} from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import express from 'express';
import request from 'supertest';
import { DIGEST_A } from '../__testUtils__/fixtures';
import {
  AUDITOR,
  DEVELOPER,
  OUTSIDER,
  OWNER,
  createEvaluator,
  createStoreOn,
  makeEntity,
  rolePermissions,
  visibilityCatalog,
} from '../__testUtils__/harness';
import { AuthorizedResidencyService } from './AuthorizedResidencyService';
import { DefaultResidencyService } from './DefaultResidencyService';
import { createRouter } from './router';
import { specErrors } from '../__testUtils__/openapi';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

const as = (user: string) => mockCredentials.user.header(user);

describe('createRouter', () => {
  let app: express.Express;
  let entities: Entity[];
  let auditor: ReturnType<typeof mockServices.auditor.mock>;
  let auditEvents: { success: jest.Mock; fail: jest.Mock };
  let evidenceId: string;
  let refresh: (name: string) => Promise<void>;
  let engine: ReturnType<typeof createEvaluator>['engine'];

  beforeAll(async () => {
    const { store } = await createStoreOn(databases, 'SQLITE_3');
    entities = [
      makeEntity('payments', {
        images: `registry.eu/pay@${DIGEST_A}`,
        tenant: 'eu-public',
        title: 'Payments',
      }),
      makeEntity('ledger', {
        images: 'registry.eu/ledger:1',
        tenant: 'eu-public',
        region: 'us-east-1',
      }),
      makeEntity('plain'),
    ];
    const catalog = visibilityCatalog(entities);
    const created = createEvaluator(store);
    const evaluator = created.evaluator;
    engine = created.engine;
    engine.decide = o =>
      o.entityRef.endsWith('/ledger') ? 'non_compliant' : 'compliant';
    const auth = mockServices.auth();
    const inner = DefaultResidencyService.create({
      store,
      evaluator,
      catalog,
      auth,
    });
    const service = new AuthorizedResidencyService({
      inner,
      catalog,
      permissions: rolePermissions(),
    });
    auditEvents = { success: jest.fn(), fail: jest.fn() };
    auditor = mockServices.auditor.mock({
      createEvent: jest.fn(async () => auditEvents) as any,
    });
    const router = await createRouter({
      httpAuth: mockServices.httpAuth(),
      auditor,
      logger: mockServices.logger.mock(),
      service,
    });
    app = express().use(router).use(mockErrorHandler());
    refresh = async (name: string) => {
      await inner.refresh({
        entityRef: `component:default/${name}`,
        credentials: mockCredentials.service(),
      } as any);
    };
    await refresh('payments');
    await refresh('ledger');
    evidenceId = (
      await inner.getStatus({ entityRef: 'component:default/payments' } as any)
    ).evidenceId!;
  });

  beforeEach(() => {
    jest.clearAllMocks();
  });

  it.each([
    ['get', '/entities'],
    ['get', '/entities/component/default/payments/status'],
    ['post', '/entities/component/default/payments/refresh'],
    ['get', '/entities/component/default/payments/evidence'],
    ['get', '/entities/component/default/payments/evidence/verify'],
    ['get', `/evidence/${'a'.repeat(32)}`],
    ['get', '/tenants'],
    ['get', '/mismatches'],
  ] as const)(
    'answers 401 without credentials on %s %s',
    async (method, path) => {
      const res = await request(app)
        [method](path)
        .set('Authorization', mockCredentials.none.header());
      expect(res.status).toBe(401);
    },
  );

  describe('GET /entities/{kind}/{namespace}/{name}/status', () => {
    it('returns the status with per-image detail', async () => {
      const res = await request(app)
        .get('/entities/Component/default/payments/status')
        .set('Authorization', as(DEVELOPER));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        entityRef: 'component:default/payments',
        title: 'Payments',
        decision: 'compliant',
        stale: false,
        evidenceId,
        images: [{ digest: DIGEST_A, decision: 'compliant' }],
      });
    });

    it('answers 404 when the caller cannot see the entity, and for unknown entities', async () => {
      const hidden = await request(app)
        .get('/entities/component/default/payments/status')
        .set('Authorization', as(OUTSIDER));
      expect(hidden.status).toBe(404);
      const unknown = await request(app)
        .get('/entities/component/default/plain/status')
        .set('Authorization', as(OWNER));
      expect(unknown.status).toBe(404);
    });

    it.each([
      '/entities/component/default/%2e%2e/status',
      '/entities/component/..%2F..%2Fetc/passwd/status',
      '/entities/component/default/pay%00ments/status',
      '/entities/component/default/a..b/status',
      '/entities/compo%2Fnent/default/payments/status',
    ])('rejects traversal and control characters: %s', async path => {
      const res = await request(app).get(path).set('Authorization', as(OWNER));
      expect(res.status).toBe(400);
    });
  });

  describe('GET /entities', () => {
    it('lists statuses with filters and a capped limit', async () => {
      const res = await request(app)
        .get('/entities?limit=1000')
        .set('Authorization', as(DEVELOPER));
      expect(res.status).toBe(200);
      expect(res.body.items.map((i: any) => i.entityRef)).toEqual([
        'component:default/ledger',
        'component:default/payments',
      ]);
      const failing = await request(app)
        .get('/entities?status=non_compliant&tenant=eu-public')
        .set('Authorization', as(DEVELOPER));
      expect(failing.body.items).toEqual([
        expect.objectContaining({
          entityRef: 'component:default/ledger',
          decision: 'non_compliant',
          declaredRegion: 'us-east-1',
        }),
      ]);
      const paged = await request(app)
        .get('/entities?limit=1')
        .set('Authorization', as(DEVELOPER));
      expect(paged.body.items).toHaveLength(1);
      const next = await request(app)
        .get(`/entities?limit=1&cursor=${paged.body.nextCursor}`)
        .set('Authorization', as(DEVELOPER));
      expect(next.body.items[0].entityRef).toBe('component:default/payments');
    });

    it('hides entities the caller cannot see', async () => {
      const res = await request(app)
        .get('/entities')
        .set('Authorization', as(OUTSIDER));
      expect(res.status).toBe(200);
      expect(res.body.items).toEqual([]);
    });

    it.each([
      'status=great',
      'limit=-1',
      'limit=abc',
      'tenant=../x',
      'status=a&status=b',
      'cursor=$$',
    ])('rejects bad query %s', async query => {
      const res = await request(app)
        .get(`/entities?${query}`)
        .set('Authorization', as(OWNER));
      expect(res.status).toBe(400);
    });
  });

  describe('POST /entities/{kind}/{namespace}/{name}/refresh', () => {
    it('needs residency.refresh (403) and audits the attempt', async () => {
      const res = await request(app)
        .post('/entities/component/default/payments/refresh')
        .set('Authorization', as(DEVELOPER));
      expect(res.status).toBe(403);
      expect(auditor.createEvent).toHaveBeenCalledWith(
        expect.objectContaining({
          eventId: 'entity-refresh',
          meta: { entityRef: 'component:default/payments' },
        }),
      );
      expect(auditEvents.fail).toHaveBeenCalled();
    });

    it('answers 404 to a caller who cannot see the entity', async () => {
      const res = await request(app)
        .post('/entities/component/default/payments/refresh')
        .set('Authorization', as(OUTSIDER));
      expect(res.status).toBe(404);
    });

    it('verifies now and returns the new status', async () => {
      const res = await request(app)
        .post('/entities/component/default/payments/refresh')
        .set('Authorization', as(OWNER));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        entityRef: 'component:default/payments',
        decision: 'compliant',
      });
      expect(auditEvents.success).toHaveBeenCalled();
    });

    it("audits the attempt's outcome, not the kept stale decision", async () => {
      const decide = engine.decide;
      engine.decide = () => 'unknown';
      try {
        const res = await request(app)
          .post('/entities/component/default/payments/refresh')
          .set('Authorization', as(OWNER));
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ decision: 'compliant', stale: true });
        expect(auditEvents.success).toHaveBeenLastCalledWith({
          meta: expect.objectContaining({
            decision: 'unknown',
            stale: true,
            reasonCodes: ['registry_unreachable'],
          }),
        });
      } finally {
        engine.decide = decide;
      }
      await request(app)
        .post('/entities/component/default/payments/refresh')
        .set('Authorization', as(OWNER));
      expect(auditEvents.success).toHaveBeenLastCalledWith({
        meta: expect.objectContaining({ decision: 'compliant', stale: false }),
      });
    });

    it('answers 404 for an entity without images', async () => {
      const res = await request(app)
        .post('/entities/component/default/plain/refresh')
        .set('Authorization', as(OWNER));
      expect(res.status).toBe(404);
    });
  });

  describe('evidence', () => {
    it('lists the history for auditors, 403 for developers, 404 for outsiders', async () => {
      const ok = await request(app)
        .get('/entities/component/default/payments/evidence')
        .set('Authorization', as(AUDITOR));
      expect(ok.status).toBe(200);
      expect(ok.body.items[0]).toMatchObject({
        id: evidenceId,
        entityRef: 'component:default/payments',
        sequence: 1,
        decision: 'compliant',
        previousHash: null,
      });
      const dev = await request(app)
        .get('/entities/component/default/payments/evidence')
        .set('Authorization', as(DEVELOPER));
      expect(dev.status).toBe(403);
      const outsider = await request(app)
        .get('/entities/component/default/payments/evidence')
        .set('Authorization', as(OUTSIDER));
      expect(outsider.status).toBe(404);
    });

    it('downloads a bundle as an attachment and audits it', async () => {
      const res = await request(app)
        .get(`/evidence/${evidenceId}`)
        .set('Authorization', as(AUDITOR));
      expect(res.status).toBe(200);
      expect(res.headers['content-disposition']).toBe(
        'attachment; filename="residency-evidence-component-default-payments-1.json"',
      );
      expect(res.body).toMatchObject({
        schema: 'https://residency.dev/evidence-bundle/v1',
        evidence: {
          id: evidenceId,
          sequence: 1,
          record: { entityRef: 'component:default/payments' },
        },
        exportedBy: AUDITOR,
      });
      expect(auditor.createEvent).toHaveBeenCalledWith(
        expect.objectContaining({
          eventId: 'evidence-download',
          severityLevel: 'medium',
          meta: { evidenceId },
        }),
      );
      expect(auditEvents.success).toHaveBeenCalledWith({
        meta: { entityRef: 'component:default/payments', sequence: 1 },
      });
    });

    it('answers 403, 404 and 400 for downloads as it should', async () => {
      expect(
        (
          await request(app)
            .get(`/evidence/${evidenceId}`)
            .set('Authorization', as(DEVELOPER))
        ).status,
      ).toBe(403);
      expect(
        (
          await request(app)
            .get(`/evidence/${evidenceId}`)
            .set('Authorization', as(OUTSIDER))
        ).status,
      ).toBe(404);
      expect(
        (
          await request(app)
            .get(`/evidence/${'0'.repeat(32)}`)
            .set('Authorization', as(OWNER))
        ).status,
      ).toBe(404);
      expect(
        (
          await request(app)
            .get('/evidence/..%2F..%2Fetc%2Fpasswd')
            .set('Authorization', as(OWNER))
        ).status,
      ).toBe(400);
      expect(
        (
          await request(app)
            .get(`/evidence/${'a'.repeat(31)}%00`)
            .set('Authorization', as(OWNER))
        ).status,
      ).toBe(400);
    });

    it('verifies the chain', async () => {
      const res = await request(app)
        .get('/entities/component/default/payments/evidence/verify')
        .set('Authorization', as(AUDITOR));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        entityRef: 'component:default/payments',
        ok: true,
        length: 1,
      });
      const dev = await request(app)
        .get('/entities/component/default/payments/evidence/verify')
        .set('Authorization', as(DEVELOPER));
      expect(dev.status).toBe(403);
      const outsider = await request(app)
        .get('/entities/component/default/payments/evidence/verify')
        .set('Authorization', as(OUTSIDER));
      expect(outsider.status).toBe(404);
    });
  });

  describe('tenants and mismatches', () => {
    it('lists tenants with boundary, registries, on-disk image stores, keys and counts for platform owners', async () => {
      const res = await request(app)
        .get('/tenants')
        .set('Authorization', as(OWNER));
      expect(res.status).toBe(200);
      expect(res.body.items).toEqual([
        expect.objectContaining({
          id: 'eu-public',
          boundary: { name: 'eusc', regions: ['eusc-de-east-1'] },
          registries: [
            {
              host: 'registry.eu',
              region: 'eusc-de-east-1',
              insideBoundary: true,
            },
            { host: 'registry.us', region: 'us-east-1', insideBoundary: false },
          ],
          // the on-disk image stores (residency.layouts) are listed too
          layouts: [
            {
              path: '/srv/images/eu',
              region: 'eusc-de-east-1',
              insideBoundary: true,
            },
            {
              path: '/srv/images/us',
              region: 'us-east-1',
              insideBoundary: false,
            },
          ],
          keys: [
            expect.objectContaining({ id: 'key-eu', insideBoundary: true }),
            expect.objectContaining({ id: 'key-us', insideBoundary: false }),
          ],
          counts: { compliant: 1, non_compliant: 1, unknown: 0, invalid: 0 },
        }),
      ]);
      expect(JSON.stringify(res.body)).not.toContain('BEGIN PUBLIC KEY');
      expect(
        (await request(app).get('/tenants').set('Authorization', as(DEVELOPER)))
          .status,
      ).toBe(403);
    });

    it('lists mismatches, filterable by tenant', async () => {
      const res = await request(app)
        .get('/mismatches?tenant=eu-public')
        .set('Authorization', as(OWNER));
      expect(res.status).toBe(200);
      expect(res.body.items).toEqual([
        expect.objectContaining({
          entityRef: 'component:default/ledger',
          kind: 'declared_region',
          value: 'us-east-1',
        }),
      ]);
      const none = await request(app)
        .get('/mismatches?tenant=other')
        .set('Authorization', as(OWNER));
      expect(none.body.items).toEqual([]);
      expect(
        (
          await request(app)
            .get('/mismatches')
            .set('Authorization', as(AUDITOR))
        ).status,
      ).toBe(403);
    });
  });

  describe('responses conform to openapi.yaml', () => {
    it.each([
      ['get', '/entities', '/entities', OWNER, 200],
      [
        'get',
        '/entities/{kind}/{namespace}/{name}/status',
        '/entities/component/default/payments/status',
        OWNER,
        200,
      ],
      [
        'post',
        '/entities/{kind}/{namespace}/{name}/refresh',
        '/entities/component/default/ledger/refresh',
        OWNER,
        200,
      ],
      [
        'get',
        '/entities/{kind}/{namespace}/{name}/evidence',
        '/entities/component/default/payments/evidence',
        OWNER,
        200,
      ],
      [
        'get',
        '/entities/{kind}/{namespace}/{name}/evidence/verify',
        '/entities/component/default/payments/evidence/verify',
        OWNER,
        200,
      ],
      ['get', '/evidence/{id}', 'EVIDENCE', OWNER, 200],
      ['get', '/tenants', '/tenants', OWNER, 200],
      ['get', '/mismatches', '/mismatches', OWNER, 200],
      [
        'get',
        '/entities/{kind}/{namespace}/{name}/status',
        '/entities/component/default/payments/status',
        OUTSIDER,
        404,
      ],
      ['get', '/tenants', '/tenants', DEVELOPER, 403],
      ['get', '/entities', '/entities?limit=x', OWNER, 400],
    ] as const)('%s %s as %s', async (method, specPath, url, user, status) => {
      const res = await request(app)
        [method](url === 'EVIDENCE' ? `/evidence/${evidenceId}` : url)
        .set('Authorization', as(user));
      expect(res.status).toBe(status);
      expect(
        specErrors({ method, path: specPath, status, body: res.body }),
      ).toEqual([]);
    });
  });
});
