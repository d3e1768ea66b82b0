/*
 * Exception events and decisions share one evidence chain per entity: two
 * replicas (two connections) appending both at once never fork or break it.
 */
import { TestDatabases, mockServices } from '@backstage/backend-test-utils';
import knexFactory, { type Knex } from 'knex';
import { createHash } from 'node:crypto';
import { buildExceptionEventRecord } from '@residency-dev/plugin-residency-node';
import { makeEvaluation, makeImage, DIGEST_A } from '../__testUtils__/fixtures';
import { createStoreOn } from '../__testUtils__/harness';
import { DatabaseResidencyStore } from './DatabaseResidencyStore';

jest.setTimeout(120_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });
const ENTITY = 'component:default/payments';

describe.each(databases.eachSupportedId())(
  'exception events in the evidence chain on %p',
  databaseId => {
    let first: Knex;
    let second: Knex;
    let a: DatabaseResidencyStore;
    let b: DatabaseResidencyStore;

    beforeEach(async () => {
      const created = await createStoreOn(databases, databaseId);
      first = created.knex;
      a = created.store;
      second = String(first.client.config.client).includes('sqlite')
        ? first
        : knexFactory({
            client: first.client.config.client,
            connection: first.client.config.connection,
          });
      b = await DatabaseResidencyStore.create({
        database: mockServices.database({
          knex: second,
          migrations: { skip: true },
        }),
      });
    });
    afterEach(async () => {
      if (second !== first) await second.destroy();
    });

    const event = (i: number) =>
      buildExceptionEventRecord({
        kind: 'exception.requested',
        entityRef: ENTITY,
        actor: 'user:default/dev',
        at: new Date(Date.UTC(2026, 11, 2, 12, 0, i)).toISOString(),
        decisionEvidenceId: null,
        exception: {
          id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
          entityRef: ENTITY,
          status: 'requested',
          reasonCodes: ['signature_missing'],
          digests: [DIGEST_A],
          justification: 'outage',
          reference: `INC-${i}`,
          requestedBy: 'user:default/dev',
          requestedAt: '2026-12-02T12:00:00.000Z',
          expiresAt: '2026-12-05T12:00:00.000Z',
        },
      });
    const decide = (store: DatabaseResidencyStore, i: number) => {
      const decision = i % 2 ? 'compliant' : 'non_compliant';
      const code =
        decision === 'compliant' ? {} : { code: 'signature_missing' as const };
      return store.recordEvaluation({
        entityRef: ENTITY,
        inputsHash: createHash('sha256').update(`d${i}`).digest('hex'),
        ...makeEvaluation({
          entityRef: ENTITY,
          decision,
          images: [
            makeImage({
              decision,
              digest: `sha256:${String(i).repeat(64)}`,
              ...code,
            }),
          ],
          ...code,
        }),
      });
    };

    it('concurrent events and decisions from two replicas keep one unbroken chain', async () => {
      await decide(a, 0);
      await Promise.all([
        ...[1, 2, 3, 4, 5, 6].map(i =>
          (i % 2 ? a : b).appendExceptionEvent({
            record: event(i),
            decision: 'non_compliant',
            reasonCodes: ['signature_missing'],
          }),
        ),
        decide(b, 1),
        decide(a, 2),
      ]);
      const chain = await a.verifyChain({ entityRef: ENTITY });
      expect(chain).toEqual({ entityRef: ENTITY, ok: true, length: 9 });
      const page = await b.listEvidence({ entityRef: ENTITY, limit: 50 });
      expect(
        page.items.filter(i => i.kind === 'exception.requested'),
      ).toHaveLength(6);
      expect(page.items.map(i => i.sequence)).toEqual([
        9, 8, 7, 6, 5, 4, 3, 2, 1,
      ]);
      // The entity's status still points at a decision record.
      const status = await a.getStatus({ entityRef: ENTITY });
      const stored = await a.getEvidence({ id: status!.evidenceId! });
      expect(stored!.evidence.record.schema).toBe(
        'https://residency.dev/evidence/v1',
      );
    });
  },
);
