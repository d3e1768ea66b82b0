import { RESIDENCY_PREDICATE_TYPE, type AttestationKind } from './types';
/**
 * Stable reason codes. Every decision the engine makes carries one or more of
 * these; the UI, the CLI and auditors key on them, so they never change meaning.
 *
 * @public
 */
export const REASON_CODES = [
  'bad_reference',
  'registry_not_allowed',
  'registry_outside_boundary',
  'registry_unreachable',
  'registry_auth',
  'rate_limited',
  'too_large',
  'digest_mismatch',
  'signature_missing',
  'signature_invalid',
  'key_untrusted',
  'key_outside_boundary',
  'key_expired',
  'key_revoked',
  'attestation_missing',
  'attestation_stale',
  'attestation_invalid',
  'subject_mismatch',
  'malformed_statement',
  'region_mismatch',
  'provenance_external_reference',
  'tenant_unknown',
  'tenant_missing',
  'declared_region_outside_boundary',
  'too_many_images',
  'no_images',
  'custom_rule',
] as const;

/** @public */
export type BaseReasonCode = (typeof REASON_CODES)[number];

/**
 * A reason code. `attestation_missing:<type>` names the missing attestation type
 * (`provenance`, `sbom`, `residency`); `custom_rule:<id>` names a tenant CEL rule.
 *
 * @public
 */
export type ReasonCode =
  | BaseReasonCode
  | `attestation_missing:${string}`
  | `attestation_stale:${string}`
  | `custom_rule:${string}`;

/**
 * Outcome of a check.
 * - `compliant`: verified evidence supports residency;
 * - `non_compliant`: verified that the evidence does not support it;
 * - `unknown`: could not decide (I/O, registry fault); never compliant;
 * - `invalid`: bad input or configuration; no network call was made.
 *
 * @public
 */
export type Decision = 'compliant' | 'non_compliant' | 'unknown' | 'invalid';

/** @public */
export const DECISIONS: readonly Decision[] = [
  'compliant',
  'non_compliant',
  'unknown',
  'invalid',
];

/** Severity used to combine decisions: the worst one wins. @public */
export const DECISION_SEVERITY: Record<Decision, number> = {
  compliant: 0,
  unknown: 1,
  invalid: 2,
  non_compliant: 3,
};

/** Combines decisions; an empty list is `unknown` (nothing proves compliance). @public */
export function worstDecision(decisions: Iterable<Decision>): Decision {
  let worst: Decision | undefined;
  for (const d of decisions) {
    if (
      worst === undefined ||
      DECISION_SEVERITY[d] > DECISION_SEVERITY[worst]
    ) {
      worst = d;
    }
  }
  return worst ?? 'unknown';
}

/** @public */
export interface Reason {
  code: ReasonCode;
  /** One sentence in plain language, safe to show as text. */
  message: string;
  /** Structured facts behind the reason (both regions of a mismatch, the digest, ...). */
  details?: Record<string, unknown>;
}

/** The base code of a reason code (`attestation_missing:sbom` -> `attestation_missing`). @public */
export function baseReasonCode(code: ReasonCode): BaseReasonCode {
  const i = code.indexOf(':');
  return (i === -1 ? code : code.slice(0, i)) as BaseReasonCode;
}

/** Plain-language advice for each reason, shown next to it in the UI and the CLI. @public */
export const REASON_ADVICE: Record<BaseReasonCode, string> = {
  bad_reference:
    'Fix the image reference in the residency.dev/images annotation (lowercase repository, tag or sha256 digest).',
  registry_not_allowed:
    'Push the image to a registry listed in residency.registries, or ask the platform team to add the registry.',
  registry_outside_boundary:
    "Move the image to a registry whose region is inside the tenant's boundary.",
  registry_unreachable:
    'The registry did not answer; the last good evidence is kept. Check the registry or retry later.',
  registry_auth:
    'The registry refused our credentials; ask the platform team to check residency.registries credentials.',
  rate_limited: 'The registry rate-limited us; the check will be retried.',
  too_large:
    'An object in the registry exceeded the size cap; check the image and its signatures for tampering.',
  digest_mismatch:
    'The signature or the registry bytes do not match the image digest; re-sign the image by digest.',
  signature_missing:
    'Sign the image by digest with a key from residency.keys, e.g. cosign sign --key <kms-uri> <image>@<digest>.',
  signature_invalid:
    'A signature did not verify; re-sign the image with a trusted in-boundary key.',
  key_untrusted:
    'The image is signed, but not by any key configured in residency.keys.',
  key_outside_boundary:
    "Sign with a key whose region is inside the tenant's boundary.",
  key_expired:
    'The signing key was outside its validity window; re-sign with a current key.',
  key_revoked: 'The signing key was revoked; re-sign with a current key.',
  attestation_missing:
    'Attach the required signed attestation, e.g. cosign attest --key <kms-uri> --type <slsaprovenance|cyclonedx|...> --predicate <file> <image>@<digest>.',
  attestation_stale:
    "The newest verified attestation of this kind is older than the tenant's maxAge, or has no trustworthy signed time (transparency log or RFC 3161 timestamp) to prove its age; re-create it with a timestamp.",
  attestation_invalid:
    'An attestation did not verify; re-create it with a trusted in-boundary key.',
  subject_mismatch:
    'An attestation names another image digest as its subject; attest this exact digest.',
  malformed_statement:
    'An attestation is not a well-formed in-toto statement; re-create it with a standard tool.',
  region_mismatch:
    'The region inside a signed attestation differs from the region of the key that signed it.',
  provenance_external_reference:
    "The build provenance references hosts outside the tenant's allowed hosts; build from in-boundary sources.",
  tenant_unknown:
    'Set residency.dev/tenant to a tenant defined in residency.tenants.',
  tenant_missing: 'Add the residency.dev/tenant annotation.',
  declared_region_outside_boundary:
    "The residency.dev/region annotation names a region outside the tenant's boundary.",
  too_many_images:
    'The entity lists more images than the configured cap; split it or raise residency.limits.imagesPerEntity.',
  no_images: 'List at least one image in the residency.dev/images annotation.',
  custom_rule: 'A tenant rule failed; see the message for what it requires.',
};

/**
 * The `cosign attest --type` and a predicate file name for each attestation kind,
 * so advice names the right type (an SBOM is not `slsaprovenance`). @public
 */
export const COSIGN_ATTEST_TYPES: Record<
  AttestationKind,
  { type: string; predicate: string }
> = {
  provenance: { type: 'slsaprovenance', predicate: 'provenance.json' },
  sbom: { type: 'cyclonedx', predicate: 'sbom.cdx.json' },
  residency: { type: RESIDENCY_PREDICATE_TYPE, predicate: 'residency.json' },
};

/**
 * Advice for one reason code: the generic advice of its base code, except a
 * missing attestation of a known kind, whose command names that kind. @public
 */
export function reasonAdvice(code: ReasonCode): string | undefined {
  const base = baseReasonCode(code);
  const kind = code.slice(base.length + 1);
  if (
    base === 'attestation_missing' &&
    Object.hasOwn(COSIGN_ATTEST_TYPES, kind)
  ) {
    const { type, predicate } = COSIGN_ATTEST_TYPES[kind as AttestationKind];
    return `Attach a signed ${kind} attestation, e.g. cosign attest --key <kms-uri> --type ${type} --predicate ${predicate} <image>@<digest>.`;
  }
  return REASON_ADVICE[base];
}
