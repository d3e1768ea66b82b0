import type { BaseReasonCode } from '@residency-dev/plugin-residency-common';
import type { ConfigErrorCode } from './api';

/**
 * The one error base of the engine: a `code` from a closed union and the
 * underlying `cause`. Subclasses narrow the code union; callers match with
 * `instanceof` and switch on `code`.
 *
 * @public
 */
export class ResidencyError<Code extends string = string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  override get name(): string {
    return this.constructor.name;
  }
}

/**
 * A `residency:` configuration that does not load. The message names the entry
 * (e.g. `residency.keys[2] (awskms:///alias/x)`) so the platform owner can fix it.
 *
 * @public
 */
export class ResidencyConfigError extends ResidencyError<ConfigErrorCode> {
  /** Every error when a load found several (this one summarises them). */
  readonly errors: readonly ResidencyConfigError[];
  constructor(
    code: ConfigErrorCode,
    message: string,
    readonly path?: string,
    options?: { cause?: unknown; errors?: ResidencyConfigError[] },
  ) {
    super(code, message, options);
    this.errors = options?.errors ?? [this];
  }
}

/**
 * Codes of a verification step that rejected its input (mapped onto reason
 * codes): a subset of the reason codes, so renaming a reason code breaks this.
 */
export type VerifyErrorCode = Extract<
  BaseReasonCode,
  | 'too_large'
  | 'digest_mismatch'
  | 'signature_invalid'
  | 'signature_missing'
  | 'key_untrusted'
  | 'key_expired'
  | 'key_revoked'
  | 'attestation_invalid'
  | 'subject_mismatch'
  | 'malformed_statement'
>;

/**
 * A typed failure of one signature, envelope or bundle. Parsers and verifiers
 * throw only this on hostile bytes.
 *
 * @public
 */
export class VerifyError extends ResidencyError<VerifyErrorCode> {
  constructor(
    code: VerifyErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}
