import {
  evidenceFileName,
  parseEntityPath,
  parseLimit,
  parseQuery,
} from './validation';

describe('validation', () => {
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

  it('lowercases entity refs and refuses traversal', () => {
    expect(
      parseEntityPath({
        kind: 'Component',
        namespace: 'Default',
        name: 'Pay.v2',
      }).entityRef,
    ).toBe('component:default/pay.v2');
    for (const name of [
      '..',
      '.',
      'a/b',
      'a\u0000b',
      'a%2e',
      '-a',
      'a-',
      'x'.repeat(300),
      '',
    ]) {
      expect(() =>
        parseEntityPath({ kind: 'component', namespace: 'default', name }),
      ).toThrow(expect.objectContaining({ name: 'InputError' }));
    }
    expect(() =>
      parseEntityPath({ kind: ['a', 'b'], namespace: 'default', name: 'x' }),
    ).toThrow(expect.objectContaining({ name: 'InputError' }));
  });

  it('refuses control characters in free text', () => {
    expect(parseQuery('pay')).toBe('pay');
    expect(() => parseQuery('a\nb')).toThrow(
      expect.objectContaining({ name: 'InputError' }),
    );
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
