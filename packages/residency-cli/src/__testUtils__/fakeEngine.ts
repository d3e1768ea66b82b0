import type {
  Decision,
  EntityResult,
  EvidenceRecord,
} from '@residency-dev/plugin-residency-common';
import type {
  BundleVerification,
  EngineApi,
  ResidencySettings,
} from '../engine';

export const SETTINGS: ResidencySettings = {
  boundaries: { 'eu-sovereign': ['eusc-de-east-1'] },
  registries: [
    {
      host: 'registry.eu.example.com',
      region: 'eusc-de-east-1',
      insecure: false,
    },
  ],
  keys: [
    {
      id: 'awskms:///arn:aws-eusc:kms:eusc-de-east-1:111122223333:key/0c7a',
      region: 'eusc-de-east-1',
      regionSource: 'id',
      fingerprint: 'ab'.repeat(32),
      algorithm: 'ecdsa-p256',
      publicKeyPem: '-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n',
      revoked: false,
    },
  ],
  tenants: {
    'acme-eu': {
      boundary: 'eu-sovereign',
      require: ['signature', 'provenance'],
      allowedHosts: [],
      rules: [],
    },
  },
  limits: { imagesPerEntity: 50, concurrencyPerRegistry: 4 },
};

export const DIGEST = `sha256:${'1'.repeat(64)}`;

export function entityResult(
  decision: Decision,
  images: string[],
): EntityResult {
  const reasons: EntityResult['reasons'] = [];
  if (decision === 'unknown') {
    reasons.push({
      code: 'registry_unreachable',
      message: 'The registry did not answer.',
    });
  } else if (decision !== 'compliant') {
    reasons.push({
      code: 'attestation_missing:provenance',
      message: 'No provenance attestation.',
    });
  }
  return {
    entityRef: 'component:default/residency-cli',
    tenant: 'acme-eu',
    boundary: { name: 'eu-sovereign', regions: ['eusc-de-east-1'] },
    decision,
    reasons: [],
    images: images.map(reference => ({
      reference,
      registry: 'registry.eu.example.com',
      repository: 'app',
      digest: DIGEST,
      registryRegion: 'eusc-de-east-1',
      decision,
      reasons,
      signatures: [
        {
          format: 'simplesigning',
          source: 'cosign-tag',
          verified: true,
          key: {
            id: SETTINGS.keys[0].id,
            fingerprint: SETTINGS.keys[0].fingerprint,
            region: 'eusc-de-east-1',
          },
        },
      ],
      attestations: [],
      claims: { 'org.example.region': 'eu\u001b[31m' },
    })),
    policyHash: 'p'.repeat(64),
    trustHash: 't'.repeat(64),
    engineVersion: '0.1.0-test',
    checkedAt: '2026-11-23T20:00:00.000Z',
  };
}

export interface FakeEngine extends EngineApi {
  calls: { evaluate: unknown[]; verifyBundle: unknown[] };
}

export function fakeEngine(
  options: {
    decision?: Decision;
    verification?: BundleVerification;
    loadError?: Error;
    evaluateError?: Error;
  } = {},
): FakeEngine {
  const calls: FakeEngine['calls'] = { evaluate: [], verifyBundle: [] };
  return {
    calls,
    loadResidencySettings: () => {
      if (options.loadError) throw options.loadError;
      return SETTINGS;
    },
    createEngine: settings => ({
      settings,
      trustHash: () => 't'.repeat(64),
      policyHash: () => 'p'.repeat(64),
      evaluateEntity: async o => {
        calls.evaluate.push(o);
        if (options.evaluateError) throw options.evaluateError;
        const result = entityResult(options.decision ?? 'compliant', o.images);
        const record: EvidenceRecord = {
          schema: 'https://residency.dev/evidence/v1',
          entityRef: o.entityRef,
          result,
          material: [],
          policy: { tenant: o.tenant, require: ['signature'] },
          trust: { keys: [], registries: [] },
          engineVersion: '0.1.0-test',
          createdAt: result.checkedAt,
        };
        return { result, record };
      },
    }),
    chainRecord: (record, previous) => ({
      id: 'rec-1',
      sequence: previous ? previous.sequence + 1 : 1,
      previousHash: previous ? previous.recordHash : null,
      recordHash: 'h'.repeat(64),
      record,
    }),
    verifyEvidenceBundle: (bundle, o) => {
      calls.verifyBundle.push({ bundle, o });
      return (
        options.verification ?? {
          ok: true,
          decision: 'compliant',
          problems: [],
        }
      );
    },
    splitImagesAnnotation: value =>
      value
        .split(/[,\r\n]+/)
        .map(s => s.trim())
        .filter(s => s !== ''),
    isConfigError: (e): e is Error & { code: string } =>
      e instanceof Error && typeof (e as { code?: unknown }).code === 'string',
  };
}
