import type {
  DiscoverySource,
  Reason,
} from '@residency-dev/plugin-residency-common';
import type { TrustedKey } from '../keys';
import type { Statement } from './statement';

/** A trustworthy signed time: a verified log entry or RFC 3161 timestamp. @public */
export interface SignedTime {
  /** Transparency log integrated time, or RFC 3161 timestamp. */
  source: 'tlog' | 'rfc3161';
  /** The signed time. */
  at: Date;
  /** Hex log id of the transparency log entry. */
  logId?: string;
}

/**
 * The step of a signature/attestation check that failed (the verification report
 * marks the steps before it passed and the ones after it skipped).
 *
 * @public
 */
export type FailedStep =
  | 'material_parsed'
  | 'signature_verified'
  | 'certificate_chain'
  | 'identity'
  | 'transparency_log'
  | 'timestamp'
  | 'key_validity'
  | 'statement_parsed'
  | 'subject_digest';

/** Who signed, as established from configuration only. */
export interface Signer {
  /** Pinned key that verified (key-based). */
  key?: TrustedKey['info'];
  /** Configured keyless identity that matched (certificate-based). */
  identity?: {
    subject: string;
    issuer: string;
    region: string;
    trustedRoot: string;
  };
  /** Region of the key or identity. */
  region: string;
  /** How the key validity time was established. */
  timeSource?: 'trusted-timestamp' | 'verification-time';
  /** The trustworthy signed times that were verified (empty: verification time only). */
  times?: SignedTime[];
}

/** The outcome of checking one signature, envelope or bundle. */
export interface Check {
  /** `signature` for image signatures, `attestation` for in-toto statements. */
  role: 'signature' | 'attestation';
  format: 'simplesigning' | 'dsse' | 'sigstore-bundle';
  source: DiscoverySource;
  /** Index into the material list it came from (for evidence paths). */
  index: number;
  /** True only when a configured key/identity verified it, it is bound to this digest and the key is usable. */
  verified: boolean;
  signer?: Signer;
  statement?: Statement;
  error?: Reason;
  /** The step that failed, when `error` is set. */
  failedAt?: FailedStep;
}

/** Context of a check: trust material from configuration only. */
export interface VerifyContext {
  digest: string;
  /** Raw image manifest bytes (hash = digest); message-signature bundles sign these. */
  manifest?: Buffer;
  keys: TrustedKey[];
  trustedRoots: { name: string; sha256: string; json: unknown }[];
  identities: {
    subject?: string;
    subjectRegExp?: string;
    /** Exact OIDC issuer (configuration); or `issuerRegExp` (CLI flags). */
    issuer?: string;
    issuerRegExp?: string;
    region: string;
  }[];
  at: Date;
}
