/*
 * The Sigstore helpers the CLI's `verify-bundle` shares with the engine, exported
 * once from here (issue 10): bundle parsing with the engine's strict JSON and
 * media-type allow-list, the public-good trusted root, verifier-error mapping to
 * plain messages, artifact digests, key fingerprints and prehashed signature checks.
 */
import {
  createHash,
  constants,
  publicDecrypt,
  type KeyObject,
} from 'node:crypto';
import { p256 } from '@noble/curves/p256';
import { p384 } from '@noble/curves/p384';

export { MAX_BUNDLE_BYTES, parseBundle, mapVerifierError } from './bundle';
export {
  verifyCertificateEntity,
  verifierMessage,
  trustedRootProblem,
} from './bundle';
export { IN_TOTO_PAYLOAD_TYPE } from './statement';
export { publicGoodTrustedRoot } from '../config';

const DIGEST_HEX_LENGTH: Record<string, number> = {
  sha256: 64,
  sha384: 96,
  sha512: 128,
};

/** Parses `alg:hex` (sha256, sha384, sha512; lowercase hex of the right length). */
export function parseArtifactDigest(
  value: string,
): { algorithm: string; hex: string } | undefined {
  const m = /^(sha256|sha384|sha512):([0-9a-f]+)$/.exec(value);
  if (!m || m[2].length !== DIGEST_HEX_LENGTH[m[1]]) return undefined;
  return { algorithm: m[1], hex: m[2] };
}

/** Is `alg` one of the digest algorithms artifacts may be named by? */
export function isArtifactDigestAlgorithm(alg: string): boolean {
  return DIGEST_HEX_LENGTH[alg] !== undefined;
}

/** SPKI SHA-256 fingerprint (hex) of a public key. */
export function keyFingerprint(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** Why a key cannot verify a prehashed signature. */
export class PrehashUnsupportedError extends Error {
  readonly name = 'PrehashUnsupportedError';
}

const DIGEST_INFO_PREFIX: Record<string, string> = {
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
};

/**
 * True when `signature` is a valid signature by `key` over the message whose
 * `algorithm` digest is `digest` (a "prehashed" signature, for `verify-bundle
 * --digest`). Node's crypto always hashes its input, so ECDSA goes through
 * @noble/curves with prehash off; RSA PKCS#1 v1.5 recovers and compares the
 * DigestInfo with Node's crypto.
 */
export function verifyPrehashed(
  key: KeyObject,
  algorithm: string,
  digest: Buffer,
  signature: Buffer,
): boolean {
  if (key.asymmetricKeyType === 'ec') {
    const curve = { prime256v1: p256, secp384r1: p384 }[
      key.asymmetricKeyDetails?.namedCurve ?? ''
    ];
    if (!curve) {
      throw new PrehashUnsupportedError(
        `curve ${key.asymmetricKeyDetails?.namedCurve} is not supported with --digest`,
      );
    }
    const jwk = key.export({ format: 'jwk' });
    const point = Buffer.concat([
      Buffer.from([4]),
      Buffer.from(jwk.x!, 'base64url'),
      Buffer.from(jwk.y!, 'base64url'),
    ]);
    try {
      return curve.verify(signature, digest, point, {
        prehash: false,
        lowS: false,
        format: 'der',
      });
    } catch {
      return false;
    }
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
