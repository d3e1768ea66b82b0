/*
 * The whole life of an exception on every database engine, through the real
 * router, store and signer: request, self-approval refused, approval, decision
 * change, expiry re-decision (with the owners' alert), revocation.
 */
import {
  TestDatabases,
  mockCredentials,
  mockErrorHandler,
  mockServices,
} from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import express from 'express';
import request from 'supertest';
import { createHash, generateKeyPairSync } from 'node:crypto';
import {
  FileVsaSigner,
  checkException,
  verifyEvidenceBundle,
} from '@residency-dev/plugin-residency-node';
import { EVIDENCE_BUNDLE_SCHEMA } from '@residency-dev/plugin-residency-common';
import {
  DIGEST_A,
  DIGEST_B,
  makeEvaluation,
  makeImage,
} from '../__testUtils__/fixtures';
import {
  createStoreOn,
  makeEntity,
  visibilityCatalog,
} from '../__testUtils__/harness';
import { specErrors } from '../__testUtils__/openapi';
import { DatabaseResidencyStore } from '../database/DatabaseResidencyStore';
import { EntityStateTracker } from './EntityStateTracker';
import { ExceptionService } from './ExceptionService';
import { ExceptionStore } from './ExceptionStore';
import { ResidencyAlerts } from './ResidencyAlerts';
import { createRouter } from '../service/router';
import type { ResidencyService } from '../service/ResidencyService';
import { DEFAULT_EXCEPTION_MAX_DAYS } from './settings';

