/*
 * Evidence: the policy and trust snapshots hashed into every result, the hash
 * chain over records, and offline re-verification of an evidence bundle.
 */
import type {
  ChainedEvidence,
  EvidenceRecord,
  KeyInfo,
} from '@residency-dev/plugin-residency-common';
import type { ResidencySettings } from './api';
import { canonicalHash } from './canonical';

export { canonicalJson, canonicalHash, sha256Hex } from './canonical';

/** The trust snapshot (keys with PEMs, registries and layouts, trusted roots). @public */
export function trustOf(settings: ResidencySettings): EvidenceRecord['trust'] {
  const keys = settings.keys.map(k => {
    const info: KeyInfo & { publicKeyPem: string } = {
      id: k.id,
      fingerprint: k.fingerprint,
      region: k.region,
      regionSource: k.regionSource,
      algorithm: k.algorithm,
      revoked: k.revoked,
      publicKeyPem: k.publicKeyPem,
    };
    if (k.validFrom) info.validFrom = k.validFrom;
    if (k.validUntil) info.validUntil = k.validUntil;
    return info;
  });
  const registries = [
    ...settings.registries.map(r => ({ host: r.host, region: r.region })),
    ...(settings.layouts ?? []).map(l => ({ host: `oci:${l.path}`, region: l.region })),
  ];
  const trust: EvidenceRecord['trust'] = { keys, registries };
  if (settings.trustedRoots && settings.trustedRoots.length > 0) {
    trust.trustedRoots = settings.trustedRoots.map(t => ({ name: t.name, sha256: t.sha256 }));
  }
  return trust;
}

/** The policy snapshot of one tenant (or of "no tenant"). @public */
export function policyOf(
  settings: ResidencySettings,
  tenant: string | undefined,
): EvidenceRecord['policy'] {
  const t = tenant !== undefined && Object.hasOwn(settings.tenants, tenant)
    ? settings.tenants[tenant]
    : undefined;
  if (!t) return { ...(tenant !== undefined ? { tenant } : {}), require: [] };
  const policy: EvidenceRecord['policy'] = {
    tenant,
    boundary: { name: t.boundary, regions: [...(settings.boundaries[t.boundary] ?? [])] },
    require: [...t.require],
    allowedHosts: [...t.allowedHosts],
    rules: t.rules.map(r => ({ ...r })),
  };
  if (t.identities && t.identities.length > 0) policy.identities = t.identities.map(i => ({ ...i }));
  return policy;
}

/** Hash of a chain link: SHA-256 of canonical `{ sequence, previousHash, record }`. @public */
export function recordHashOf(
  sequence: number,
  previousHash: string | null,
  record: EvidenceRecord,
): string {
  return canonicalHash({ sequence, previousHash, record });
}

/**
 * Appends a record to a chain: sequence 1 and previousHash null for the first
 * record of an entity, otherwise the previous link's sequence + 1 and hash.
 *
 * @public
 */
export function chainRecord(
  record: EvidenceRecord,
  previous?: Pick<ChainedEvidence, 'sequence' | 'recordHash'> | null,
  id?: string,
): ChainedEvidence {
  const sequence = previous ? previous.sequence + 1 : 1;
  const previousHash = previous ? previous.recordHash : null;
  const recordHash = recordHashOf(sequence, previousHash, record);
  return { id: id ?? recordHash, sequence, previousHash, recordHash, record };
}
