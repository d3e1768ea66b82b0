import {
  EVIDENCE_RECORD_SCHEMA,
  type Decision,
  type EntityResult,
  type EvidenceRecord,
  type ImageResult,
  type ReasonCode,
} from '@residency-dev/plugin-residency-common';
import type {
  EntityEvaluation,
  EvaluateEntityOptions,
  ResidencyEngine,
  ResidencySettings,
} from '@residency-dev/plugin-residency-node';

export const DIGEST_A = `sha256:${'a'.repeat(64)}`;
export const DIGEST_B = `sha256:${'b'.repeat(64)}`;

export function makeImage(options: {
  reference?: string;
  digest?: string;
  decision?: Decision;
  code?: ReasonCode;
  keyId?: string;
}): ImageResult {
  const decision = options.decision ?? 'compliant';
  return {
    reference:
      options.reference ?? `registry.eu/app@${options.digest ?? DIGEST_A}`,
    registry: 'registry.eu',
    repository: 'app',
    digest: options.digest ?? DIGEST_A,
    registryRegion: 'eusc-de-east-1',
    decision,
    reasons: options.code
      ? [{ code: options.code, message: options.code }]
      : [],
    signatures: [
      {
        format: 'simplesigning',
        source: 'cosign-tag',
        verified: decision === 'compliant',
        key: {
          id: options.keyId ?? 'key-eu',
          fingerprint: 'f'.repeat(64),
          region: 'eusc-de-east-1',
        },
      },
    ],
    attestations: [],
  };
}

export function makeEvaluation(options: {
  entityRef: string;
  decision?: Decision;
  code?: ReasonCode;
  images?: ImageResult[];
  tenant?: string;
  declaredRegion?: string;
  checkedAt?: string;
}): EntityEvaluation {
  const decision = options.decision ?? 'compliant';
  const images = options.images ?? [
    makeImage({ decision, code: options.code }),
  ];
  const result: EntityResult = {
    entityRef: options.entityRef,
    tenant: options.tenant ?? 'eu-public',
    boundary: { name: 'eusc', regions: ['eusc-de-east-1'] },
    ...(options.declaredRegion
      ? { declaredRegion: options.declaredRegion }
      : {}),
    decision,
    reasons: options.code
      ? [{ code: options.code, message: options.code }]
      : [],
    images,
    policyHash: 'p'.repeat(64),
    trustHash: 't'.repeat(64),
    engineVersion: 'test',
    checkedAt: options.checkedAt ?? new Date().toISOString(),
  };
  const record: EvidenceRecord = {
    schema: EVIDENCE_RECORD_SCHEMA,
    entityRef: options.entityRef,
    result,
    material: images
      .filter(i => i.digest)
      .map(i => ({
        reference: i.reference,
        digest: i.digest,
        simpleSignatures: [],
        envelopes: [],
        bundles: [],
      })),
    policy: {
      tenant: result.tenant,
      boundary: result.boundary,
      require: ['signature'],
    },
    trust: {
      keys: [],
      registries: [{ host: 'registry.eu', region: 'eusc-de-east-1' }],
    },
    engineVersion: 'test',
    createdAt: result.checkedAt,
  };
  return { result, record };
}

export const testSettings: ResidencySettings = {
  boundaries: { eusc: ['eusc-de-east-1'], us: ['us-east-1'] },
  registries: [
    { host: 'registry.eu', region: 'eusc-de-east-1', insecure: false },
    { host: 'registry.us', region: 'us-east-1', insecure: false },
  ],
  layouts: [
    { path: '/srv/images/eu', region: 'eusc-de-east-1' },
    { path: '/srv/images/us', region: 'us-east-1' },
  ],
  keys: [
    {
      id: 'key-eu',
      region: 'eusc-de-east-1',
      regionSource: 'explicit',
      fingerprint: 'f'.repeat(64),
      algorithm: 'ecdsa-p256',
      publicKeyPem: '-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n',
      revoked: false,
    },
    {
      id: 'key-us',
      region: 'us-east-1',
      regionSource: 'explicit',
      fingerprint: 'e'.repeat(64),
      algorithm: 'ecdsa-p256',
      publicKeyPem: '-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n',
      revoked: false,
    },
  ],
  tenants: {
    'eu-public': {
      boundary: 'eusc',
      require: ['signature'],
      allowedHosts: [],
      rules: [],
    },
  },
  limits: { imagesPerEntity: 20, concurrencyPerRegistry: 4 },
};

/**
 * A fake engine: decides from a per-entity script, counts calls, and exercises
 * the `reuse` callback for every digest it "resolves".
 */
export class FakeEngine implements ResidencyEngine {
  readonly settings = testSettings;
  readonly calls: EvaluateEntityOptions[] = [];
  readonly reused: string[] = [];
  decide: (options: EvaluateEntityOptions) => Decision = () => 'compliant';
  delayMs = 0;

  trustHash() {
    return 't'.repeat(64);
  }

  policyHash(_tenant: string | undefined) {
    return 'p'.repeat(64);
  }

  async evaluateEntity(
    options: EvaluateEntityOptions,
  ): Promise<EntityEvaluation> {
    this.calls.push(options);
    if (this.delayMs) {
      await new Promise(r => setTimeout(r, this.delayMs));
    }
    const decision = this.decide(options);
    const images: ImageResult[] = [];
    for (const reference of options.images) {
      const digest = reference.includes('@')
        ? reference.split('@')[1]
        : DIGEST_A;
      const previous =
        decision === 'unknown' ? undefined : await options.reuse?.(digest);
      // Reused material is decided again, as the real engine does.
      if (previous) {
        this.reused.push(digest);
      }
      images.push(
        makeImage({
          reference,
          digest,
          decision,
          code: decision === 'unknown' ? 'registry_unreachable' : undefined,
        }),
      );
    }
    // As the real engine: a registry fault is a reason of the image, not of the entity.
    return makeEvaluation({
      entityRef: options.entityRef,
      decision,
      images,
      tenant: options.tenant,
      declaredRegion: options.declaredRegion,
    });
  }
}
