/*
 * The policy and trust snapshots hashed into every result and recorded in every
 * evidence record.
 */
import type {
  EvidenceRecord,
  KeyInfo,
} from '@residency-dev/plugin-residency-common';
import type { ResidencySettings } from '../api';

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
    ...(settings.layouts ?? []).map(l => ({
      host: `oci:${l.path}`,
      region: l.region,
    })),
  ];
  const trust: EvidenceRecord['trust'] = { keys, registries };
  if (settings.trustedRoots && settings.trustedRoots.length > 0) {
    trust.trustedRoots = settings.trustedRoots.map(t => ({
      name: t.name,
      sha256: t.sha256,
    }));
  }
  return trust;
}

/** The policy snapshot of one tenant (or of "no tenant"). @public */
export function policyOf(
  settings: ResidencySettings,
  tenant: string | undefined,
): EvidenceRecord['policy'] {
  const t =
    tenant !== undefined && Object.hasOwn(settings.tenants, tenant)
      ? settings.tenants[tenant]
      : undefined;
  if (!t) return { ...(tenant !== undefined ? { tenant } : {}), require: [] };
  const policy: EvidenceRecord['policy'] = {
    tenant,
    boundary: {
      name: t.boundary,
      regions: [...(settings.boundaries[t.boundary] ?? [])],
    },
    require: [...t.require],
    allowedHosts: [...t.allowedHosts],
    rules: t.rules.map(r => ({ ...r })),
    limits: { imagesPerEntity: settings.limits.imagesPerEntity },
  };
  if (t.identities && t.identities.length > 0)
    policy.identities = t.identities.map(i => ({ ...i }));
  if (t.minSignatures !== undefined && t.minSignatures > 1)
    policy.minSignatures = t.minSignatures;
  if (t.maxAgeSeconds) policy.maxAgeSeconds = { ...t.maxAgeSeconds };
  return policy;
}
