/*
 * Predicates the verifier understands, built from their published shapes:
 * SLSA provenance v1 and v0.2, CycloneDX and SPDX SBOMs, and Residency's own
 * `https://residency.dev/attestation/v1` predicate.
 */

export const PREDICATE_SLSA_V1 = 'https://slsa.dev/provenance/v1';
export const PREDICATE_SLSA_V02 = 'https://slsa.dev/provenance/v0.2';
export const PREDICATE_CYCLONEDX = 'https://cyclonedx.org/bom';
export const PREDICATE_SPDX = 'https://spdx.dev/Document';
export const PREDICATE_RESIDENCY = 'https://residency.dev/attestation/v1';
/** What cosign's new bundle format signs for `cosign sign`. */
export const PREDICATE_COSIGN_SIGN = 'https://sigstore.dev/cosign/sign/v1';

/** A predicate type with its body. */
export interface Predicate {
  predicateType: string;
  predicate: unknown;
}

/** A resource descriptor (SLSA v1 resolvedDependencies / byproducts). */
export interface ResourceDescriptor {
  uri: string;
  digest?: Record<string, string>;
  name?: string;
}

/** SLSA provenance v1. */
export function slsaProvenanceV1(
  input: {
    builderId?: string;
    buildType?: string;
    externalParameters?: Record<string, unknown>;
    internalParameters?: Record<string, unknown>;
    resolvedDependencies?: ResourceDescriptor[];
    invocationId?: string;
    startedOn?: string;
    finishedOn?: string;
  } = {},
): Predicate {
  return {
    predicateType: PREDICATE_SLSA_V1,
    predicate: {
      buildDefinition: {
        buildType:
          input.buildType ??
          'https://ci.eu.example.com/buildtypes/container/v1',
        externalParameters: input.externalParameters ?? {
          source: 'git+https://git.eu.example.com/acme/app@refs/heads/main',
        },
        ...(input.internalParameters
          ? { internalParameters: input.internalParameters }
          : {}),
        resolvedDependencies: input.resolvedDependencies ?? [
          {
            uri: 'git+https://git.eu.example.com/acme/app@refs/heads/main',
            digest: { gitCommit: '4b825dc642cb6eb9a060e54bf8d69288fbee4904' },
          },
        ],
      },
      runDetails: {
        builder: {
          id:
            input.builderId ??
            'https://ci.eu.example.com/builders/eusc-de-east-1',
        },
        metadata: {
          invocationId: input.invocationId ?? 'build-1',
          startedOn: input.startedOn ?? '2026-01-01T00:00:00Z',
          finishedOn: input.finishedOn ?? '2026-01-01T00:05:00Z',
        },
      },
    },
  };
}

/** SLSA provenance v0.2. */
export function slsaProvenanceV02(
  input: {
    builderId?: string;
    buildType?: string;
    materials?: ResourceDescriptor[];
    parameters?: Record<string, unknown>;
    configSource?: {
      uri: string;
      digest?: Record<string, string>;
      entryPoint?: string;
    };
  } = {},
): Predicate {
  return {
    predicateType: PREDICATE_SLSA_V02,
    predicate: {
      builder: {
        id:
          input.builderId ??
          'https://ci.eu.example.com/builders/eusc-de-east-1',
      },
      buildType:
        input.buildType ?? 'https://ci.eu.example.com/buildtypes/container/v1',
      invocation: {
        configSource: input.configSource ?? {
          uri: 'git+https://git.eu.example.com/acme/app@refs/heads/main',
          digest: { sha1: '4b825dc642cb6eb9a060e54bf8d69288fbee4904' },
          entryPoint: 'Dockerfile',
        },
        parameters: input.parameters ?? {},
      },
      metadata: {
        buildStartedOn: '2026-01-01T00:00:00Z',
        buildFinishedOn: '2026-01-01T00:05:00Z',
        completeness: { parameters: true, environment: false, materials: true },
        reproducible: false,
      },
      materials: input.materials ?? [
        {
          uri: 'git+https://git.eu.example.com/acme/app@refs/heads/main',
          digest: { sha1: '4b825dc642cb6eb9a060e54bf8d69288fbee4904' },
        },
      ],
    },
  };
}

/** A minimal CycloneDX 1.5 BOM. */
export function cycloneDxSbom(
  input: {
    name?: string;
    components?: { name: string; version: string; purl?: string }[];
  } = {},
): Predicate {
  return {
    predicateType: PREDICATE_CYCLONEDX,
    predicate: {
      bomFormat: 'CycloneDX',
      specVersion: '1.5',
      version: 1,
      metadata: {
        timestamp: '2026-01-01T00:05:00Z',
        component: { type: 'container', name: input.name ?? 'app' },
      },
      components: (
        input.components ?? [
          {
            name: 'openssl',
            version: '3.0.15',
            purl: 'pkg:deb/debian/openssl@3.0.15',
          },
        ]
      ).map(c => ({ type: 'library', ...c })),
    },
  };
}

/** A minimal SPDX 2.3 document. */
export function spdxSbom(
  input: {
    name?: string;
    packages?: { name: string; versionInfo: string }[];
  } = {},
): Predicate {
  const name = input.name ?? 'app';
  return {
    predicateType: PREDICATE_SPDX,
    predicate: {
      spdxVersion: 'SPDX-2.3',
      dataLicense: 'CC0-1.0',
      SPDXID: 'SPDXRef-DOCUMENT',
      name,
      documentNamespace: `https://residency.dev/spdx/${encodeURIComponent(
        name,
      )}`,
      creationInfo: {
        created: '2026-01-01T00:05:00Z',
        creators: ['Tool: residency-signing-kit'],
      },
      packages: (
        input.packages ?? [{ name: 'openssl', versionInfo: '3.0.15' }]
      ).map((p, i) => ({
        SPDXID: `SPDXRef-Package-${i}`,
        downloadLocation: 'NOASSERTION',
        ...p,
      })),
    },
  };
}

/**
 * Residency's own predicate (`https://residency.dev/attestation/v1`): where the
 * image was built, where it is stored and where the service keeps its data, as
 * signed claims the verifier checks against the tenant's boundary.
 */
export interface ResidencyPredicate {
  /** Region the build ran in, e.g. `eusc-de-east-1`. */
  buildRegion: string;
  /** Registries/buckets holding the image, each with its region. */
  storageLocations: { uri: string; region: string }[];
  /** Where the service's data lives, by kind (database, object-store, logs, ...). */
  dataLocations: { kind: string; region: string }[];
  /** Optional boundary name the producer claims to respect. */
  boundary?: string;
}

/** The residency predicate. */
export function residencyPredicate(p: ResidencyPredicate): Predicate {
  return { predicateType: PREDICATE_RESIDENCY, predicate: { ...p } };
}
