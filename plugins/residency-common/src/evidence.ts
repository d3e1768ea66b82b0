import type { ExceptionVerdict } from './exceptions';
import type {
  AttestationKind,
  EntityResult,
  KeyInfo,
  Requirement,
} from './types';

/** Schema id of an evidence record. @public */
export const EVIDENCE_RECORD_SCHEMA = 'https://residency.dev/evidence/v1';
/** Schema id of a downloadable evidence bundle. @public */
export const EVIDENCE_BUNDLE_SCHEMA =
  'https://residency.dev/evidence-bundle/v1';

/**
 * Raw signed material captured for one image, enough to re-verify offline:
 * the manifest bytes, simple-signing payloads with their signatures, DSSE
 * envelopes and Sigstore bundles exactly as fetched (base64 where binary).
 *
 * @public
 */
export interface ImageMaterial {
  reference: string;
  digest?: string;
  /** base64 of the image manifest bytes (hash them to get `digest`). */
  manifest?: string;
  manifestMediaType?: string;
  simpleSignatures: {
    /** base64 of the simple-signing payload layer. */
    payload: string;
    /** base64 signature from the `dev.cosignproject.cosign/signature` annotation. */
    signature: string;
    certificate?: string;
    chain?: string;
    /** The `dev.sigstore.cosign/bundle` annotation (Rekor bundle), when present. */
    rekorBundle?: string;
    /** The `dev.sigstore.cosign/rfc3161timestamp` annotation, when present. */
    rfc3161Timestamp?: string;
    source: string;
  }[];
  /** DSSE envelopes (`.att` layers) as JSON text, with cosign's keyless annotations when present. */
  envelopes: {
    envelope: string;
    source: string;
    certificate?: string;
    chain?: string;
    rekorBundle?: string;
    rfc3161Timestamp?: string;
  }[];
  /** Sigstore bundles as JSON text. */
  bundles: { bundle: string; source: string }[];
  /**
   * Why the material could not be fetched (source error: bad reference, registry
   * not allowed, I/O...). Recorded so the decision can be recomputed from the record.
   */
  error?: { code: string; message: string; details?: Record<string, unknown> };
  /** Unsigned labels/annotations found on the image: claims only, never decide. */
  claims?: Record<string, string>;
  /** When this material was fetched (earlier than the record when reused). */
  fetchedAt?: string;
}

/**
 * One evidence record: the decision and everything it was made from.
 * Hashed as RFC 8785 canonical JSON.
 *
 * @public
 */
export interface EvidenceRecord {
  schema: typeof EVIDENCE_RECORD_SCHEMA;
  entityRef: string;
  /** The image references as requested (the annotation, split), so the decision can be recomputed. */
  images?: string[];
  result: EntityResult;
  material: ImageMaterial[];
  /** The tenant policy as configured (boundary regions, requirements, rules). */
  policy: {
    tenant?: string;
    boundary?: { name: string; regions: string[] };
    require: Requirement[];
    allowedHosts?: string[];
    rules?: { id: string; expression: string; message: string }[];
    /** Keyless identities trusted for the tenant, each bound to a region. */
    identities?: {
      subject?: string;
      subjectRegExp?: string;
      issuer: string;
      region: string;
    }[];
    /** Signatures by distinct trusted in-boundary keys or identities required (default 1). */
    minSignatures?: number;
    /**
     * Freshness: per attestation kind, the largest age (seconds) of the newest
     * verified attestation, measured from its trustworthy signed time.
     */
    maxAgeSeconds?: Partial<Record<AttestationKind, number>>;
    /** Limits that decide before any fetch (too_many_images). */
    limits?: { imagesPerEntity: number };
  };
  /** Trust material used: keys with public PEM, registries with regions, trusted roots' identity. */
  trust: {
    keys: (KeyInfo & { publicKeyPem: string })[];
    registries: { host: string; region: string }[];
    trustedRoots?: { name: string; sha256: string }[];
  };
  engineVersion: string;
  createdAt: string;
}

/** Schema id of an exception event record in an entity's evidence chain. @public */
export const EXCEPTION_EVENT_SCHEMA =
  'https://residency.dev/exception-event/v1';

