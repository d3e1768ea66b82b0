import type { ReasonCode } from './reasons';
import type { DiscoverySource } from './types';

/** Schema id (and version) of a verification report. @public */
export const VERIFICATION_REPORT_SCHEMA =
  'https://residency.dev/verification-report/v1';

/**
 * Every check the engine can record, in the order it performs them. Image checks
 * come first, then per signature/attestation checks, then the tenant's
 * requirements; entity checks (tenant, rules) are in the entity's own report.
 *
 * @public
 */
export const CHECK_IDS = [
  // entity
  'tenant_known',
  'images_listed',
  'declared_region',
  // image
  'reference_parsed',
  'registry_allowed',
  'registry_region',
  'tag_resolved',
  'manifest_hashed',
  'discovery',
  // per signature / attestation
  'material_parsed',
  'signature_verified',
  'certificate_chain',
  'identity',
  'transparency_log',
  'timestamp',
  'key_validity',
  'key_region',
  'statement_parsed',
  'subject_digest',
  'predicate_external_references',
  'predicate_regions',
  'attestation_freshness',
  'attestation_newest',
  // image, after the material
  'requirement',
  // entity, last
  'tenant_rule',
] as const;

/** A check id (see {@link CHECK_IDS}). @public */
export type CheckId = (typeof CHECK_IDS)[number];

/** One-line description of each check id (README, schema and the UI use it). @public */
export const CHECK_DESCRIPTIONS: Record<CheckId, string> = {
  tenant_known:
    'The entity names a tenant (residency.dev/tenant) defined in residency.tenants.',
  images_listed:
    'The entity lists images (residency.dev/images), no more than the configured cap.',
  declared_region:
    "The declared region (residency.dev/region) is inside the tenant's boundary.",
  reference_parsed:
    'The image reference parses (registry, repository, tag or digest).',
  registry_allowed:
    'The registry (or OCI layout) is configured in residency.registries.',
  registry_region:
    "The registry's configured region is inside the tenant's boundary.",
  tag_resolved: 'The reference was resolved to one digest, fetched once.',
  manifest_hashed: 'The manifest bytes fetched hash to that digest.',
  discovery:
    'Signatures and attestations were looked up (cosign tags, OCI referrers, layout) and found.',
  material_parsed:
    'The signature, DSSE envelope or Sigstore bundle is well formed.',
  signature_verified:
    'The signature verifies with a configured key or a certificate (never a key named by the artifact).',
  certificate_chain:
    'The signing certificate chains to a configured trusted root (keyless only).',
  identity:
    "The certificate's identity (SAN) and OIDC issuer match a configured identity of the tenant (keyless only).",
  transparency_log:
    'A transparency log entry (inclusion proof or signed entry timestamp) verifies with a configured log.',
  timestamp:
    'The signing time comes from a verified log entry or RFC 3161 timestamp, not from the future.',
  key_validity:
    "The signing time lies in the key's validity window and the key is not revoked.",
  key_region: "The key's or identity's region is inside the tenant's boundary.",
  statement_parsed: 'The signed payload is a well-formed in-toto statement.',
  subject_digest: 'The signed payload names this image digest.',
  predicate_external_references:
    "The build provenance references only the tenant's allowed hosts.",
  predicate_regions:
    "The residency attestation's regions are inside the boundary and its build region is the key's.",
  attestation_freshness:
    "The attestation's trustworthy signed time is not older than the tenant's maxAge for its kind.",
  attestation_newest:
    'The newest verified attestation of a kind decides; older ones are superseded.',
  requirement:
    'A tenant requirement (signature, provenance, sbom, residency) is met by verified material.',
  tenant_rule: 'A tenant CEL rule, evaluated over verified facts only, holds.',
};

/** The outcome of one check. @public */
export type CheckOutcome = 'pass' | 'fail' | 'skipped' | 'not_applicable';

/** Where a time used by a check came from. @public */
export type TimeSourceKind = 'tlog' | 'rfc3161' | 'verification_time';

/** One check performed (or skipped) for an image or entity. @public */
export interface VerificationCheck {
  id: CheckId;
  outcome: CheckOutcome;
  /** Why a check was skipped or is not applicable. */
  why?: string;
  /** What the check expected, in plain words. */
  expected?: string;
  /** What was found, in plain words. */
  found?: string;
  /** The reason code the failure produced, if any. */
  reason?: ReasonCode;
  /** The signature or attestation the check concerns. */
  material?: {
    role: 'signature' | 'attestation';
    format: 'simplesigning' | 'dsse' | 'sigstore-bundle';
    source: DiscoverySource;
    /** Index into the image's signatures or attestations. */
    index: number;
    /** Path of the raw material in the evidence record (e.g. `envelopes[0]`). */
    path: string;
  };
  /** The trust anchor used: pinned key, or root and CA, log and TSA. */
  trustAnchor?: {
    key?: { id: string; fingerprint: string; region: string };
    trustedRoot?: string;
    identity?: { subject: string; issuer: string; region: string };
    logId?: string;
    tsa?: boolean;
  };
  /** The time the check relied on. */
  time?: { source: TimeSourceKind; at: string };
  /** Wall-clock time taken (not part of the evidence comparison). */
  durationMs?: number;
}

/** The ordered checks of one image or entity. @public */
export interface VerificationReport {
  schema: typeof VERIFICATION_REPORT_SCHEMA;
  checks: VerificationCheck[];
}

/** Failing checks first, then the rest in their recorded order. @public */
export function checksFailingFirst(
  checks: readonly VerificationCheck[],
): VerificationCheck[] {
  return [
    ...checks.filter(c => c.outcome === 'fail'),
    ...checks.filter(c => c.outcome !== 'fail'),
  ];
}
