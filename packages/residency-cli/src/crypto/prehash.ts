/*
 * Verifies a signature over a digest the caller computed (a "prehashed" signature),
 * for `verify-bundle --digest` on message-signature bundles, where only the artifact's
 * digest is at hand. Node's crypto always hashes its input, so ECDSA is verified here
 * with the textbook algorithm (SEC 1, section 4.1.4) on BigInt, and RSA PKCS#1 v1.5 by
 * recovering and comparing the DigestInfo. Public inputs only: no secret-dependent timing.
 */
import {
  constants,
  createECDH,
  publicDecrypt,
  type KeyObject,
} from 'node:crypto';

interface Curve {
  p: bigint;
  a: bigint;
  n: bigint;
  gx: bigint;
  gy: bigint;
  bits: number;
}

const CURVES: Record<string, Curve> = {
  prime256v1: curve(
    'ffffffff00000001000000000000000000000000ffffffffffffffffffffffff',
    'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551',
    'prime256v1',
    256,
  ),
  secp384r1: curve(
    'fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff',
    'ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973',
    'secp384r1',
    384,
  ),
};

/** The generator is read from OpenSSL (public key of the private scalar 1). */
function curve(pHex: string, nHex: string, name: string, bits: number): Curve {
  const ecdh = createECDH(name);
  ecdh.setPrivateKey(Buffer.from([1]));
  const g = ecdh.getPublicKey(); // 04 || X || Y
  const len = (g.length - 1) / 2;
  const p = BigInt(`0x${pHex}`);
  return {
    p,
    a: p - 3n,
    n: BigInt(`0x${nHex}`),
    gx: BigInt(`0x${g.subarray(1, 1 + len).toString('hex')}`),
    gy: BigInt(`0x${g.subarray(1 + len).toString('hex')}`),
    bits,
  };
}

type Point = { x: bigint; y: bigint } | null;

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

function inverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [mod(a, m), m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) throw new Error('not invertible');
  return mod(oldS, m);
}

function add(c: Curve, P: Point, Q: Point): Point {
  if (!P) return Q;
  if (!Q) return P;
  if (P.x === Q.x) {
    if (mod(P.y + Q.y, c.p) === 0n) return null;
    const l = mod((3n * P.x * P.x + c.a) * inverse(2n * P.y, c.p), c.p);
    const x = mod(l * l - 2n * P.x, c.p);
    return { x, y: mod(l * (P.x - x) - P.y, c.p) };
  }
  const l = mod((Q.y - P.y) * inverse(Q.x - P.x, c.p), c.p);
  const x = mod(l * l - P.x - Q.x, c.p);
  return { x, y: mod(l * (P.x - x) - P.y, c.p) };
}

function multiply(c: Curve, scalar: bigint, P: Point): Point {
  let result: Point = null;
  let addend = P;
  for (let k = scalar; k > 0n; k >>= 1n) {
    if (k & 1n) result = add(c, result, addend);
    addend = add(c, addend, addend);
  }
  return result;
}

/** Strict DER `SEQUENCE { INTEGER r, INTEGER s }` (short and long form lengths). */
function parseDerSignature(sig: Buffer): { r: bigint; s: bigint } | undefined {
  let i = 0;
  const readLen = (): number | undefined => {
    if (i >= sig.length) return undefined;
    const b = sig[i++];
    if (b < 0x80) return b;
    const count = b & 0x7f;
    if (count === 0 || count > 2 || i + count > sig.length) return undefined;
    let len = 0;
    for (let k = 0; k < count; k++) len = (len << 8) | sig[i++];
    return len;
  };
  const readInt = (): bigint | undefined => {
    if (sig[i++] !== 0x02) return undefined;
    const len = readLen();
    if (len === undefined || len === 0 || i + len > sig.length)
      return undefined;
    const bytes = sig.subarray(i, i + len);
    i += len;
    if (bytes[0] & 0x80) return undefined; // negative
    return BigInt(`0x${bytes.toString('hex')}`);
  };
  if (sig[i++] !== 0x30) return undefined;
  const total = readLen();
  if (total === undefined || i + total !== sig.length) return undefined;
  const r = readInt();
  const s = readInt();
  if (r === undefined || s === undefined || i !== sig.length) return undefined;
  return { r, s };
}

function b64urlToBigInt(v: string | undefined): bigint {
  return BigInt(
    `0x${Buffer.from(v ?? '', 'base64url').toString('hex') || '0'}`,
  );
}

const DIGEST_INFO_PREFIX: Record<string, string> = {
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
};

/** Why a key cannot verify a prehashed signature. */
export class PrehashUnsupportedError extends Error {}

/**
 * True when `signature` is a valid signature by `key` over the message whose
 * `algorithm` digest is `digest`.
 */
export function verifyPrehashed(
  key: KeyObject,
  algorithm: string,
  digest: Buffer,
  signature: Buffer,
): boolean {
  if (key.asymmetricKeyType === 'ec') {
    const c = CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''];
    if (!c) {
      throw new PrehashUnsupportedError(
        `curve ${key.asymmetricKeyDetails?.namedCurve} is not supported with --digest`,
      );
    }
    const parsed = parseDerSignature(signature);
    if (!parsed) return false;
    const { r, s } = parsed;
    if (r <= 0n || r >= c.n || s <= 0n || s >= c.n) return false;
    const jwk = key.export({ format: 'jwk' });
    const Q: Point = { x: b64urlToBigInt(jwk.x), y: b64urlToBigInt(jwk.y) };
    let e = BigInt(`0x${digest.toString('hex') || '0'}`);
    const excess = digest.length * 8 - c.bits;
    if (excess > 0) e >>= BigInt(excess);
    const w = inverse(s, c.n);
    const X = add(
      c,
      multiply(c, mod(e * w, c.n), { x: c.gx, y: c.gy }),
      multiply(c, mod(r * w, c.n), Q),
    );
    return X !== null && mod(X.x, c.n) === r;
  }
  if (key.asymmetricKeyType === 'rsa') {
    const prefix = DIGEST_INFO_PREFIX[algorithm];
    if (!prefix) return false;
    let recovered: Buffer;
    try {
      recovered = publicDecrypt(
        { key, padding: constants.RSA_PKCS1_PADDING },
        signature,
      );
    } catch {
      return false;
    }
    return recovered.equals(
      Buffer.concat([Buffer.from(prefix, 'hex'), digest]),
    );
  }
  throw new PrehashUnsupportedError(
    `${key.asymmetricKeyType} signatures cover the whole artifact and cannot be checked from a digest`,
  );
}
