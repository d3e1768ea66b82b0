/*
 * The public contract of the verification engine. The backend plugin and the CLI
 * depend only on what this file declares; the implementation lives beside it.
 */
import type { Config } from '@backstage/config';
import type { EvidenceProblem } from './evidence/problems';
import type {
  EntityResult,
  EvidenceBundle,
  EvidenceRecord,
  ImageMaterial,
  Reason,
} from '@residency-dev/plugin-residency-common';
import type { RegistryHealth } from './source/health';

/**
 * The configuration the engine reads: Backstage's `Config` (the backend's root
 * config, or the CLI's files loaded with `@backstage/config-loader`).
 */
export type ConfigReader = Config;

/** Error codes of a configuration that fails to load. */
export type ConfigErrorCode =
  | 'config_invalid'
  | 'key_region_unpinned'
  | 'key_region_contradiction'
  | 'key_duplicate'
  | 'key_unreadable'
  | 'boundary_unknown'
  | 'registry_invalid'
  | 'rule_invalid';

/** Options of one entity evaluation. */
export interface EvaluateEntityOptions {
  entityRef: string;
  /** Image references from `residency.dev/images` (already split). */
  images: string[];
  tenant?: string;
  declaredRegion?: string;
  /**
   * Incremental verification: the engine still resolves each tag to a digest, then asks
   * this callback for material of that digest fetched before (how young is the caller's
   * choice); when some is returned, the signatures are not fetched again and the material
   * is decided again under the current trust and policy.
   */
  reuse?: (digest: string) => Promise<{ material: ImageMaterial } | undefined>;
  signal?: AbortSignal;
}

/** What one evaluation yields: the decision and the evidence record behind it. */
export interface EntityEvaluation {
  result: EntityResult;
  record: EvidenceRecord;
}

/** Outcome of re-verifying an evidence bundle offline. */
export interface BundleVerification {
  ok: boolean;
  /** The decision recomputed from the bundle's own material. */
  decision?: EntityResult['decision'];
  /** Each problem names the JSON path of the field that does not verify and its check. */
  problems: EvidenceProblem[];
}

/** The engine, one per process; safe for concurrent use. */
export interface ResidencyEngine {
  evaluateEntity(options: EvaluateEntityOptions): Promise<EntityEvaluation>;
  /** SHA-256 of the canonical trust configuration (keys, registries, trusted roots). */
  trustHash(): string;
  /** SHA-256 of a tenant's canonical policy (or of "no tenant"). */
  policyHash(tenant: string | undefined): string;
  /** Tenants and what the platform owner configured. */
  readonly settings: ResidencySettings;
  /** Releases network resources (keep-alive pools), if any. Optional. */
  close?(): Promise<void>;
  /**
   * Starts a refresh cycle of the registry source: per-cycle memory is forgotten and,
   * when given, `health` (e.g. a new `RegistryCircuit`) is consulted by every
   * registry request of the cycle. Optional; a no-op for injected sources without it.
   */
  newCycle?(options?: { health?: RegistryHealth }): void;
}

/** The loaded, validated `residency:` configuration. */
export interface ResidencySettings {
  boundaries: Record<string, string[]>;
  registries: {
    host: string;
    region: string;
    insecure: boolean;
    /** Credentials for this registry only; never hashed, logged or put in evidence. */
    credentials?: { username: string; password: string } | { token: string };
    /** Origins besides the registry's own allowed as bearer token realms (credentials may go there). */
    tokenRealms?: string[];
    /** Origins the registry may redirect blob and manifest downloads to (S3, CDN); never sent credentials. */
    blobHosts?: string[];
  }[];
  /** OCI image layout directories on disk (`oci:<path>` references), each with a region. */
  layouts?: { path: string; region: string }[];
  /**
   * Trusted roots for keyless (certificate) signatures: a private `trusted_root.json`
   * or the Sigstore public-good root read offline from `@sigstore/tuf`'s embedded seed.
   */
  trustedRoots?: {
    name: string;
    /** Hex SHA-256 of the trusted_root.json bytes. */
    sha256: string;
    /** The trusted_root.json document (protobuf-specs JSON form). */
    json: unknown;
  }[];
  keys: {
    id: string;
    region: string;
    regionSource: 'id' | 'explicit';
    fingerprint: string;
    algorithm: string;
    publicKeyPem: string;
    validFrom?: string;
    validUntil?: string;
    revoked: boolean;
  }[];
  tenants: Record<
    string,
    {
      boundary: string;
      require: ('signature' | 'provenance' | 'sbom' | 'residency')[];
      allowedHosts: string[];
      rules: { id: string; expression: string; message: string }[];
      /** Keyless identities trusted for this tenant, each bound to a region. */
      identities?: {
        subject?: string;
        subjectRegExp?: string;
        issuer: string;
        region: string;
      }[];
      /** Signatures by distinct trusted in-boundary keys or identities required (default 1). */
      minSignatures?: number;
      /** Freshness: per attestation kind, the largest age in seconds (from `maxAge`). */
      maxAgeSeconds?: Partial<
        Record<'provenance' | 'sbom' | 'residency', number>
      >;
    }
  >;
  limits: {
    imagesPerEntity: number;
    concurrencyPerRegistry: number;
    /** Overall deadline of one image across all its registry requests, seconds. */
    imageTimeoutSeconds?: number;
  };
}

export type { EvidenceBundle, Reason };
