/*
 * The entity list (catalog column, Services tab) carries each row's state with
 * exceptions: "resident by exception" only for a current not-resident decision the
 * tracker found waived and that still has an approved exception in its window;
 * never for a compliant, stale or lapsed one. On every database engine.
 */
import { TestDatabases, mockServices } from '@backstage/backend-test-utils';
import { createHash } from 'node:crypto';
import type { ResidencyException } from '@residency-dev/plugin-residency-common';
import { DIGEST_A, makeEvaluation, makeImage } from '../__testUtils__/fixtures';
import { createStoreOn } from '../__testUtils__/harness';
import type { DatabaseResidencyStore } from '../database/DatabaseResidencyStore';
import { EntityStateTracker } from './EntityStateTracker';
import { ExceptionStore } from './ExceptionStore';

jest.setTimeout(120_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

const WAIVED = 'component:default/payments';
const FAILING = 'component:default/ledger';
const FINE = 'component:default/docs';

describe.each(databases.eachSupportedId())('list state on %p', databaseId => {
  let store: DatabaseResidencyStore;
  let exceptions: ExceptionStore;
  let tracker: EntityStateTracker;
  let knex: import('knex').Knex;

  const record = async (
    entityRef: string,
    decision: 'compliant' | 'non_compliant',
  ) => {
    const images = [
      makeImage({
        digest: DIGEST_A,
        decision,
        ...(decision === 'non_compliant' ? { code: 'signature_missing' } : {}),
      }),
    ];
    const { status } = await store.recordEvaluation({
      entityRef,
      inputsHash: createHash('sha256')
        .update(`${entityRef}-${decision}`)
        .digest('hex'),
      ...makeEvaluation({
        entityRef,
        decision,
        images,
        ...(decision === 'non_compliant' ? { code: 'signature_missing' } : {}),
      }),
    });
    return tracker.onRecorded(status);
  };

  const approved = (
    entityRef: string,
    minutes: number,
  ): ResidencyException => ({
    id: `ex-${entityRef}`,
    entityRef,
    status: 'approved',
    reasonCodes: ['signature_missing'],
    digests: [DIGEST_A],
    justification: 'Signing service outage',
    reference: 'INC-4711',
    requestedBy: 'user:default/dana-dev',
    requestedAt: new Date(Date.now() - 60_000).toISOString(),
    decidedBy: 'user:default/pat-platform',
    decidedAt: new Date(Date.now() - 30_000).toISOString(),
    expiresAt: new Date(Date.now() + minutes * 60_000).toISOString(),
  });

  const states = async () =>
    Object.fromEntries(
      (await store.listStatuses({ limit: 50 })).items.map(i => [
        i.entityRef,
        i.state,
      ]),
    );

  beforeEach(async () => {
    const created = await createStoreOn(databases, databaseId);
    store = created.store;
    knex = created.knex;
    exceptions = new ExceptionStore(knex);
    tracker = new EntityStateTracker({
      store,
      exceptions,
      logger: mockServices.logger.mock(),
    });
  });

  it('reads resident by exception only while a waiver is in force', async () => {
    await exceptions.insert(approved(WAIVED, 30));
    await record(WAIVED, 'non_compliant');
    await record(FAILING, 'non_compliant');
    await record(FINE, 'compliant');
    expect(await states()).toEqual({
      [WAIVED]: 'resident_by_exception',
      [FAILING]: 'not_resident',
      [FINE]: 'resident',
    });
    const row = (await store.listStatuses({ limit: 50 })).items.find(
      i => i.entityRef === WAIVED,
    );
    // the decision itself is never rewritten
    expect(row?.decision).toBe('non_compliant');

    // Past its window and not yet marked expired by the scheduled pass: lapsed.
    await knex('residency_exceptions')
      .where({ id: `ex-${WAIVED}` })
      .update({ expires_at: new Date(Date.now() - 1000).toISOString() });
    expect((await states())[WAIVED]).toBe('not_resident');
  });

  it('never reads resident by exception for a stale status', async () => {
    await exceptions.insert(approved(WAIVED, 30));
    await record(WAIVED, 'non_compliant');
    expect((await states())[WAIVED]).toBe('resident_by_exception');
    await knex('residency_entity_status')
      .where({ entity_ref: WAIVED })
      .update({ stale: true });
    expect((await states())[WAIVED]).toBe('not_resident');
  });
});