/** What an exception event record says happened. @public */
export type ExceptionEventKind =
  | 'exception.requested'
  | 'exception.approved'
  | 'exception.rejected'
  | 'exception.revoked'
  | 'exception.expired'
  | 'exception.applied';

/** Every exception event kind, in lifecycle order. @public */
export const EXCEPTION_EVENT_KINDS: readonly ExceptionEventKind[] = [
  'exception.requested',
  'exception.approved',
  'exception.rejected',
  'exception.revoked',
  'exception.expired',
  'exception.applied',
];

/** The exception an event is about, as the portal stored it. @public */
export interface ExceptionEventSubject {
  /** Exception id (UUID). */
  id: string;
  /** Waived reason codes. */
  reasonCodes: string[];
  /** Covered image digests. */
  digests: string[];
  /** Ticket or legal reference. */
  reference: string;
  /** User entity ref of the requester. */
  requestedBy: string;
  /** End of the window (ISO 8601). */
  expiresAt: string;
  /** Why it was rejected or revoked. */
  comment?: string;
}

/**
 * One step of an exception's life, appended to the entity's evidence chain
 * between its decision records. `exception.approved` carries the signed
 * exception statement; `exception.applied` records the entity becoming
 * resident by exception, or other exceptions taking over that state, with the
 * statements of every exception it relies on.
 *
 * @public
 */
export interface ExceptionEventRecord {
  /** Always {@link EXCEPTION_EVENT_SCHEMA}: tells an event from a decision record. */
  schema: typeof EXCEPTION_EVENT_SCHEMA;
  /** What happened. */
  kind: ExceptionEventKind;
  /** The entity whose chain holds the record. */
  entityRef: string;
  /** Who did it (a user entity ref), or `system` for an expiry or a re-decision. */
  actor: string;
  /** When it happened (ISO 8601). */
  at: string;
  /** The exception (for `exception.applied`: absent; see `statements`). */
  exception?: ExceptionEventSubject;
  /** Id of the decision record in force when the event was recorded, if any. */
  decisionEvidenceId: string | null;
  /** `exception.approved`: the signed statement (DSSE envelope JSON) and its key. */
  statement?: ExceptionStatementEvidence;
  /** `exception.applied`: the entity's state with the waivers applied. */
  verdict?: ExceptionVerdict;
  /** `exception.applied`: the signed statements of the exceptions in `verdict.waived`. */
  statements?: ExceptionStatementEvidence[];
}

/** A signed exception statement as evidence: the envelope and the key that signed it. @public */
export interface ExceptionStatementEvidence {
  /** DSSE envelope JSON (payload: in-toto Statement v1, predicate https://residency.dev/exception/v1). */
  envelope: string;
  /** SHA-256 fingerprint of the signing public key. */
  keyFingerprint: string;
  /** The signing public key (SPKI PEM), for checks without the auditor's own keys. */
  publicKeyPem: string;
}

/** Any record of an entity's evidence chain: a decision, or an exception event. @public */
export type ChainRecord = EvidenceRecord | ExceptionEventRecord;

/** Is this chain record an exception event (not a decision)? @public */
export function isExceptionEventRecord(
  record: unknown,
): record is ExceptionEventRecord {
  return (
    typeof record === 'object' &&
    record !== null &&
    (record as { schema?: unknown }).schema === EXCEPTION_EVENT_SCHEMA
  );
}

/** A stored record with its chain position. @public */
export interface ChainedEvidence<R extends ChainRecord = EvidenceRecord> {
  id: string;
  sequence: number;
  previousHash: string | null;
  /** SHA-256 (hex) of canonical JSON of `{ sequence, previousHash, record }`. */
  recordHash: string;
  record: R;
}

/** The document served by `GET /evidence/{id}` and written by `residency verify --evidence`. @public */
export interface EvidenceBundle {
  schema: typeof EVIDENCE_BUNDLE_SCHEMA;
  /** A decision record, or an exception event (`isExceptionEventRecord`). */
  evidence: ChainedEvidence<ChainRecord>;
  /** The link to the previous record of the same entity, if any. */
  previous?: { id: string; sequence: number; recordHash: string };
  exportedAt: string;
  exportedBy?: string;
}
