import { TestDatabases } from '@backstage/backend-test-utils';
import type { Knex } from 'knex';
import { DatabaseResidencyStore } from '../DatabaseResidencyStore';
import { isSqlite, type DbContext } from '../tables';
import { admitRefresh, finishRefresh } from './refreshRequests';
import { registerConfigGeneration } from './configGenerations';
import { StatusCountCache } from './statuses';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

describe.each(databases.eachSupportedId())('operations on %p', databaseId => {
  let knex: Knex;
  let ctx: DbContext;
  beforeEach(async () => {
    knex = await databases.init(databaseId);
    await DatabaseResidencyStore.migrateUp(knex);
    ctx = { db: knex, sqlite: isSqlite(knex) };
  });

  const ask = (entityRef: string, holder: string, principal = 'user:a') =>
    admitRefresh(ctx, {
      entityRef,
      principal,
      holder,
      leaseSeconds: 60,
      limit: 3,
      windowSeconds: 60,
    });

  it('admits one on-demand refresh per entity at a time', async () => {
    expect(await ask('component:default/x', 'h1')).toEqual({ admitted: true });
    expect(await ask('component:default/x', 'h2', 'user:b')).toEqual({
      admitted: false,
      reason: 'in_flight',
      retryAfterSeconds: 10,
    });
    // Another entity is independent.
    expect(await ask('component:default/y', 'h3', 'user:b')).toEqual({
      admitted: true,
    });
    await finishRefresh(ctx, {
      entityRef: 'component:default/x',
      holder: 'h1',
    });
    expect(await ask('component:default/x', 'h4', 'user:b')).toEqual({
      admitted: true,
    });
  });

  it('takes over an in-flight claim whose replica died (lease expired)', async () => {
    expect(
      await admitRefresh(ctx, {
        entityRef: 'component:default/x',
        principal: 'user:a',
        holder: 'dead',
        leaseSeconds: -1,
        limit: 3,
        windowSeconds: 60,
      }),
    ).toEqual({ admitted: true });
    expect(await ask('component:default/x', 'alive')).toEqual({
      admitted: true,
    });
  });

  it('limits each principal to `limit` refreshes per window', async () => {
    for (let i = 0; i < 3; i++) {
      expect(await ask(`component:default/e${i}`, `h${i}`)).toEqual({
        admitted: true,
      });
    }
    expect(await ask('component:default/e9', 'h9')).toEqual({
      admitted: false,
      reason: 'rate_limited',
      retryAfterSeconds: 60,
    });
    // Someone else is not affected.
    expect(await ask('component:default/e9', 'h10', 'user:other')).toEqual({
      admitted: true,
    });
  });

  it('lets only the newest live configuration decide; a configuration nobody runs any more stops counting', async () => {
    const old = await registerConfigGeneration(ctx, {
      configHash: 'old',
      liveSeconds: 600,
    });
    expect(old.newest).toBe(true);
    const fresh = await registerConfigGeneration(ctx, {
      configHash: 'new',
      liveSeconds: 600,
    });
    expect(fresh).toEqual({ newest: true, newestHash: 'new' });
    expect(
      await registerConfigGeneration(ctx, {
        configHash: 'old',
        liveSeconds: 600,
      }),
    ).toEqual({ newest: false, newestHash: 'new' });

    // The new configuration was rolled back: no replica registered it lately.
    await knex('residency_config_generations')
      .where({ config_hash: 'new' })
      .update({ last_seen_at: new Date(Date.now() - 3600_000) });
    expect(
      await registerConfigGeneration(ctx, {
        configHash: 'old',
        liveSeconds: 600,
      }),
    ).toEqual({ newest: true, newestHash: 'old' });
  });
});

describe('StatusCountCache', () => {
  it('keeps a count for its lifetime, per filter, until cleared', () => {
    let t = 0;
    const cache = new StatusCountCache({ ttlMs: 1000, now: () => t });
    expect(cache.get('a')).toBeUndefined();
    cache.set('a', 5);
    cache.set('b', 7);
    t = 999;
    expect(cache.get('a')).toBe(5);
    expect(cache.get('b')).toBe(7);
    t = 1000;
    expect(cache.get('a')).toBeUndefined();
    cache.set('a', 6);
    cache.clear();
    expect(cache.get('a')).toBeUndefined();
  });

  it('first pages asking at once share one count; a count older than a clear() is not kept', async () => {
    const cache = new StatusCountCache({ ttlMs: 1000, now: () => 0 });
    let reads = 0;
    let answer!: (n: number) => void;
    const count = () => {
      reads++;
      return new Promise<number>(r => (answer = r));
    };
    const asked = [cache.shared('a', count), cache.shared('a', count)];
    expect(reads).toBe(1);
    answer(5);
    expect(await Promise.all(asked)).toEqual([5, 5]);
    expect(await cache.shared('a', count)).toBe(5);
    expect(reads).toBe(1);

    cache.clear();
    const before = cache.shared('a', count);
    cache.clear(); // a status write while the count is read
    answer(6);
    expect(await before).toBe(6);
    expect(cache.get('a')).toBeUndefined();
    expect(reads).toBe(2);

    const failing = cache.shared('b', () => Promise.reject(new Error('db')));
    await expect(failing).rejects.toThrow('db');
    expect(await cache.shared('b', async () => 7)).toBe(7);
  });
});
