/*
 * Trusted keys: the pinned public keys from configuration (or from an evidence
 * record's trust snapshot), raw signature checks against each of them, and the
 * validity-window policy.
 *
 * Validity windows (validFrom / validUntil) are checked against trustworthy time:
 * the integrated time of a verified transparency-log entry or a verified RFC 3161
 * timestamp. Without trustworthy time we only know the signature existed when we
 * verified it, so the verification time must lie inside the window: a key that has
 * expired (or is not yet valid) fails closed with `key_expired`. Revoked keys are
 * never trusted, whatever the time.
 */
import {
  createPublicKey,
  verify as cryptoVerify,
  constants,
  type KeyObject,
} from 'node:crypto';
import type { KeyInfo } from '@residency-dev/plugin-residency-common';

/** A pinned key, ready for verification. */
export interface TrustedKey {
  info: KeyInfo & { publicKeyPem: string };
  key: KeyObject;
}

type LoadedKeys = {
  keys: TrustedKey[];
  bad: { index: number; id: string }[];
};

/**
 * Parsed keys per key list: a configuration's list is one object for the life of
 * the engine, so its PEMs are parsed once, not once per image. The entries and
 * their PEM texts are compared on each use, so a list changed in place is parsed
 * again.
 */
const loaded = new WeakMap<
  object,
  { infos: object[]; pems: string[]; value: LoadedKeys }
>();

/**
 * Loads the keys of a trust snapshot; keys whose PEM does not parse are returned
 * in `bad`. Parsed once per key list (see `loaded` below); treat the result as
 * read-only.
 */
export function loadTrustedKeys(keys: (KeyInfo & { publicKeyPem: string })[]): {
  keys: TrustedKey[];
  bad: { index: number; id: string }[];
} {
  const cached = loaded.get(keys);
  if (
    cached &&
    cached.pems.length === keys.length &&
    cached.pems.every(
      (pem, i) => cached.infos[i] === keys[i] && pem === keys[i].publicKeyPem,
    )
  ) {
    return cached.value;
  }
  const value = parseTrustedKeys(keys);
  loaded.set(keys, {
    infos: [...keys],
    pems: keys.map(k => k.publicKeyPem),
    value,
  });
  return value;
}

function parseTrustedKeys(
  keys: (KeyInfo & { publicKeyPem: string })[],
): LoadedKeys {
  const out: TrustedKey[] = [];
  const bad: { index: number; id: string }[] = [];
  keys.forEach((info, index) => {
    try {
      const key = createPublicKey({ key: info.publicKeyPem, format: 'pem' });
      out.push({ info, key });
    } catch {
      bad.push({ index, id: info.id });
    }
  });
  return { keys: out, bad };
}

/** Hash algorithms per key object (reading the key's details allocates each time). */
const hashesOfKey = new WeakMap<KeyObject, (string | null)[]>();

function hashesFor(key: KeyObject): (string | null)[] {
  let hashes = hashesOfKey.get(key);
  if (!hashes) {
    hashes = hashesForType(key);
    hashesOfKey.set(key, hashes);
  }
  return hashes;
}

function hashesForType(key: KeyObject): (string | null)[] {
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return [null];
    case 'ec': {
      // cosign's default hash per curve first, then SHA-256 (what sigstore-js uses).
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'secp384r1') return ['sha384', 'sha256'];
      if (curve === 'secp521r1') return ['sha512', 'sha256'];
      return ['sha256'];
    }
    case 'rsa':
      return ['sha256', 'sha384', 'sha512'];
    default:
      return [];
  }
}

/**
 * Does `signature` over `data` verify with `key`? Tries the hash algorithms cosign
 * and sigstore use for the key type (and PKCS#1 v1.5 then PSS for RSA). Never throws.
 */
