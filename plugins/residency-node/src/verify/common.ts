import type {
  DiscoverySource,
  Reason,
} from '@residency-dev/plugin-residency-common';
import { keyStatus, verifyRaw, type TrustedKey } from '../keys';
import type { Check, Signer } from './types';

export function reason(
  code: Reason['code'],
  message: string,
  details?: Record<string, unknown>,
): Reason {
  return details ? { code, message, details } : { code, message };
}

export function asSource(s: string): DiscoverySource {
  return s === 'referrers' || s === 'layout' ? s : 'cosign-tag';
}

/** Every pinned key that verifies the signature (never a hint: all keys are tried). */
export function keysThatVerify(
  keys: TrustedKey[],
  data: Uint8Array,
  sig: Uint8Array,
): TrustedKey[] {
  return keys.filter(k => verifyRaw(k.key, data, sig));
}

/**
 * Picks the signer among the keys that verified: a usable key (in its window,
 * not revoked) wins; otherwise the status failure of the first one is returned.
 */
export function pickSigner(
  verifying: TrustedKey[],
  trustedTimes: Date[],
  at: Date,
): { signer: Signer } | { error: Reason; key: TrustedKey } {
  let firstError: { error: Reason; key: TrustedKey } | undefined;
  for (const k of verifying) {
    const st = keyStatus(k.info, trustedTimes, at);
    if (st.ok) {
      return {
        signer: {
          key: k.info,
          region: k.info.region,
          timeSource: st.timeSource,
        },
      };
    }
    firstError ??= { error: reason(st.code, st.message, st.details), key: k };
  }
  return firstError!;
}

export function failed(
  base: Omit<Check, 'verified'>,
  error: Reason,
  signer?: Signer,
): Check {
  return { ...base, verified: false, error, ...(signer ? { signer } : {}) };
}
