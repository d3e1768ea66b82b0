/*
 * Signing keys for tests and the demo, made with node:crypto. Signatures use the
 * digests cosign and Sigstore use by default for key-based signing: ECDSA (DER
 * encoded) and RSA PKCS#1 v1.5 over SHA-256, Ed25519 pure (no pre-hash).
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  KeyObject,
  sign as cryptoSign,
} from 'node:crypto';

/** Supported key algorithms. */
export type KeyAlgorithm = 'ecdsa-p256' | 'ecdsa-p384' | 'ed25519' | 'rsa';

/** A key pair plus the identifiers the verifier uses. */
export interface SigningKey {
  alg: KeyAlgorithm;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** SPKI PEM (`-----BEGIN PUBLIC KEY-----`). */
  publicKeyPem: string;
  /** Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo. */
  fingerprint: string;
}

/** Raised for unsupported or unreadable keys. */
export class SigningKitError extends Error {
  readonly name = 'SigningKitError';
  constructor(
    message: string,
    readonly code:
      | 'unsupported_key'
      | 'bad_key'
      | 'bad_input'
      | 'layout_invalid'
      | 'not_found',
  ) {
    super(message);
  }
}

/** Hex SHA-256 of a public key's DER SPKI encoding. */
export function spkiFingerprint(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex');
}

function algOf(pub: KeyObject): KeyAlgorithm {
  const t = pub.asymmetricKeyType;
  if (t === 'ed25519') return 'ed25519';
  if (t === 'rsa') return 'rsa';
  if (t === 'ec') {
    const curve = pub.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ecdsa-p256';
    if (curve === 'secp384r1') return 'ecdsa-p384';
  }
  throw new SigningKitError(`unsupported key type ${t}`, 'unsupported_key');
}

function wrap(privateKey: KeyObject): SigningKey {
  const publicKey = createPublicKey(privateKey);
  return {
    alg: algOf(publicKey),
    privateKey,
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    fingerprint: spkiFingerprint(publicKey),
  };
}

/** Generates a fresh key pair. */
export function generateKey(alg: KeyAlgorithm = 'ecdsa-p256'): SigningKey {
  switch (alg) {
    case 'ecdsa-p256':
      return wrap(
        generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
      );
    case 'ecdsa-p384':
      return wrap(
        generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey,
      );
    case 'ed25519':
      return wrap(generateKeyPairSync('ed25519').privateKey);
    case 'rsa':
      return wrap(
        generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
      );
    default:
      throw new SigningKitError(
        `unsupported key algorithm ${alg}`,
        'unsupported_key',
      );
  }
}

/** Loads a key from a PKCS#8 (or SEC1/PKCS#1) PEM private key. */
export function keyFromPrivatePem(pem: string): SigningKey {
  try {
    return wrap(createPrivateKey(pem));
  } catch (e) {
    if (e instanceof SigningKitError) throw e;
    throw new SigningKitError(
      `cannot read private key: ${(e as Error).message}`,
      'bad_key',
    );
  }
}

/** PKCS#8 PEM of the private key (for the demo's key files; never commit these). */
export function privateKeyPem(key: SigningKey): string {
  return key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * Signs bytes the way cosign's key-based signers do: SHA-256 then ECDSA (ASN.1 DER
 * signature) or RSA PKCS#1 v1.5; Ed25519 signs the message itself.
 */
export function signBytes(key: SigningKey, data: Uint8Array): Buffer {
  const algorithm = key.alg === 'ed25519' ? null : 'sha256';
  return cryptoSign(algorithm, data, key.privateKey);
}
