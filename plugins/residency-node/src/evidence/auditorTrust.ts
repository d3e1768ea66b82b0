/*
 * The bundle must not trust itself: besides its keys, the policy (boundary,
 * requirements, identities) and the registries recorded in a bundle are compared with
 * the trust the auditor brings. A forger who widens the boundary, empties the
 * requirements or relabels a registry recomputes every hash; only this comparison
 * catches it.
 */
import type { EvidenceRecord } from '@residency-dev/plugin-residency-common';
import type { ResidencySettings } from '../api';
import { canonicalJson } from '../canonical';
import type { Problems } from './problems';
import { policyOf } from './snapshots';
import { isObject } from '../verify/json';

/**
 * What the auditor's trust covers. `configuration` (an app-config, `--config`): keys,
 * the tenant's whole policy and the registries. `keys` (`--trusted-keys`,
 * `--trusted-root`): keys, boundaries and keyless identities only; the tenant's
 * requirements, rules and registries stay as recorded.
 *
 * @public
 */
export type EvidenceTrustScope = 'configuration' | 'keys';

const P = 'evidence.record';

function same(a: unknown, b: unknown): boolean {
  try {
    return canonicalJson(a ?? null) === canonicalJson(b ?? null);
  } catch {
    return false;
  }
}

/** Compares the recorded policy and registries with the auditor's trust. */
export function checkAgainstAuditorTrust(
  record: EvidenceRecord,
  settings: ResidencySettings,
  scope: EvidenceTrustScope,
  problems: Problems,
): void {
  checkKeyValidity(record.trust.keys, settings, problems);
  checkTrustedRoots(record.trust.trustedRoots, settings, problems);
  if (!isObject(record.policy)) return;
  checkBoundary(record.policy, settings, problems);
  if (scope === 'configuration') {
    checkPolicy(record.policy, settings, problems);
    checkRegistries(record.trust.registries, settings, problems);
  } else {
    checkIdentities(record.policy, settings, problems);
  }
}

/**
 * A key's validity window is the auditor's: a forger who widens `validUntil` of an
 * expired key (or moves `validFrom` back) changes which signatures count.
 */
function checkKeyValidity(
  keys: EvidenceRecord['trust']['keys'],
  settings: ResidencySettings,
  problems: Problems,
): void {
  keys.forEach((k, i) => {
    const conf = isObject(k)
      ? settings.keys.find(c => c.id === k.id)
      : undefined;
    if (!conf) return;
    for (const f of ['validFrom', 'validUntil'] as const) {
      if ((k[f] ?? undefined) !== (conf[f] ?? undefined)) {
        problems.add(
          'trust',
          `${P}.trust.keys[${i}].${f}`,
          'key_changed',
          `the configured key has ${f} ${conf[f] ?? '(none)'}`,
        );
      }
    }
  });
}

/**
 * Each trusted root the record names is one the auditor trusts (by the SHA-256 of its
 * bytes). Without this, a record naming the public-good root would be checked against
 * the copy embedded offline although the auditor never said they trust it.
 */
function checkTrustedRoots(
  roots: EvidenceRecord['trust']['trustedRoots'],
  settings: ResidencySettings,
  problems: Problems,
): void {
  if (!Array.isArray(roots)) return;
  const ours = new Set((settings.trustedRoots ?? []).map(r => r.sha256));
  roots.forEach((r, i) => {
    if (!isObject(r) || !ours.has(String(r.sha256))) {
      problems.add(
        'trust',
        `${P}.trust.trustedRoots[${i}]`,
        'trusted_root_not_configured',
        `trusted root ${
          isObject(r) ? String(r.name) : '?'
        } is not in your trust`,
      );
    }
  });
}

/** The boundary's regions are the auditor's regions for that boundary name. */
function checkBoundary(
  policy: EvidenceRecord['policy'],
  settings: ResidencySettings,
  problems: Problems,
): void {
  const b = policy.boundary;
  if (b === undefined) return;
  const name = isObject(b) && typeof b.name === 'string' ? b.name : undefined;
  const ours =
    name !== undefined && Object.hasOwn(settings.boundaries, name)
      ? settings.boundaries[name]
      : undefined;
  if (ours === undefined) {
    problems.add(
      'decision',
      `${P}.policy.boundary`,
      'boundary_changed',
      `boundary ${String(name)} is not in your trust`,
    );
    return;
  }
  const recorded = Array.isArray(b.regions) ? [...b.regions].sort() : b.regions;
  if (!same(recorded, [...ours].sort())) {
    problems.add(
      'decision',
      `${P}.policy.boundary.regions`,
      'boundary_changed',
      `boundary ${name} has regions ${
        ours.join(', ') || '(none)'
      } in your trust`,
    );
  }
}

/** Every other field of the tenant's policy, field by field. */
function checkPolicy(
  policy: EvidenceRecord['policy'],
  settings: ResidencySettings,
  problems: Problems,
): void {
  const tenant = typeof policy.tenant === 'string' ? policy.tenant : undefined;
  if (tenant !== undefined && !Object.hasOwn(settings.tenants, tenant)) {
    problems.add(
      'decision',
      `${P}.policy.tenant`,
      'policy_changed',
      `tenant ${tenant} is not configured`,
    );
    return;
  }
  const ours = policyOf(settings, tenant) as Record<string, unknown>;
  const recorded = policy as unknown as Record<string, unknown>;
  const fields = new Set([...Object.keys(ours), ...Object.keys(recorded)]);
  fields.delete('boundary');
  for (const f of [...fields].sort()) {
    if (!same(recorded[f], ours[f])) {
      problems.add(
        'decision',
        `${P}.policy.${f}`,
        'policy_changed',
        `the configured policy of tenant ${String(tenant)} has another ${f}`,
      );
    }
  }
}

/** Keyless identities (with `--trusted-keys`): each recorded one must be the auditor's. */
function checkIdentities(
  policy: EvidenceRecord['policy'],
  settings: ResidencySettings,
  problems: Problems,
): void {
  const recorded = Array.isArray(policy.identities) ? policy.identities : [];
  const ours = Object.values(settings.tenants).flatMap(t => t.identities ?? []);
  recorded.forEach((id, i) => {
    if (!ours.some(o => same(o, id))) {
      problems.add(
        'decision',
        `${P}.policy.identities[${i}]`,
        'policy_changed',
        'this keyless identity and region are not in your trust',
      );
    }
  });
}

/** Each recorded registry (or layout) is configured, in the same region. */
function checkRegistries(
  registries: EvidenceRecord['trust']['registries'],
  settings: ResidencySettings,
  problems: Problems,
): void {
  const ours = new Map<string, string>([
    ...settings.registries.map(r => [r.host, r.region] as [string, string]),
    ...(settings.layouts ?? []).map(
      l => [`oci:${l.path}`, l.region] as [string, string],
    ),
  ]);
  registries.forEach((r, i) => {
    const rp = `${P}.trust.registries[${i}]`;
    const region = isObject(r) ? ours.get(String(r.host)) : undefined;
    if (region === undefined) {
      problems.add(
        'trust',
        rp,
        'registry_not_configured',
        `registry ${isObject(r) ? String(r.host) : '?'} is not configured`,
      );
    } else if (region !== r.region) {
      problems.add(
        'trust',
        `${rp}.region`,
        'registry_changed',
        `the configured registry is in region ${region}`,
      );
    }
  });
}
