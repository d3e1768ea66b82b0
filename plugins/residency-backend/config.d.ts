import type { SchedulerServiceTaskScheduleDefinitionConfig } from '@backstage/backend-plugin-api';
import type { HumanDuration } from '@backstage/types';

export interface Config {
  /** Residency: region-bound verification of container images. */
  residency?: {
    /** Schedule of the full refresh (task `residency-refresh`); default every 10 minutes, first run 5 s after start. It runs on every replica as slices every min(frequency, `limits.leaseSeconds`, 60 s), each with `limits.leaseSeconds` as its timeout; slices within one frequency window continue one cycle. */
    schedule?: SchedulerServiceTaskScheduleDefinitionConfig;
    /** Schedule of the delta pass over changed annotations and policies (task `residency-refresh-delta`); default every minute. */
    deltaSchedule?: SchedulerServiceTaskScheduleDefinitionConfig;
    /** How long a verified digest is trusted before its signatures are fetched again (duration object, ISO 8601 or seconds); default 6 hours, 0 disables reuse. */
    revalidateAfter?: HumanDuration | string | number;
    /** Evidence retention; without it every record is kept. */
    retention?: {
      /** Newest records kept per entity; the oldest kept one becomes a checkpoint so the chain still verifies. */
      keepRecordsPerEntity?: number;
    };
    /** Caps. */
    limits?: {
      /** Images one entity may list before it is `invalid(too_many_images)` (engine). */
      imagesPerEntity?: number;
      /** Concurrent requests per registry host (engine). */
      concurrencyPerRegistry?: number;
      /** Entities claimed per batch by one replica; default 25. */
      refreshBatchSize?: number;
      /** Seconds a replica holds its claim before another replica may take it over, and the full task's timeout; default 300. */
      leaseSeconds?: number;
      /** Entities one replica evaluates at once; default 4. */
      entityConcurrency?: number;
      /**
       * Overall deadline of one image in seconds (resolving it and fetching all its
       * signatures and attestations, every request together); past it the image is
       * `unknown(registry_unreachable)`. Default 120 (engine).
       */
      imageTimeoutSeconds?: number;
    };
    /** Named boundaries: the regions each legal boundary covers, e.g. `eusc: [eusc-de-east-1]`. */
    boundaries?: { [name: string]: string[] };
    /** The allow-list of registries; images elsewhere are `invalid(registry_not_allowed)`. */
    registries?: Array<{
      /** Registry host[:port]. */
      host: string;
      /** Region the registry stores data in. */
      region: string;
      /** Plain HTTP (local test registries only). */
      insecure?: boolean;
      /**
       * Origins (`https://auth.example.com[:port]`) besides the registry's own that may
       * serve bearer tokens; the registry's credentials are sent there. Exact origin.
       */
      tokenRealms?: string[];
      /**
       * Origins the registry may redirect downloads to, e.g. its S3 bucket or CDN
       * (`https://bucket.s3.eusc-de-east-1.amazonaws.com`). Credentials are never sent
       * there; a redirect anywhere else is `unknown(registry_unreachable)`.
       */
      blobHosts?: string[];
      /** Credentials used for this registry only. */
      credentials?: {
        /** @visibility secret */
        token?: string;
        /** Registry user name. */
        username?: string;
        /** @visibility secret */
        password?: string;
      };
    }>;
    /** OCI image layout directories (`oci:<path>` references), each bound to a region. */
    layouts?: Array<{
      /** Directory of the layout. */
      path: string;
      /** Region the layout is stored in. */
      region: string;
    }>;
    /** Trusted signing keys, each bound to a region. */
    keys?: Array<{
      /** Key id, e.g. `awskms:///arn:aws-eusc:kms:eusc-de-east-1:...:key/...` (the region is read from it when pinned). */
      id: string;
      /** Explicit region, required when the id does not pin one. */
      region?: string;
      /** Public key PEM. */
      publicKey?: string;
      /** File with the public key PEM. */
      publicKeyFile?: string;
      /** Start of the key's validity (ISO 8601). */
      validFrom?: string;
      /** End of the key's validity (ISO 8601). */
      validUntil?: string;
      /** Revoked keys verify nothing. */
      revoked?: boolean;
    }>;
    /** Trusted roots for keyless signatures. */
    trustedRoots?: Array<{
      /** Name shown in evidence. */
      name?: string;
      /** Path of a trusted_root.json. */
      path?: string;
      /** Use the Sigstore public-good root embedded offline. */
      publicGood?: boolean;
    }>;
    /**
     * Exceptions: short-lived waivers of named reason codes for named image digests,
     * requested by an owner and approved by another person holding
     * `residency.exception.approve`; signed with the `residency.vsa` key.
     */
    exceptions?: {
      /** Longest window of an exception in days, for every tenant; default 7. */
      maxDays?: number;
      /** Per-tenant overrides of the longest window. */
      tenants?: {
        [id: string]: {
          /** Longest window of an exception of this tenant, in days (at most `maxDays`). */
          maxDays?: number;
        };
      };
      /** Public keys whose exceptions the CLI honours (`verify --exception`, `verify-evidence`). */
      keys?: Array<{
        /** PEM public key. */
        publicKey?: string;
        /** File with a PEM public key. */
        publicKeyFile?: string;
      }>;
      /**
       * The pass that marks lapsed exceptions expired (and re-decides their entities)
       * and sends expiring-soon notices; one replica at a time. Default: every minute.
       */
      schedule?: SchedulerServiceTaskScheduleDefinitionConfig;
    };
    /** Notifications when an entity's residency gets worse, and before exceptions expire. */
    alerts?: {
      /** Base URL of the portal, for links to the Residency tab (default: relative links). */
      baseUrl?: string;
      /** Extra recipients per tenant (entity refs such as `group:default/dpo`), besides the owners. */
      recipients?: {
        [tenant: string]: string[];
      };
    };
    /**
     * SLSA Verification Summary Attestations (VSA v1) signed by this verifier: issued by
     * the backend on every check (served at `/evidence/{id}/vsa`) and by `residency verify --vsa`.
     */
    vsa?: {
      /** `verifier.id` of every VSA: a URI naming this verifier, e.g. the portal's URL. */
      verifierId: string;
      /** Base URL of evidence records (`<base>/<id>`) named by the VSA's input attestations. */
      evidenceBaseUrl?: string;
      /** Also push each VSA to the image's registry (cosign `.att` layer + OCI referrer) when it has credentials. */
      publish?: boolean;
      /** The region-bound key VSAs are signed with; its region must lie in the tenant's boundary. */
      signingKey: {
        /** PKCS#8 (or SEC1/PKCS#1) PEM private key file, for local use. */
        file?: string;
        /** AWS KMS key ARN (or `awskms:///arn:...`); the region is derived from it. */
        awsKms?: string;
        /** Region of a key file (required for `file`); must agree with the ARN when given for `awsKms`. */
        region?: string;
        /** KMS endpoint override (e.g. a VPC endpoint); default `https://kms.<region>.<partition domain>`. */
        endpoint?: string;
      };
    };
    /** Tenants: which boundary each belongs to and what it requires of every image. */
    tenants?: {
      [id: string]: {
        /** Name of a boundary from `residency.boundaries`. */
        boundary: string;
        /** Required evidence: signature, provenance, sbom, residency; default signature. */
        require?: string[];
        /** Hosts build provenance may reference. */
        allowedHosts?: string[];
        /**
         * Signatures by distinct trusted in-boundary keys (public-key fingerprint) or
         * keyless identities required for `signature`; 1 to 16, default 1.
         */
        minSignatures?: number;
        /**
         * Freshness per attestation kind: the newest verified attestation must be
         * younger than this (`30m`, `12h`, `7d`, `2w`), measured from its trustworthy
         * signed time (transparency log or RFC 3161 timestamp). One whose only time is
         * the verification time cannot prove its age. Unset: no limit.
         */
        maxAge?: {
          provenance?: string;
          sbom?: string;
          residency?: string;
        };
        /** CEL rules evaluated over the verified facts. */
        rules?: Array<{
          /** Rule id, reported as `custom_rule:<id>`. */
          id: string;
          /** CEL expression. */
          expression: string;
          /** Message shown when the rule fails. */
          message?: string;
        }>;
        /** Keyless identities trusted for this tenant, each bound to a region. */
        identities?: Array<{
          /** Exact certificate subject. */
          subject?: string;
          /** Regular expression over the certificate subject. */
          subjectRegExp?: string;
          /** OIDC issuer. */
          issuer: string;
          /** Region the identity signs in. */
          region: string;
        }>;
      };
    };
  };
}
