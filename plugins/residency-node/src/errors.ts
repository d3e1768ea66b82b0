import type { ConfigErrorCode } from './api';

/**
 * A `residency:` configuration that does not load. The message names the entry
 * (e.g. `residency.keys[2] (awskms:///alias/x)`) so the platform owner can fix it.
 *
 * @public
 */
export class ResidencyConfigError extends Error {
  readonly name = 'ResidencyConfigError';
  constructor(
    readonly code: ConfigErrorCode,
    message: string,
    readonly path?: string,
  ) {
    super(message);
  }
}

/** Codes of a verification step that rejected its input (mapped onto reason codes). */
export type VerifyErrorCode =
  | 'too_large'
  | 'digest_mismatch'
  | 'signature_invalid'
  | 'signature_missing'
  | 'key_untrusted'
  | 'key_expired'
  | 'key_revoked'
  | 'attestation_invalid'
  | 'subject_mismatch'
  | 'malformed_statement';

/**
 * A typed failure of one signature, envelope or bundle. Parsers and verifiers
 * throw only this on hostile bytes.
 *
 * @public
 */
export class VerifyError extends Error {
  readonly name = 'VerifyError';
  constructor(
    readonly code: VerifyErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}
