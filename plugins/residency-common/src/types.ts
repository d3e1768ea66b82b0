import type { Decision, Reason } from './reasons';
import type { VerificationReport } from './report';
import type { ResidencyState } from './exceptions';

/** Catalog annotations read by Residency. @public */
export const ANNOTATION_IMAGES = 'residency.dev/images';
/** @public */
export const ANNOTATION_TENANT = 'residency.dev/tenant';
/** @public */
export const ANNOTATION_REGION = 'residency.dev/region';

/** Predicate type of Residency's own in-toto predicate. @public */
export const RESIDENCY_PREDICATE_TYPE = 'https://residency.dev/attestation/v1';

/** Kinds of attestation a tenant can require. @public */
export type AttestationKind = 'provenance' | 'sbom' | 'residency';

/** What a tenant can require of every image. @public */
export type Requirement = 'signature' | AttestationKind;

/** Where a signature or attestation was found. @public */
export type DiscoverySource = 'cosign-tag' | 'referrers' | 'layout';

/** A trusted key as shown to users and auditors (never private material). @public */
export interface KeyInfo {
  /** Configured id, e.g. `awskms:///arn:aws-eusc:kms:eusc-de-east-1:...`. */
  id: string;
  /** Hex SHA-256 of the DER SubjectPublicKeyInfo. */
  fingerprint: string;
  region: string;
  /** Where the region came from: parsed from the id, or given explicitly. */
  regionSource: 'id' | 'explicit';
  algorithm: string;
  validFrom?: string;
  validUntil?: string;
  revoked: boolean;
}

/** One signature found for an image, and what verifying it showed. @public */
export interface SignatureResult {
  format: 'simplesigning' | 'sigstore-bundle';
  source: DiscoverySource;
  verified: boolean;
  /** The pinned key that verified it (never a hint taken from the artifact). */
  key?: { id: string; fingerprint: string; region: string };
  /** For keyless signatures: the certificate identity and issuer. */
  identity?: { subject: string; issuer: string };
  /** Why it did not verify. */
  error?: Reason;
  /**
   * Set when no configured key or identity signed it
   * (`ignored: not signed by a configured key`): it does not change the decision.
   */
  ignored?: string;
}

/** One attestation found for an image. @public */
export interface AttestationResult {
  kind: AttestationKind | 'other';
  predicateType: string;
  source: DiscoverySource;
  verified: boolean;
  key?: { id: string; fingerprint: string; region: string };
  /** Facts read from the signed predicate (builder id, build region, SBOM format...). */
  facts?: Record<string, unknown>;
  error?: Reason;
  /** Set when no configured key or identity signed it: it does not change the decision. */
  ignored?: string;
  /**
   * Trustworthy signed time (transparency log or RFC 3161 timestamp), when it has one;
   * an attestation with only the verification time cannot prove its age.
   */
  signedAt?: string;
  /** Set when a newer verified attestation of the same kind decides instead. */
  superseded?: string;
}

/** The decision for one image reference. @public */
export interface ImageResult {
  /** The reference as written in the annotation. */
  reference: string;
  /** Registry host[:port] or `oci:<path>` for an OCI layout. */
  registry?: string;
  repository?: string;
  tag?: string;
  /** The digest resolved once for this check; everything is keyed by it. */
  digest?: string;
  /** Configured region of the registry, if the registry is configured. */
  registryRegion?: string;
  decision: Decision;
  reasons: Reason[];
  signatures: SignatureResult[];
  attestations: AttestationResult[];
  /** Unsigned claims (labels, annotations): shown as "claimed", never decide. */
  claims?: Record<string, string>;
  /** When the signatures for this digest were last fetched and verified. */
  verifiedAt?: string;
  /** Every check performed for this image, in order (absent in records older than the report). */
  report?: VerificationReport;
}

