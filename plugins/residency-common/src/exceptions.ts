/*
 * Exceptions: a short-lived, two-person-approved waiver of named reason codes for
 * named image digests of one entity. This module holds the shared types and the one
 * rule that turns a decision plus valid exceptions into a residency state.
 */
import { REASON_CODES, type Decision, type Reason } from './reasons';

/** Predicate type of a signed exception statement. @public */
export const EXCEPTION_PREDICATE_TYPE = 'https://residency.dev/exception/v1';

/** Lifecycle of an exception. @public */
export type ExceptionStatus =
  | 'requested'
  | 'approved'
  | 'rejected'
  | 'revoked'
  | 'expired';

/**
 * Reason codes an exception may never waive: they say the check could not decide
 * (an I/O failure never becomes a pass) or the input itself is wrong.
 *
 * @public
 */
export const NON_WAIVABLE_REASON_CODES: readonly string[] = [
  'bad_reference',
  'registry_unreachable',
  'registry_auth',
  'rate_limited',
  'too_large',
  'digest_mismatch',
  'tenant_unknown',
  'tenant_missing',
  'too_many_images',
  'no_images',
];

/** Is `code` a reason code an exception may name? @public */
export function isWaivableReasonCode(code: string): boolean {
  if (NON_WAIVABLE_REASON_CODES.includes(code)) return false;
  if (/^(attestation_missing|custom_rule):[A-Za-z0-9_.-]{1,64}$/.test(code))
    return true;
  return (REASON_CODES as readonly string[]).includes(code);
}

/** An exception as stored and served. @public */
export interface ResidencyException {
  /** Identifier (UUID). */
  id: string;
  /** The entity the exception is for (`kind:namespace/name`). */
  entityRef: string;
  /** Where it is in its lifecycle. */
  status: ExceptionStatus;
  /** Waived reason codes (exact codes; never a wildcard). */
  reasonCodes: string[];
  /** Image digests covered (`sha256:<hex>`); a new digest needs a new exception. */
  digests: string[];
  /** Why the waiver is needed, in the requester's words. */
  justification: string;
  /** Ticket or legal reference. */
  reference: string;
  /** User entity ref of the requester. */
  requestedBy: string;
  /** When it was requested (ISO 8601). */
  requestedAt: string;
  /** When it stops applying (ISO 8601). */
  expiresAt: string;
  /** Who approved, rejected or revoked it. */
  decidedBy?: string;
  /** When it was approved, rejected or revoked (ISO 8601). */
  decidedAt?: string;
  /** Why it was rejected or revoked. */
  comment?: string;
  /** Signed in-toto statement (DSSE envelope JSON), once approved. */
  envelope?: string;
  /** SHA-256 fingerprint of the public key that signed the envelope. */
  keyFingerprint?: string;
  /** The public key that signed the envelope (SPKI PEM). */
  publicKeyPem?: string;
}

/** The residency state shown to users. @public */
export type ResidencyState =
  | 'resident'
  | 'resident_by_exception'
  | 'not_resident'
  | 'unknown';

/** How bad a state is; a transition to a higher number is a worsening. @public */
export const RESIDENCY_STATE_SEVERITY: Record<ResidencyState, number> = {
  resident: 0,
  resident_by_exception: 1,
  unknown: 2,
  not_resident: 3,
};

/** One waiver applied to a digest. @public */
export interface AppliedWaiver {
  /** The exception that waived it. */
  exceptionId: string;
  /** The image digest the waiver applies to. */
  digest: string;
  /** The reason codes waived for that digest. */
  reasonCodes: string[];
  /** Who asked for the exception. */
  requestedBy: string;
  /** Who approved it (never the requester). */
  approvedBy: string;
  /** When it stops applying (ISO 8601). */
  expiresAt: string;
}

/** A decision seen through the valid exceptions. @public */
export interface ExceptionVerdict {
  /** The state shown to users. */
  state: ResidencyState;
  /** What was waived (only for `resident_by_exception`). */
  waived: AppliedWaiver[];
  /** Earliest expiry among the applied waivers. */
  validUntil?: string;
  /** Failing codes that no valid exception covers (for not_resident). */
  uncovered: { digest?: string; code: string }[];
}

/** The state of a decision without exceptions. @public */
export function stateOfDecision(decision: Decision): ResidencyState {
  if (decision === 'compliant') return 'resident';
  // `invalid` (bad annotation or tenant settings) is shown as not resident, as in the UI
  if (decision === 'non_compliant' || decision === 'invalid')
    return 'not_resident';
  return 'unknown';
}

/** Is the exception approved and inside its window at `now`? @public */
export function isExceptionInForce(
  e: Pick<ResidencyException, 'status' | 'expiresAt' | 'decidedAt'>,
  now: Date,
): boolean {
  if (e.status !== 'approved') return false;
  const expires = Date.parse(e.expiresAt);
  if (!Number.isFinite(expires) || expires <= now.getTime()) return false;
  const from = e.decidedAt ? Date.parse(e.decidedAt) : NaN;
  return !Number.isFinite(from) || from <= now.getTime();
}

/**
 * Applies exceptions to a decision. Only a `non_compliant` entity can become
 * `resident_by_exception`, and only when every failing reason of every image is
 * waived by an exception in force for that image's digest, and no failing reason
 * is left at the entity level. `unknown` and `invalid` are never waived.
 *
 * @public
 */
export function applyExceptions(
  result: {
    decision: Decision;
    reasons: Reason[];
    images: {
      digest?: string;
      decision: Decision;
      reasons: Reason[];
    }[];
  },
  exceptions: readonly ResidencyException[],
  now: Date,
): ExceptionVerdict {
  const base = stateOfDecision(result.decision);
  if (result.decision !== 'non_compliant') {
    return { state: base, waived: [], uncovered: [] };
  }
  const inForce = exceptions.filter(e => isExceptionInForce(e, now));
  const waived: AppliedWaiver[] = [];
  const uncovered: { digest?: string; code: string }[] = [];
  const imageCodes = new Set<string>();
  for (const image of result.images) {
    const codes = [...new Set(image.reasons.map(r => r.code as string))];
    codes.forEach(c => imageCodes.add(c));
    if (image.decision === 'compliant') continue;
    if (image.decision !== 'non_compliant' || !image.digest) {
      codes.forEach(code => uncovered.push({ digest: image.digest, code }));
      if (codes.length === 0) uncovered.push({ code: image.decision });
      continue;
    }
    for (const code of codes) {
      const by = isWaivableReasonCode(code)
        ? inForce.find(
            e =>
              e.digests.includes(image.digest!) && e.reasonCodes.includes(code),
          )
        : undefined;
      if (!by) {
        uncovered.push({ digest: image.digest, code });
        continue;
      }
      const existing = waived.find(
        w => w.exceptionId === by.id && w.digest === image.digest,
      );
      if (existing) existing.reasonCodes.push(code);
      else
        waived.push({
          exceptionId: by.id,
          digest: image.digest,
          reasonCodes: [code],
          requestedBy: by.requestedBy,
          approvedBy: by.decidedBy ?? '',
          expiresAt: by.expiresAt,
        });
    }
  }
  for (const r of result.reasons) {
    if (!imageCodes.has(r.code)) uncovered.push({ code: r.code });
  }
  if (uncovered.length > 0 || waived.length === 0) {
    return { state: base, waived: [], uncovered };
  }
  const validUntil = waived
    .map(w => w.expiresAt)
    .sort((a, b) => Date.parse(a) - Date.parse(b))[0];
  return { state: 'resident_by_exception', waived, validUntil, uncovered: [] };
}
