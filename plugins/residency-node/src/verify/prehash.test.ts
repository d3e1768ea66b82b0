import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { PrehashUnsupportedError, verifyPrehashed } from './sigstore';

describe('verifyPrehashed', () => {
  const message = Buffer.from('the artifact');
  it.each([
    ['P-256', 'sha256'],
    ['P-384', 'sha384'],
    ['P-256', 'sha512'],
  ])(
    'ECDSA %s over %s: valid verifies, tampered does not',
    (namedCurve, alg) => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', {
        namedCurve,
      });
      const sig = sign(alg, message, privateKey);
      const digest = createHash(alg).update(message).digest();
      expect(verifyPrehashed(publicKey, alg, digest, sig)).toBe(true);
      const otherDigest = createHash(alg).update('other').digest();
      expect(verifyPrehashed(publicKey, alg, otherDigest, sig)).toBe(false);
      const other = generateKeyPairSync('ec', { namedCurve }).publicKey;
      expect(verifyPrehashed(other, alg, digest, sig)).toBe(false);
      const flipped = Buffer.from(sig);
      flipped[flipped.length - 1] ^= 1;
      expect(verifyPrehashed(publicKey, alg, digest, flipped)).toBe(false);
      expect(
        verifyPrehashed(publicKey, alg, digest, Buffer.from('garbage')),
      ).toBe(false);
    },
  );

  it('RSA PKCS#1 v1.5', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
    });
    const sig = sign('sha256', message, privateKey);
    const digest = createHash('sha256').update(message).digest();
    expect(verifyPrehashed(publicKey, 'sha256', digest, sig)).toBe(true);
    expect(
      verifyPrehashed(
        publicKey,
        'sha384',
        createHash('sha384').update(message).digest(),
        sig,
      ),
    ).toBe(false);
    expect(
      verifyPrehashed(
        publicKey,
        'sha256',
        createHash('sha256').update('x').digest(),
        sig,
      ),
    ).toBe(false);
  });

  it('Ed25519 cannot be checked from a digest', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    expect(() =>
      verifyPrehashed(publicKey, 'sha256', Buffer.alloc(32), Buffer.alloc(64)),
    ).toThrow(PrehashUnsupportedError);
  });
});
