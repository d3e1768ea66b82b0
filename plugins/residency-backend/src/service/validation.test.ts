import { mockErrorHandler, mockServices } from '@backstage/backend-test-utils';
import express from 'express';
import request from 'supertest';
import { createRouter } from './router';
import type { ResidencyService } from './ResidencyService';
import {
  entityRefOf,
  evidenceFileName,
  parseLimit,
  parseQuery,
} from './validation';

describe('validation', () => {
  // The validated router in front of a service that records what reached it.
  let app: express.Express;
  const reached: { entityRef?: string; q?: string }[] = [];
  beforeAll(async () => {
    const service = {
      getStatus: async ({ entityRef }: { entityRef: string }) => {
        reached.push({ entityRef });
        return {};
      },
      listEntities: async ({ q }: { q?: string }) => {
        reached.push({ q });
        return { items: [] };
      },
    } as unknown as ResidencyService;
    const router = await createRouter({
      httpAuth: mockServices.httpAuth(),
      auditor: mockServices.auditor.mock(),
      logger: mockServices.logger.mock(),
      service,
    });
    app = express().use(router).use(mockErrorHandler());
  });
  beforeEach(() => {
    reached.length = 0;
  });

  it('caps page sizes instead of serving unbounded pages', () => {
    expect(parseLimit('1000000', { fallback: 25, max: 100 })).toBe(100);
    expect(parseLimit(undefined, { fallback: 25, max: 100 })).toBe(25);
    expect(() => parseLimit('0', { fallback: 25, max: 100 })).toThrow(
      'positive',
    );
    expect(() => parseLimit('1e5', { fallback: 25, max: 100 })).toThrow(
      'positive',
    );
    expect(() => parseLimit('9999999999', { fallback: 25, max: 100 })).toThrow(
      'positive',
    );
  });

  it('lowercases entity refs and refuses traversal', async () => {
    expect(
      entityRefOf({ kind: 'Component', namespace: 'Default', name: 'Pay.v2' }),
    ).toBe('component:default/pay.v2');
    const ok = await request(app).get(
      '/entities/Component/Default/Pay.v2/status',
    );
    expect(ok.status).toBe(200);
    expect(reached).toEqual([{ entityRef: 'component:default/pay.v2' }]);

    for (const name of [
      '..',
      '.',
      'a/b',
      'a\u0000b',
      'a%2e',
      '-a',
      'a-',
      'x'.repeat(300),
    ]) {
      const res = await request(app).get(
        `/entities/component/default/${encodeURIComponent(name)}/status`,
      );
      expect({ name, status: res.status }).toEqual({ name, status: 400 });
      expect(res.body.error).toEqual(
        expect.objectContaining({ name: 'InputError' }),
      );
    }
    // An empty segment does not name an entity at all.
    const empty = await request(app).get('/entities/component/default//status');
    expect(empty.status).toBe(404);
    // A repeated segment is not a kind.
    const repeated = await request(app).get('/entities/a%2Cb/default/x/status');
    expect(repeated.body.error).toEqual(
      expect.objectContaining({ name: 'InputError' }),
    );
    expect(reached).toHaveLength(1);
  });

  it('refuses control characters in free text', async () => {
    expect(parseQuery('pay')).toBe('pay');
    expect(parseQuery('')).toBeUndefined();
    const ok = await request(app).get('/entities?q=pay');
    expect(ok.status).toBe(200);
    const res = await request(app).get('/entities?q=a%0Ab');
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual(
      expect.objectContaining({ name: 'InputError' }),
    );
    expect(reached).toEqual([{ q: 'pay' }]);
  });

  it('builds download names from safe characters only', () => {
    expect(
      evidenceFileName({
        kind: 'component',
        namespace: 'default',
        name: 'a"b',
        sequence: 3,
      }),
    ).toBe('residency-evidence-component-default-a_b-3.json');
  });
});