jest.setTimeout(120_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

const DEV = 'user:default/dev';
const PLATFORM = 'user:default/platform';
const DPO = 'user:default/dpo';
const ENTITY = 'component:default/payments';
const as = (user: string) => mockCredentials.user.header(user);
const DAY = 24 * 3600 * 1000;

/** dev may request (residency.refresh); platform and dpo may also approve. */
function permissions() {
  return mockServices.permissions.mock({
    authorize: jest.fn(async (requests: any[], options: any) => {
      const user = options?.credentials?.principal?.userEntityRef;
      const approver = user === PLATFORM || user === DPO;
      return requests.map(r => ({
        result:
          r.permission.name !== 'residency.exception.approve' || approver
            ? AuthorizeResult.ALLOW
            : AuthorizeResult.DENY,
      }));
    }) as any,
  });
}

describe.each(databases.eachSupportedId())('exceptions on %p', databaseId => {
  let app: express.Express;
  let store: DatabaseResidencyStore;
  let exceptions: ExceptionStore;
  let service: ExceptionService;
  let tracker: EntityStateTracker;
  let send: jest.Mock;
  let alerts: ResidencyAlerts;
  let knex: import('knex').Knex;
  let auditor: ReturnType<typeof mockServices.auditor.mock>;
  let clock: Date;
  let publicKey: import('node:crypto').KeyObject;

  const record = async (
    decision: 'compliant' | 'non_compliant',
    digest = DIGEST_A,
  ) => {
    const images = [
      makeImage({
        digest,
        decision,
        ...(decision === 'non_compliant' ? { code: 'signature_missing' } : {}),
      }),
    ];
    const { status } = await store.recordEvaluation({
      entityRef: ENTITY,
      inputsHash: createHash('sha256')
        .update(`${decision}-${digest}`)
        .digest('hex'),
      ...makeEvaluation({
        entityRef: ENTITY,
        decision,
        images,
        ...(decision === 'non_compliant' ? { code: 'signature_missing' } : {}),
      }),
    });
    return tracker.onRecorded(status);
  };

  beforeEach(async () => {
    const created = await createStoreOn(databases, databaseId);
    store = created.store;
    knex = created.knex;
    exceptions = new ExceptionStore(created.knex);
    clock = new Date();
    const now = () => clock;
    const logger = mockServices.logger.mock();
    send = jest.fn(async () => {});
    const settings = {
      maxDays: DEFAULT_EXCEPTION_MAX_DAYS,
      tenantMaxDays: { 'eu-public': 3 },
      recipients: { 'eu-public': ['group:default/dpo'] },
      baseUrl: 'https://portal.example',
    };
    alerts = new ResidencyAlerts({
      notifications: { send },
      store: exceptions,
      settings,
      logger,
    });
    tracker = new EntityStateTracker({
      store,
      exceptions,
      alerts,
      logger,
      now,
    });
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    publicKey = keys.publicKey;
    service = new ExceptionService({
      exceptions,
      store,
      tracker,
      catalog: visibilityCatalog([
        makeEntity('payments', { images: `registry.eu/pay@${DIGEST_A}` }),
      ]),
      permissions: permissions(),
      settings,
      signer: FileVsaSigner.fromPem(
        keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        { keyId: 'portal-key', region: 'eusc-de-east-1' },
      ),
      logger,
      now,
    });
    auditor = mockServices.auditor.mock();
    app = express();
    app.use(
      await createRouter({
        httpAuth: mockServices.httpAuth(),
        auditor,
        logger,
        service: {} as ResidencyService,
        exceptions: { service, tracker, store },
      }),
    );
    app.use(mockErrorHandler());
  });

  const ask = (user: string, body: Record<string, unknown> = {}) =>
    request(app)
      .post('/entities/component/default/payments/exceptions')
      .set('Authorization', as(user))
      .send({
        reasonCodes: ['signature_missing'],
        digests: [DIGEST_A],
        justification: 'Signing service outage, ticket open',
        reference: 'INC-4711',
        ...body,
      });
  const act = (user: string, id: string, action: string) =>
    request(app)
      .post(`/exceptions/${id}/${action}`)
      .set('Authorization', as(user))
      .send({});
  const state = async () =>
    (
      await request(app)
        .get('/entities/component/default/payments/exceptions')
        .set('Authorization', as(DEV))
    ).body;

  it('reads the approved exceptions only for a decision they could waive', async () => {
    const list = jest.spyOn(exceptions, 'list');
    expect((await record('compliant'))?.state).toBe('resident');
    expect(list).not.toHaveBeenCalled();
    expect((await record('non_compliant'))?.state).toBe('not_resident');
    expect(list).toHaveBeenCalledTimes(1);
    list.mockRestore();
  });

  it('takes the recorded state read with a confirmation instead of reading it again', async () => {
    await record('compliant');
    const { status } = await store.recordEvaluation({
      entityRef: ENTITY,
      inputsHash: 'again',
      ...makeEvaluation({
        entityRef: ENTITY,
        images: [makeImage({ digest: DIGEST_A, decision: 'compliant' })],
      }),
    });
    const recordState = jest.spyOn(exceptions, 'recordState');
    // The recorded state is the decision's own: nothing read or written.
    expect(
      await tracker.onRecorded(status, {
        entityState: { state: 'resident', transition: 0 },
      }),
    ).toMatchObject({ changed: false, state: 'resident', transition: 0 });
    expect(recordState).not.toHaveBeenCalled();
    // A recorded state that differs (or none) goes through the store as before.
    await knex('residency_entity_state')
      .where({ entity_ref: ENTITY })
      .update({ state: 'not_resident' });
    expect(
      await tracker.onRecorded(status, {
        entityState: { state: 'not_resident', transition: 0 },
      }),
    ).toMatchObject({
      changed: true,
      previous: 'not_resident',
      state: 'resident',
    });
    expect(
      await tracker.onRecorded(status, { entityState: null }),
    ).toMatchObject({ changed: false, state: 'resident' });
    expect(recordState).toHaveBeenCalledTimes(2);
    recordState.mockRestore();
  });

  it('lives: request, self-approval refused, approval, expiry, revocation', async () => {
    expect((await record('compliant'))?.state).toBe('resident');
    // Worse: resident -> not resident, owners (and the tenant's DPO group) told once.
    const worse = await record('non_compliant');
    expect(worse).toMatchObject({ changed: true, state: 'not_resident' });
    expect(send).toHaveBeenCalledTimes(1);
    expect(send.mock.calls[0][0]).toMatchObject({
      recipients: { type: 'entity', entityRef: [ENTITY, 'group:default/dpo'] },
      payload: {
        link: 'https://portal.example/catalog/default/component/payments/residency',
        severity: 'high',
      },
    });
    expect(send.mock.calls[0][0].payload.description).toContain(
      'from resident to not resident',
    );

    // Request: default window is the tenant's maximum (3 days, not 7).
    const asked = await ask(PLATFORM);
    expect(asked.status).toBe(201);
    expect(
      specErrors({
        method: 'post',
        path: '/entities/{kind}/{namespace}/{name}/exceptions',
        status: 201,
        body: asked.body,
      }),
    ).toEqual([]);
    expect(Date.parse(asked.body.expiresAt) - clock.getTime()).toBe(3 * DAY);
    const id = asked.body.id;

    // The requester may hold the permission, and is still refused.
    const self = await act(PLATFORM, id, 'approve');
    expect(self.status).toBe(403);
    expect(self.body.error.message).toMatch(/requester cannot decide/);
    // Without the permission: refused too.
    expect((await act(DEV, id, 'approve')).status).toBe(403);
    expect((await state()).verdict.state).toBe('not_resident');

    const approved = await act(DPO, id, 'approve');
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'approved', decidedBy: DPO });
    // The signed statement verifies with the portal key and says what is waived.
    const check = checkException({
      envelope: approved.body.envelope,
      keys: [publicKey],
      now: clock,
      digest: DIGEST_A,
      reasonCodes: ['signature_missing'],
    });
    expect(check).toMatchObject({
      ok: true,
      predicate: { requester: PLATFORM, approver: DPO, entity: ENTITY },
    });
    // A second approval loses the compare-and-set.
    expect((await act(DPO, id, 'approve')).status).toBe(409);

    const byException = await state();
    expect(byException.verdict).toMatchObject({
      state: 'resident_by_exception',
      waived: [
        {
          exceptionId: id,
          digest: DIGEST_A,
          reasonCodes: ['signature_missing'],
          requestedBy: PLATFORM,
          approvedBy: DPO,
        },
      ],
    });
    expect(
      specErrors({
        method: 'get',
        path: '/entities/{kind}/{namespace}/{name}/exceptions',
        status: 200,
        body: byException,
      }),
    ).toEqual([]);
    expect(send).toHaveBeenCalledTimes(1); // better is not alerted

    // 47 hours before expiry: requester and approver are told, once.
    clock = new Date(Date.parse(approved.body.expiresAt) - 47 * 3600 * 1000);
    const soon = {
      onExpiringSoon: async (e: any) => {
        await alerts.expiringSoon(e);
      },
    };
    expect(await service.runOnce(soon)).toEqual([]);
    await service.runOnce(soon); // a second pass (or replica) sends nothing new
    expect(send).toHaveBeenCalledTimes(2);
    expect(send.mock.calls[1][0].recipients.entityRef).toEqual([PLATFORM, DPO]);

    // Expiry: the scheduled pass expires it and re-decides at once; owners told.
    clock = new Date(Date.parse(approved.body.expiresAt) + 1000);
    const expired = await service.runOnce();
    expect(expired.map(e => e.id)).toEqual([id]);
    expect((await service.runOnce()).length).toBe(0); // only once
    expect((await state()).verdict.state).toBe('not_resident');
    expect(send).toHaveBeenCalledTimes(3);
    expect(send.mock.calls[2][0].payload.title).toContain('not resident');
    expect(send.mock.calls[2][0].payload.description).toContain(
      'from resident by exception to not resident',
    );

    // Revocation of a new approved exception re-decides at once.
    const second = (await ask(DEV)).body.id;
    expect((await act(PLATFORM, second, 'approve')).status).toBe(200);
    expect((await state()).verdict.state).toBe('resident_by_exception');
    expect((await act(DPO, second, 'revoke')).body.status).toBe('revoked');
    expect((await state()).verdict.state).toBe('not_resident');

    // A new digest is not covered: the exception waives named digests only.
    const third = (await ask(DEV)).body.id;
    expect((await act(DPO, third, 'approve')).status).toBe(200);
    expect((await state()).verdict.state).toBe('resident_by_exception');
    expect((await record('non_compliant', DIGEST_B))?.state).toBe(
      'not_resident',
    );

    // Every step is a record of the entity's evidence chain, between its
    // decisions, and was audited.
    const page = await store.listEvidence({ entityRef: ENTITY, limit: 100 });
    const chain = [...page.items].reverse();
    expect(chain.map(i => i.kind ?? 'decision')).toEqual([
      'decision',
      'decision',
      'exception.requested',
      'exception.approved',
      'exception.applied',
      'exception.expired',
      'exception.requested',
      'exception.approved',
      'exception.applied',
      'exception.revoked',
      'exception.requested',
      'exception.approved',
      'exception.applied',
      'decision',
    ]);
    // Event rows name who acted; decision rows name no one.
    expect(chain.map(i => i.actor ?? '-')).toEqual([
      '-',
      '-',
      PLATFORM,
      DPO,
      'system',
      'system',
      DEV,
      PLATFORM,
      'system',
      DPO,
      DEV,
      DPO,
      'system',
      '-',
    ]);
    expect(await store.verifyChain({ entityRef: ENTITY })).toEqual({
      entityRef: ENTITY,
      ok: true,
      length: 14,
    });
    // The compliance history counts decisions only.
    expect((await store.listDecisionLog()).length).toBe(3);
    // The approval and the resident-by-exception record download as bundles
    // that verify offline against the portal's key, and not against another.
    const bundleOf = async (sequence: number) => {
      const stored = await store.getEvidence({ id: chain[sequence - 1].id });
      return {
        schema: EVIDENCE_BUNDLE_SCHEMA,
        evidence: stored!.evidence,
        exportedAt: new Date().toISOString(),
      };
    };
    const approval = await bundleOf(4);
    expect(approval.evidence.record).toMatchObject({
      kind: 'exception.approved',
      actor: DPO,
      exception: { id, requestedBy: PLATFORM },
      statement: { envelope: approved.body.envelope },
    });
    const applied = await bundleOf(5);
    expect(applied.evidence.record).toMatchObject({
      kind: 'exception.applied',
      verdict: { state: 'resident_by_exception' },
      statements: [{ envelope: approved.body.envelope }],
    });
    for (const b of [approval, applied, await bundleOf(6)]) {
      expect(
        verifyEvidenceBundle(b, { exceptionKeys: [publicKey] }).problems,
      ).toEqual([]);
      expect(verifyEvidenceBundle(b).problems).toEqual([]);
    }
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const codes = (b: unknown) =>
      verifyEvidenceBundle(b, { exceptionKeys: [other] }).problems.map(
        p => p.code,
      );
    expect(codes(approval)).toEqual(['exception_signature_invalid']);
    // The waiver then has no valid statement behind it either.
    expect(codes(applied)).toEqual([
      'exception_signature_invalid',
      'exception_not_covered',
    ]);
    const ids = auditor.createEvent.mock.calls.map((c: any[]) => c[0].eventId);
    expect(ids).toEqual(
      expect.arrayContaining([
        'exception-request',
        'exception-approve',
        'exception-revoke',
      ]),
    );
  });

  it('records exception.applied when another exception takes over, once per change', async () => {
    await record('non_compliant');
    const applied = async () => {
      const page = await store.listEvidence({ entityRef: ENTITY, limit: 100 });
      const events = [...page.items]
        .reverse()
        .filter(i => i.kind === 'exception.applied');
      return Promise.all(
        events.map(async i => {
          const stored = await store.getEvidence({ id: i.id });
          return {
            schema: EVIDENCE_BUNDLE_SCHEMA,
            evidence: stored!.evidence,
            exportedAt: new Date().toISOString(),
          };
        }),
      );
    };
    const waivedBy = (b: any) =>
      b.evidence.record.verdict.waived.map((w: any) => w.exceptionId);
    const statementsOf = (b: any) =>
      b.evidence.record.statements.map((s: any) => s.envelope);

    const first = (await ask(PLATFORM)).body.id;
    const a = await act(DPO, first, 'approve');
    expect(a.status).toBe(200);
    expect((await applied()).map(waivedBy)).toEqual([[first]]);

    // An unchanged check, a re-decision and the exception pass add nothing.
    await record('non_compliant');
    await tracker.redecide(ENTITY);
    await service.runOnce();
    expect(await applied()).toHaveLength(1);

    // A second exception, approved later, is the one the verdict now relies on
    // (the newest covering exception waives): its signed statement is recorded.
    clock = new Date(clock.getTime() + 60_000);
    const second = (await ask(DEV)).body.id;
    const b = await act(PLATFORM, second, 'approve');
    expect(b.status).toBe(200);
    expect(
      (await state()).verdict.waived.map((w: any) => w.exceptionId),
    ).toEqual([second]);
    let chain = await applied();
    expect(chain.map(waivedBy)).toEqual([[first], [second]]);
    expect(statementsOf(chain[1])).toEqual([b.body.envelope]);
    await tracker.redecide(ENTITY);
    expect(await applied()).toHaveLength(2);

    // The applying one is revoked: the first takes over again, and says so.
    expect((await act(DPO, second, 'revoke')).status).toBe(200);
    expect((await state()).verdict.state).toBe('resident_by_exception');
    chain = await applied();
    expect(chain.map(waivedBy)).toEqual([[first], [second], [first]]);
    expect(statementsOf(chain[2])).toEqual([a.body.envelope]);

    // A third one approved, then the first lapses: the third replaces it.
    clock = new Date(clock.getTime() + 60_000);
    const third = (await ask(DEV)).body.id;
    expect((await act(DPO, third, 'approve')).status).toBe(200);
    await knex('residency_exceptions')
      .where({ id: first })
      .update({ expires_at: new Date(clock.getTime() + 1000).toISOString() });
    clock = new Date(clock.getTime() + 2000);
    expect((await service.runOnce()).map(e => e.id)).toEqual([first]);
    chain = await applied();
    expect(chain.map(waivedBy)).toEqual([[first], [second], [first], [third]]);
    await service.runOnce();
    await record('non_compliant');
    expect(await applied()).toHaveLength(4);

    // Every record verifies offline against the portal's key, in an intact chain.
    for (const bundle of chain) {
      expect(
        verifyEvidenceBundle(bundle, { exceptionKeys: [publicKey] }).problems,
      ).toEqual([]);
    }
    expect(await store.verifyChain({ entityRef: ENTITY })).toMatchObject({
      ok: true,
    });
  });

  it('counts resident by exception apart from not resident (state filter of the list)', async () => {
    const count = async (
      filter: Omit<
        Parameters<DatabaseResidencyStore['listStatuses']>[0],
        'limit'
      >,
    ) => {
      const page = await store.listStatuses({ ...filter, limit: 10 });
      // the page's rows agree with the count and with their own state
      expect(page.items).toHaveLength(page.totalCount!);
      expect(
        page.items.filter(i => filter.state && i.state !== filter.state),
      ).toEqual([]);
      return page.totalCount;
    };
    // the tenants' counts (GET /tenants) use the same rule
    const perTenant = async () =>
      Object.values(await store.countResidentByExceptionByTenant()).reduce(
        (a, b) => a + b,
        0,
      );
    await record('non_compliant');
    expect(await count({ state: 'not_resident' })).toBe(1);
    expect(await count({ state: 'resident_by_exception' })).toBe(0);

    const id = (await ask(DEV)).body.id;
    expect((await act(DPO, id, 'approve')).status).toBe(200);
    expect(await count({ state: 'resident_by_exception' })).toBe(1);
    expect(await perTenant()).toBe(1);
    expect(await count({ state: 'not_resident' })).toBe(0);
    // the decision itself is unchanged; both filters combine
    expect(await count({ decision: 'non_compliant' })).toBe(1);
    expect(
      await count({ decision: 'non_compliant', state: 'not_resident' }),
    ).toBe(0);
    expect(await count({ state: 'resident' })).toBe(0);
    expect(await count({ state: 'unknown' })).toBe(0);

    // Past its window, before the exception pass marks it expired: not resident.
    await knex('residency_exceptions')
      .where({ id })
      .update({ expires_at: new Date(Date.now() - 1000).toISOString() });
    expect(await count({ state: 'resident_by_exception' })).toBe(0);
    expect(await perTenant()).toBe(0);
    expect(await count({ state: 'not_resident' })).toBe(1);
    await knex('residency_exceptions')
      .where({ id })
      .update({ expires_at: new Date(Date.now() + DAY).toISOString() });
    expect(await count({ state: 'resident_by_exception' })).toBe(1);

    // Revoked: not resident again.
    expect((await act(DPO, id, 'revoke')).status).toBe(200);
    expect(await count({ state: 'resident_by_exception' })).toBe(0);
    expect(await count({ state: 'not_resident' })).toBe(1);

    await record('compliant');
    expect(await count({ state: 'resident' })).toBe(1);
    expect(await count({ state: 'not_resident' })).toBe(0);
  });

  it('refuses requests that waive everything, I/O failures, or too long a window', async () => {
    await record('non_compliant');
    expect((await ask(DEV, { reasonCodes: [] })).status).toBe(400);
    expect((await ask(DEV, { reasonCodes: ['*'] })).status).toBe(400);
    expect(
      (await ask(DEV, { reasonCodes: ['registry_unreachable'] })).status,
    ).toBe(400);
    expect((await ask(DEV, { digests: [DIGEST_B] })).status).toBe(400);
    expect(
      (
        await ask(DEV, {
          expiresAt: new Date(clock.getTime() + 4 * DAY).toISOString(),
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await ask(DEV, {
          expiresAt: new Date(clock.getTime() - 1000).toISOString(),
        })
      ).status,
    ).toBe(400);
    expect((await ask(DEV, { justification: '' })).status).toBe(400);
    expect(await exceptions.list({ entityRef: ENTITY })).toEqual([]);
  });

  it('the validated router refuses what the spec does not allow, before any handler', async () => {
    await record('non_compliant');
    const bad = [
      await request(app)
        .post('/exceptions/not-an-id/approve')
        .set('Authorization', as(DPO))
        .send({}),
      await request(app)
        .post('/entities/compo%00nent/default/payments/exceptions')
        .set('Authorization', as(DEV))
        .send({}),
      await request(app)
        .get('/entities/component/default/..%2fother/exceptions')
        .set('Authorization', as(DEV)),
      await ask(DEV, { digests: ['sha256:ABC'] }),
      await ask(DEV, { expiresAt: 'next tuesday' }),
      await request(app)
        .post(`/exceptions/${'0'.repeat(36)}/reject`)
        .set('Authorization', as(DPO))
        .send({ comment: 'x'.repeat(2001) }),
    ];
    for (const res of bad) {
      expect({ status: res.status, name: res.body.error?.name }).toEqual({
        status: 400,
        name: 'InputError',
      });
    }
    // A justification of 4000 characters fits the exception routes' body limit.
    expect((await ask(DEV, { justification: 'j'.repeat(4000) })).status).toBe(
      201,
    );
    expect(auditor.createEvent).toHaveBeenCalledTimes(1);
  });

  it('a tampered exception event breaks the evidence chain', async () => {
    await record('non_compliant');
    const id = (await ask(DEV)).body.id;
    expect((await act(DPO, id, 'reject')).body.status).toBe('rejected');
    expect((await act(DPO, id, 'approve')).status).toBe(409);
    expect(await store.verifyChain({ entityRef: ENTITY })).toMatchObject({
      ok: true,
      length: 3,
    });
    const row = await knex('residency_evidence')
      .where({ entity_ref: ENTITY, sequence: 2 })
      .first();
    expect(row.kind).toBe('exception.requested');
    const rec = JSON.parse(row.record);
    await knex('residency_evidence')
      .where({ entity_ref: ENTITY, sequence: 2 })
      .update({
        record: JSON.stringify({
          ...rec,
          exception: { ...rec.exception, reasonCodes: ['key_untrusted'] },
        }),
      });
    expect(await store.verifyChain({ entityRef: ENTITY })).toMatchObject({
      ok: false,
      length: 3,
      brokenAt: { sequence: 2 },
    });
  });
});