/** The decision for one catalog entity. @public */
export interface EntityResult {
  entityRef: string;
  tenant?: string;
  boundary?: { name: string; regions: string[] };
  declaredRegion?: string;
  decision: Decision;
  reasons: Reason[];
  images: ImageResult[];
  /** SHA-256 of the canonical tenant policy used. */
  policyHash: string;
  /** SHA-256 of the canonical trust configuration (keys, registries, roots). */
  trustHash: string;
  engineVersion: string;
  checkedAt: string;
  /** Entity checks (tenant, images, declared region, tenant rules), in order. */
  report?: VerificationReport;
}

/** Status of an entity as stored by the backend and served by the API. @public */
export interface EntityStatus extends EntityResult {
  /** True when the latest check could not decide and the last good evidence is shown. */
  stale: boolean;
  lastVerifiedAt?: string;
  /** Id of the evidence record behind this status. */
  evidenceId?: string;
  /** Title of the entity for display, when known. */
  title?: string;
  /**
   * The latest check when it could not decide (`stale` is then true): its decision
   * (`unknown`), reasons and time. The fields above still show the last good evidence.
   */
  lastAttempt?: { decision: Decision; reasons: Reason[]; checkedAt: string };
}

/** A row of the entity list. @public */
export interface EntityStatusSummary {
  entityRef: string;
  title?: string;
  tenant?: string;
  declaredRegion?: string;
  decision: Decision;
  stale: boolean;
  reasonCodes: string[];
  images: string[];
  checkedAt: string;
  lastVerifiedAt?: string;
  /**
   * The state shown to people: `resident_by_exception` when approved exceptions
   * in force waive every failure of this current `non_compliant` decision,
   * otherwise the decision's own state. Absent from older backends (read the
   * decision then).
   */
  state?: ResidencyState;
}

/** A page of results. @public */
export interface Page<T> {
  items: T[];
  nextCursor?: string;
  totalCount?: number;
}

/** One entry of an entity's evidence history. @public */
export interface EvidenceSummary {
  id: string;
  entityRef: string;
  sequence: number;
  decision: Decision;
  reasonCodes: string[];
  recordHash: string;
  previousHash: string | null;
  createdAt: string;
  /** Set on checkpoint records written by retention. */
  checkpoint?: boolean;
  /**
   * Set on exception event records (`exception.requested`, `exception.approved`,
   * ...); absent on decision records. On an event, `decision` is the decision in
   * force when it was recorded and `reasonCodes` the exception's codes.
   */
  kind?: string;
  /** On exception event records: who acted (requester, approver, revoker; `system` for expiry). */
  actor?: string;
}

/** Result of recomputing an entity's evidence chain. @public */
export interface ChainVerification {
  entityRef: string;
  ok: boolean;
  length: number;
  /** First broken link, if any. */
  brokenAt?: { sequence: number; id?: string; problem: string };
}

/** One tenant, as shown to platform owners. @public */
export interface TenantSummary {
  id: string;
  boundary: { name: string; regions: string[] };
  require: Requirement[];
  registries: { host: string; region: string; insideBoundary: boolean }[];
  /**
   * Configured on-disk image stores (`residency.layouts`: OCI image layout
   * directories, referenced as `oci:<path>`), each with its region.
   */
  layouts: { path: string; region: string; insideBoundary: boolean }[];
  keys: (KeyInfo & { insideBoundary: boolean })[];
  counts: Record<Decision, number>;
  /**
   * Of `counts.non_compliant`, how many are resident by exception (exceptions
   * in force waive every failure), as the entity list's `state` filter counts them.
   */
  residentByException?: number;
}

/** A tenant/region mapping mismatch. @public */
export interface Mismatch {
  entityRef: string;
  tenant?: string;
  /** What lies outside the boundary. */
  kind:
    | 'tenant_unknown'
    | 'declared_region'
    | 'registry_region'
    | 'key_region'
    | 'build_region';
  /** The region (or tenant id) that is outside. */
  value: string;
  /** Where: the image reference, the key id... */
  where?: string;
  boundary?: { name: string; regions: string[] };
}