export function verifyRaw(
  key: KeyObject,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (signature.byteLength === 0 || signature.byteLength > 1024) return false;
  for (const hash of hashesFor(key)) {
    try {
      if (cryptoVerify(hash, data, key, signature)) return true;
      if (key.asymmetricKeyType === 'rsa') {
        const ok = cryptoVerify(
          hash,
          data,
          {
            key,
            padding: constants.RSA_PKCS1_PSS_PADDING,
            saltLength: constants.RSA_PSS_SALTLEN_AUTO,
          },
          signature,
        );
        if (ok) return true;
      }
    } catch {
      // malformed DER signature, wrong size: simply does not verify
    }
  }
  return false;
}

/** Outcome of the key status check. */
export type KeyStatus =
  | {
      ok: true;
      timeSource: 'trusted-timestamp' | 'verification-time';
      times: string[];
    }
  | {
      ok: false;
      code: 'key_expired' | 'key_revoked';
      message: string;
      details: Record<string, unknown>;
    };

/**
 * Is the key usable for a signature with these trustworthy times (empty when the
 * signature carries none), evaluated at `at`?
 */
export function keyStatus(
  info: Pick<KeyInfo, 'id' | 'validFrom' | 'validUntil' | 'revoked'>,
  trustedTimes: Date[],
  at: Date,
): KeyStatus {
  const st = keyUsable(info, trustedTimes, at);
  if (!st.ok) return st;
  const times = trustedTimes.length > 0 ? trustedTimes : [at];
  return { ...st, times: times.map(t => t.toISOString()) };
}

/**
 * `keyStatus` without the times written out: the signer choice reads only whether
 * the key is usable and the time source, for every signature of every image.
 */
export function keyUsable(
  info: Pick<KeyInfo, 'id' | 'validFrom' | 'validUntil' | 'revoked'>,
  trustedTimes: Date[],
  at: Date,
):
  | { ok: true; timeSource: 'trusted-timestamp' | 'verification-time' }
  | Extract<KeyStatus, { ok: false }> {
  if (info.revoked) {
    return {
      ok: false,
      code: 'key_revoked',
      message: `Key ${info.id} is revoked.`,
      details: { keyId: info.id },
    };
  }
  const useTrusted = trustedTimes.length > 0;
  if (info.validFrom !== undefined || info.validUntil !== undefined) {
    const from = info.validFrom ? Date.parse(info.validFrom) : undefined;
    const until = info.validUntil ? Date.parse(info.validUntil) : undefined;
    for (const t of useTrusted ? trustedTimes : [at]) {
      const ms = t.getTime();
      if (
        (from !== undefined && ms < from) ||
        (until !== undefined && ms > until)
      ) {
        return {
          ok: false,
          code: 'key_expired',
          message: `Key ${info.id} was not valid at ${t.toISOString()} (${
            useTrusted
              ? 'trusted timestamp'
              : 'no trusted timestamp; verification time'
          }).`,
          details: {
            keyId: info.id,
            time: t.toISOString(),
            timeSource: useTrusted ? 'trusted-timestamp' : 'verification-time',
            ...(info.validFrom ? { validFrom: info.validFrom } : {}),
            ...(info.validUntil ? { validUntil: info.validUntil } : {}),
          },
        };
      }
    }
  }
  return {
    ok: true,
    timeSource: useTrusted ? 'trusted-timestamp' : 'verification-time',
  };
}

/** Strict base64 (standard or URL alphabet, optional padding); undefined if malformed. */
export function decodeBase64(
  text: unknown,
  maxBytes: number,
): Buffer | undefined {
  if (typeof text !== 'string') return undefined;
  const t = text.trim();
  if (t.length === 0 || t.length > Math.ceil((maxBytes * 4) / 3) + 4)
    return undefined;
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(t)) return undefined;
  let padding = 0;
  while (padding < 2 && t.charCodeAt(t.length - 1 - padding) === 0x3d /* = */)
    padding++;
  if ((t.length - padding) % 4 === 1) return undefined;
  // Node's base64 decoder reads the URL-safe alphabet (-, _) as well, without a
  // rewritten copy of the text (payloads are kilobytes).
  return Buffer.from(t, 'base64');
}
