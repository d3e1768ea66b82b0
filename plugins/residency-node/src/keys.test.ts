/*
 * decodeBase64 reads signatures and DSSE payloads: both base64 alphabets, padding
 * optional, anything else refused (undefined), never a partial decoding.
 */
import { randomBytes } from 'node:crypto';
import { decodeBase64 } from './keys';

describe('decodeBase64', () => {
  it('reads the standard and the URL-safe alphabet alike, with or without padding', () => {
    for (let n = 1; n < 40; n++) {
      const bytes = randomBytes(n);
      const std = bytes.toString('base64');
      const url = bytes.toString('base64url');
      expect(decodeBase64(std, 64)).toEqual(bytes);
      expect(decodeBase64(url, 64)).toEqual(bytes);
      expect(decodeBase64(std.replace(/=+$/, ''), 64)).toEqual(bytes);
      expect(decodeBase64(` ${std}\n`, 64)).toEqual(bytes);
    }
  });

  it('refuses other characters, a lone trailing sextet, too much padding and oversize input', () => {
    expect(decodeBase64('ab$d', 64)).toBeUndefined();
    expect(decodeBase64('ab d', 64)).toBeUndefined();
    expect(decodeBase64('abcde', 64)).toBeUndefined();
    expect(decodeBase64('abcde=', 64)).toBeUndefined();
    expect(decodeBase64('ab===', 64)).toBeUndefined();
    expect(decodeBase64('a=b=', 64)).toBeUndefined();
    expect(decodeBase64('', 64)).toBeUndefined();
    expect(decodeBase64(42, 64)).toBeUndefined();
    expect(decodeBase64('A'.repeat(200), 64)).toBeUndefined();
    expect(decodeBase64('AAAA', 64)).toEqual(Buffer.alloc(3));
  });
});
