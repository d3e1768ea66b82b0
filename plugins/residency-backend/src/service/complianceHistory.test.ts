import {
  TestDatabases,
  mockCredentials,
  mockErrorHandler,
  mockServices,
} from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import express from 'express';
import request from 'supertest';
import { DatabaseResidencyStore } from '../database/DatabaseResidencyStore';
import { createEvaluator } from '../__testUtils__/harness';
import { AuthorizedResidencyService } from './AuthorizedResidencyService';
import { aggregateComplianceHistory } from './complianceHistory';
import { DefaultResidencyService } from './DefaultResidencyService';
import { createRouter } from './router';

const NOW = new Date('2026-11-20T12:00:00Z');

describe('aggregateComplianceHistory', () => {
  it('counts each entity by its latest decision at the end of each day', () => {
    const days = aggregateComplianceHistory(
      [
        {
          entity_ref: 'a',
          decision: 'non_compliant',
          created_at: '2026-11-18 08:00:00',
        },
        {
          entity_ref: 'a',
          decision: 'compliant',
          created_at: '2026-11-19T09:00:00Z',
        },
        {
          entity_ref: 'b',
          decision: 'unknown',
          created_at: new Date('2026-11-19T23:59:00Z'),
        },
        {
          entity_ref: 'c',
          decision: 'invalid',
          created_at: '2026-11-20T01:00:00Z',
        },
      ],
      { days: 3, now: NOW },
    );
    expect(days).toEqual([
      {
        day: '2026-11-18',
        resident: 0,
        notResident: 1,
        unknown: 0,
        unchecked: 2,
      },
      {
        day: '2026-11-19',
        resident: 1,
        notResident: 0,
        unknown: 1,
        unchecked: 1,
      },
      {
        day: '2026-11-20',
        resident: 1,
        notResident: 1,
        unknown: 1,
        unchecked: 0,
      },
    ]);
  });
});

describe('GET /compliance/history', () => {
  const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

  it.each(databases.eachSupportedId())(
    'aggregates the evidence log in one request, %p',
    async databaseId => {
      const knex = await databases.init(databaseId);
      const database = mockServices.database.mock({
        getClient: async () => knex,
      });
      const store = await DatabaseResidencyStore.create({ database });
      const row = (
        entity: string,
        seq: number,
        decision: string,
        at: string,
      ) => ({
        id: `${entity}-${seq}`,
        entity_ref: entity,
        sequence: seq,
        previous_hash: null,
        record_hash: `${seq}`.padStart(64, '0'),
        decision,
        reason_codes: '[]',
        checkpoint: false,
        record: '{}',
        created_at: new Date(at),
      });
      await knex('residency_evidence').insert([
        row('component:default/a', 1, 'non_compliant', '2026-11-19T08:00:00Z'),
        row('component:default/a', 2, 'compliant', '2026-11-20T08:00:00Z'),
        row('component:default/b', 1, 'unknown', '2026-11-20T09:00:00Z'),
      ]);

      const permissions = mockServices.permissions.mock({
        authorize: async () => [{ result: AuthorizeResult.ALLOW }],
      });
      const catalog = catalogServiceMock();
      const service = new AuthorizedResidencyService({
        inner: DefaultResidencyService.create({
          store,
          evaluator: createEvaluator(store).evaluator,
          catalog,
          auth: mockServices.auth(),
          now: () => NOW,
        }),
        catalog,
        permissions,
      });
      const app = express()
        .use(
          await createRouter({
            httpAuth: mockServices.httpAuth({
              defaultCredentials: mockCredentials.none(),
            }),
            auditor: mockServices.auditor.mock(),
            logger: mockServices.logger.mock(),
            service,
          }),
        )
        .use(mockErrorHandler());

      const res = await request(app)
        .get('/compliance/history?days=2')
        .set('Authorization', mockCredentials.user.header());
      expect(res.status).toBe(200);
      expect(res.body.days).toEqual([
        {
          day: '2026-11-19',
          resident: 0,
          notResident: 1,
          unknown: 0,
          unchecked: 1,
        },
        {
          day: '2026-11-20',
          resident: 1,
          notResident: 0,
          unknown: 1,
          unchecked: 0,
        },
      ]);
      expect(permissions.authorize).toHaveBeenCalledTimes(1);

      expect((await request(app).get('/compliance/history')).status).toBe(401);
      expect(
        (
          await request(app)
            .get('/compliance/history?days=0')
            .set('Authorization', mockCredentials.user.header())
        ).status,
      ).toBe(400);
      permissions.authorize.mockResolvedValue([
        { result: AuthorizeResult.DENY },
      ]);
      expect(
        (
          await request(app)
            .get('/compliance/history')
            .set('Authorization', mockCredentials.user.header())
        ).status,
      ).toBe(403);
    },
  );
});
