/*
 * SLSA Verification Summary Attestations (VSA v1) issued by the Residency verifier:
 * types, constants and the one error class of the `vsa` module.
 */

/** Predicate type of a SLSA Verification Summary Attestation v1. @public */
export const VSA_PREDICATE_TYPE = 'https://slsa.dev/verification_summary/v1';
/** in-toto Statement v1 `_type`. @public */
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
/**
 * Extension field (a URI, as the VSA parsing rules require for producer
 * extensions) linking a VSA to the evidence record behind it. @public
 */
export const VSA_EVIDENCE_FIELD = 'https://residency.dev/vsa/evidence/v1';
/** Prefix of our own `verifiedLevels` values (never `SLSA_`, as the spec reserves it). @public */
export const VSA_LEVEL_PREFIX = 'RESIDENCY_BOUNDARY_';
/** Default maximum age a consumer accepts (24 hours). @public */
export const VSA_DEFAULT_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/** A resource descriptor as the VSA uses it (policy, input attestations). @public */
export interface VsaResourceDescriptor {
  uri: string;
  digest: Record<string, string>;
}

/** The VSA v1 predicate as Residency issues it. @public */
export interface VsaPredicate {
  verifier: { id: string; version: Record<string, string> };
  timeVerified: string;
  resourceUri: string;
  policy: VsaResourceDescriptor;
  inputAttestations: VsaResourceDescriptor[];
  verificationResult: 'PASSED' | 'FAILED';
  verifiedLevels: string[];
  [VSA_EVIDENCE_FIELD]: {
    /** Id of the evidence record (as served by the portal's evidence API). */
    id: string;
    /** Chain hash of the record (`recordHash`): the way from the VSA to the evidence chain. */
    recordHash: string;
    sequence: number;
    entityRef: string;
    tenant: string;
    boundary: { name: string; regions: string[] };
    /** The image decision and its reason codes (empty when PASSED). */
    decision: string;
    reasons: string[];
  };
}

/** An in-toto Statement v1 carrying a VSA. @public */
export interface VsaStatement {
  _type: typeof IN_TOTO_STATEMENT_V1;
  subject: { name: string; digest: Record<string, string> }[];
  predicateType: typeof VSA_PREDICATE_TYPE;
  predicate: VsaPredicate;
}

/** Codes of {@link VsaError}. @public */
export type VsaErrorCode =
  | 'vsa_config_invalid'
  | 'vsa_key_unreadable'
  | 'vsa_key_region_unpinned'
  | 'vsa_key_outside_boundary'
  | 'vsa_input_invalid'
  | 'vsa_kms_error'
  | 'vsa_signing_failed'
  | 'vsa_publish_failed';

/** A typed failure while configuring, issuing or signing a VSA. @public */
export class VsaError extends Error {
  readonly name = 'VsaError';
  constructor(
    readonly code: VsaErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Our `verifiedLevels` value for a boundary name (`eu-sovereign` -> `RESIDENCY_BOUNDARY_EU_SOVEREIGN`). @public */
export function boundaryLevel(boundary: string): string {
  const upper = boundary
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (upper === '') {
    throw new VsaError('vsa_input_invalid', 'boundary name is empty');
  }
  return `${VSA_LEVEL_PREFIX}${upper}`;
}
