import type {
  DiscoverySource,
  Reason,
} from '@residency-dev/plugin-residency-common';
import { keyUsable, verifyRaw, type TrustedKey } from '../keys';
import type { Check, FailedStep, Signer } from './types';

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

/** Clock skew tolerated between a signed time and the verification time. */
export const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;

/**
 * A trustworthy time later than the verification time (plus a small skew) is a
 * time from the future: a log or TSA signing it is misbehaving or compromised, and
 * accepting it would let a key that is not valid yet verify today (issue 12 item 2).
 */
export function futureTime(times: Date[], at: Date): Date | undefined {
  return times.find(t => t.getTime() > at.getTime() + MAX_FUTURE_SKEW_MS);
}

/**
 * Picks the signer among the keys that verified: a usable key (in its window,
 * not revoked) wins; otherwise the status failure of the first one is returned.
 * Signed times from the future are refused before any key window is checked.
 */
export function pickSigner(
  verifying: TrustedKey[],
  trustedTimes: Date[],
  at: Date,
): { signer: Signer } | { error: Reason; key: TrustedKey; step: FailedStep } {
  const future = futureTime(trustedTimes, at);
  if (future) {
    return {
      key: verifying[0],
      step: 'timestamp',
      error: reason(
        'signature_invalid',
        `A signed time (${future.toISOString()}) lies after the verification time (${at.toISOString()}); it is refused.`,
        { signedTime: future.toISOString(), verifiedAt: at.toISOString() },
      ),
    };
  }
  let firstError:
    | { error: Reason; key: TrustedKey; step: FailedStep }
    | undefined;
  for (const k of verifying) {
    const st = keyUsable(k.info, trustedTimes, at);
    if (st.ok) {
      return {
        signer: {
          key: k.info,
          region: k.info.region,
          timeSource: st.timeSource,
        },
      };
    }
    firstError ??= {
      error: reason(st.code, st.message, st.details),
      key: k,
      step: 'key_validity',
    };
  }
  return firstError!;
}

export function failed(
  base: Omit<Check, 'verified'>,
  error: Reason,
  signer?: Signer,
  step?: FailedStep,
): Check {
  return {
    ...base,
    verified: false,
    error,
    ...(signer ? { signer } : {}),
    ...(step ? { failedAt: step } : {}),
  };
}
