/*
 * The strict parser's fast path (JSON.parse plus one scan) must accept and reject
 * exactly what the hand-written parser does: duplicate keys (also when spelled with
 * escapes, nested, or after strings full of quotes and brackets), depth, numbers.
 */
import fc from 'fast-check';
import { parseStrictJson, StrictJsonError } from './json';

function problemOf(text: string): string | undefined {
  try {
    parseStrictJson(text);
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(StrictJsonError);
    return (e as StrictJsonError).problem;
  }
}

describe('parseStrictJson', () => {
  it('returns what JSON.parse returns for duplicate-free JSON (fast-check)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), value => {
        const text = JSON.stringify(value, null, Math.random() < 0.5 ? 0 : 2);
        expect(parseStrictJson(text)).toEqual(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });

  it('finds duplicate keys the scan must not miss', () => {
    expect(problemOf('{"a":1,"\\u0061":2}')).toBe('duplicate_key');
    expect(problemOf('{"x":[{"a":1},{"a":2}],"b":{"a":1,"a":1}}')).toBe(
      'duplicate_key',
    );
    expect(problemOf('{"k":"\\\\","k":1}')).toBe('duplicate_key');
    expect(problemOf('{"k":"a\\"}{,[","k2":{"z":[1,{"k":2}]},"k2":0}')).toBe(
      'duplicate_key',
    );
    // A value equal to a key is no duplicate; nor is a key repeated in another object.
    expect(problemOf('{"a":"a","b":["a","a"],"c":{"a":{"a":1}}}')).toBe(
      undefined,
    );
    expect(parseStrictJson('{"k":"a\\"}{,[","n":[{"k":1},{"k":2}]}')).toEqual({
      k: 'a"}{,[',
      n: [{ k: 1 }, { k: 2 }],
    });
  });

  it('finds duplicates in objects with many keys (before and after the scan switches to a set)', () => {
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    const obj = (ks: string[]) => `{${ks.map(k => `"${k}":1`).join(',')}}`;
    expect(problemOf(obj(keys))).toBe(undefined);
    for (const at of [1, 15, 16, 17, 39]) {
      // key k0 again at position `at`, and a late key repeated after the switch
      expect(
        problemOf(obj([...keys.slice(0, at), 'k0', ...keys.slice(at)])),
      ).toBe('duplicate_key');
      expect(
        problemOf(obj([...keys.slice(0, at), keys[at - 1], ...keys.slice(at)])),
      ).toBe('duplicate_key');
      expect(
        problemOf(
          `{"n":[${obj(keys)},${obj(keys)}],"o":${obj([
            ...keys.slice(0, at),
            'k0',
          ])}}`,
        ),
      ).toBe('duplicate_key');
    }
    expect(problemOf(`{"n":[${obj(keys)},${obj(keys)}]}`)).toBe(undefined);
  });

  it('keeps the limits and errors of the strict parser', () => {
    expect(problemOf('1e400')).toBe('syntax');
    expect(problemOf('[1e400]')).toBe('syntax');
    expect(problemOf('{"a":1,}')).toBe('syntax');
    expect(problemOf('[1]x')).toBe('syntax');
    expect(problemOf(`${'['.repeat(70)}${']'.repeat(70)}`)).toBe('too_deep');
    expect(parseStrictJson(`${'['.repeat(10)}${']'.repeat(10)}`)).toEqual([
      [[[[[[[[[]]]]]]]]],
    ]);
    expect(parseStrictJson('{"big":-1.5e300,"n":-0}')).toEqual({
      big: -1.5e300,
      n: -0,
    });
  });
});
