import type { Entity } from '@backstage/catalog-model';
import type {
  EntityStatus,
  ImageResult,
} from '@residency-dev/plugin-residency-common';
import type { ResidencyApi } from '../api';

export const annotatedEntity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'payments',
    namespace: 'default',
    annotations: {
      'residency.dev/images': 'registry.eu.example.com/team/payments:1.0',
      'residency.dev/tenant': 'eu-sovereign',
    },
  },
  spec: { type: 'service', owner: 'team-a', lifecycle: 'production' },
};

export const plainEntity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'plain' },
  spec: { type: 'service', owner: 'team-a', lifecycle: 'production' },
};

const KEY_ID =
  'awskms:///arn:aws-eusc:kms:eusc-de-east-1:111122223333:key/eu-signing';

export const residentImage: ImageResult = {
  reference: 'registry.eu.example.com/team/payments:1.0',
  registry: 'registry.eu.example.com',
  repository: 'team/payments',
  tag: '1.0',
  digest: `sha256:${'ab12cd34ef56'.repeat(5)}abcd`,
  registryRegion: 'eusc-de-east-1',
  decision: 'compliant',
  reasons: [],
  signatures: [
    {
      format: 'simplesigning',
      source: 'cosign-tag',
      verified: true,
      key: {
        id: KEY_ID,
        fingerprint: 'f'.repeat(64),
        region: 'eusc-de-east-1',
      },
    },
  ],
  attestations: [
    {
      kind: 'provenance',
      predicateType: 'https://slsa.dev/provenance/v1',
      source: 'cosign-tag',
      verified: true,
      key: {
        id: KEY_ID,
        fingerprint: 'f'.repeat(64),
        region: 'eusc-de-east-1',
      },
    },
    {
      kind: 'sbom',
      predicateType: 'https://spdx.dev/Document',
      source: 'cosign-tag',
      verified: false,
    },
  ],
  verifiedAt: '2026-11-20T10:00:00Z',
};

export function makeStatus(
  overrides: Partial<EntityStatus> = {},
): EntityStatus {
  return {
    entityRef: 'component:default/payments',
    tenant: 'eu-sovereign',
    boundary: {
      name: 'AWS European Sovereign Cloud',
      regions: ['eusc-de-east-1'],
    },
    declaredRegion: 'eusc-de-east-1',
    decision: 'compliant',
    reasons: [],
    images: [residentImage],
    policyHash: 'p',
    trustHash: 't',
    engineVersion: '0.1.0',
    checkedAt: '2026-11-20T10:00:00Z',
    stale: false,
    ...overrides,
  };
}

/** A ResidencyApi whose every method fails unless a test provides it. */
export function fakeApi(partial: Partial<ResidencyApi> = {}): ResidencyApi {
  const missing = (name: string) => () =>
    Promise.reject(new Error(`${name} not expected in this test`));
  return {
    getStatus: missing('getStatus'),
    listEntities: missing('listEntities'),
    refresh: missing('refresh'),
    listEvidence: missing('listEvidence'),
    verifyChain: missing('verifyChain'),
    downloadEvidence: missing('downloadEvidence'),
    downloadVsa: missing('downloadVsa'),
    listTenants: missing('listTenants'),
    listMismatches: missing('listMismatches'),
    ...partial,
  } as ResidencyApi;
}
