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

/** A stored record with its chain position. @public */
export interface ChainedEvidence {
  id: string;
  sequence: number;
  previousHash: string | null;
  /** SHA-256 (hex) of canonical JSON of `{ sequence, previousHash, record }`. */
  recordHash: string;
  record: EvidenceRecord;
}

/** The document served by `GET /evidence/{id}` and written by `residency verify --evidence`. @public */
export interface EvidenceBundle {
  schema: typeof EVIDENCE_BUNDLE_SCHEMA;
  evidence: ChainedEvidence;
  /** The link to the previous record of the same entity, if any. */
  previous?: { id: string; sequence: number; recordHash: string };
  exportedAt: string;
  exportedBy?: string;
}
