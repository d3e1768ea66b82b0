import { safe, table } from './text';

describe('safe', () => {
  it('neutralises terminal escapes and line breaks from untrusted text', () => {
    expect(safe('ok\u001b[2J\rdone\nnext')).toBe(
      'ok\\u001b[2J\\u000ddone next',
    );
    expect(safe('a\u2028b')).toBe('a\\u2028b');
  });
  it('cuts long values and prints objects as JSON', () => {
    expect(safe('x'.repeat(10), 4)).toBe('xxxx…');
    expect(safe({ a: 1 })).toBe('{"a":1}');
    expect(safe(undefined)).toBe('undefined');
  });
  it('never throws', () => {
    expect(safe(10n)).toBe('(unprintable)');
  });
});

describe('table', () => {
  it('pads columns to the widest cell', () => {
    expect(table(['A', 'BB'], [['xxx', 'y']])).toBe('A    BB\nxxx  y');
  });
});
