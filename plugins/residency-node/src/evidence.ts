/*
 * Evidence: the policy and trust snapshots hashed into every result, the hash
 * chain over records, and offline re-verification of an evidence bundle.
 */
import { createHash, createPublicKey } from 'node:crypto';
import {
  EVIDENCE_BUNDLE_SCHEMA,
  EVIDENCE_RECORD_SCHEMA,
  type ChainedEvidence,
  type EvidenceRecord,
  type KeyInfo,
} from '@residency-dev/plugin-residency-common';
import type { BundleVerification, ResidencySettings } from './api';
import { canonicalHash, canonicalJson, sha256Hex } from './canonical';
import {
  describePublicKey,
  publicGoodTrustedRoot,
  regionFromKeyId,
} from './config';
import { decideEntity, type DecisionContext } from './decide';

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

/* ------------------------- offline re-verification ------------------------- */

/** Caps on what an evidence bundle may ask the verifier to check. @public */
export const EVIDENCE_CAPS = {
  images: 1000,
  keys: 64,
  itemsPerImage: 256,
} as const;

type Problem = BundleVerification['problems'][number];

function isObj(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** Deep comparison naming the JSON path of each difference (capped). */
function diff(
  recorded: unknown,
  recomputed: unknown,
  path: string,
  out: string[],
  cap = 40,
): void {
  if (out.length >= cap) return;
  if (Array.isArray(recorded) && Array.isArray(recomputed)) {
    if (recorded.length !== recomputed.length) {
      out.push(path);
      return;
    }
    recorded.forEach((v, i) =>
      diff(v, recomputed[i], `${path}[${i}]`, out, cap),
    );
    return;
  }
  if (isObj(recorded) && isObj(recomputed)) {
    const keys = new Set([
      ...Object.keys(recorded),
      ...Object.keys(recomputed),
    ]);
    for (const k of [...keys].sort()) {
      if (recorded[k] === undefined && recomputed[k] === undefined) continue;
      diff(recorded[k], recomputed[k], `${path}.${k}`, out, cap);
    }
    return;
  }
  if (canonicalJsonSafe(recorded) !== canonicalJsonSafe(recomputed))
    out.push(path);
}

function canonicalJsonSafe(v: unknown): string {
  try {
    return canonicalJson(v ?? null);
  } catch {
    return '\u0000unrepresentable';
  }
}

/**
 * Re-verifies an evidence bundle offline: the chain hash, the link to the previous
 * record, every key (PEM, fingerprint, region pinned by the id; and, with settings,
 * that the key is still configured the same way), every manifest digest, and the
 * decision recomputed from the record's own material, policy and trust. Each
 * problem names the JSON path of the field that does not verify.
 *
 * @public
 */
export function verifyEvidenceBundle(
  bundle: unknown,
  options?: { settings?: ResidencySettings },
): BundleVerification {
  const problems: Problem[] = [];
  const add = (path: string, code: string, message: string) => {
    if (problems.length < 200) problems.push({ path, code, message });
  };
  try {
    return verifyInner(bundle, options?.settings, add, problems);
  } catch (e) {
    add(
      'evidence',
      'malformed',
      `evidence could not be verified: ${(e as Error)?.message ?? 'malformed'}`,
    );
    return { ok: false, problems };
  }
}

function verifyInner(
  bundle: unknown,
  settings: ResidencySettings | undefined,
  add: (path: string, code: string, message: string) => void,
  problems: Problem[],
): BundleVerification {
  if (!isObj(bundle)) {
    add('$', 'malformed', 'an evidence bundle must be a JSON object');
    return { ok: false, problems };
  }
  if (bundle.schema !== EVIDENCE_BUNDLE_SCHEMA)
    add('schema', 'schema_unknown', `schema must be ${EVIDENCE_BUNDLE_SCHEMA}`);
  const ev = bundle.evidence;
  if (!isObj(ev) || !isObj(ev.record)) {
    add('evidence', 'malformed', 'evidence.record is missing');
    return { ok: false, problems };
  }
  const record = ev.record as unknown as EvidenceRecord;
  const P = 'evidence.record';
  if (!Number.isInteger(ev.sequence) || (ev.sequence as number) < 1)
    add(
      'evidence.sequence',
      'malformed',
      'sequence must be a positive integer',
    );
  if (
    !(
      ev.previousHash === null ||
      (typeof ev.previousHash === 'string' &&
        /^[0-9a-f]{64}$/.test(ev.previousHash))
    )
  ) {
    add(
      'evidence.previousHash',
      'malformed',
      'previousHash must be null or a SHA-256 hex digest',
    );
  }
  if (ev.sequence === 1 && ev.previousHash !== null)
    add(
      'evidence.previousHash',
      'chain_broken',
      'the first record has no previous hash',
    );
  if (
    typeof ev.sequence === 'number' &&
    ev.sequence > 1 &&
    ev.previousHash === null
  )
    add(
      'evidence.previousHash',
      'chain_broken',
      'a later record must link to its predecessor',
    );

  // 1. The hash of the chain link.
  let recomputedHash: string | undefined;
  try {
    recomputedHash = recordHashOf(
      ev.sequence as number,
      (ev.previousHash ?? null) as string | null,
      record,
    );
  } catch {
    add(`${P}`, 'malformed', 'record is not representable as canonical JSON');
  }
  if (recomputedHash !== undefined && recomputedHash !== ev.recordHash) {
    add(
      'evidence.recordHash',
      'hash_mismatch',
      'recordHash is not the SHA-256 of canonical {sequence, previousHash, record}',
    );
  }
  if (bundle.previous !== undefined) {
    const prev = bundle.previous;
    if (!isObj(prev))
      add('previous', 'malformed', 'previous must be an object');
    else {
      if (prev.recordHash !== ev.previousHash)
        add(
          'previous.recordHash',
          'chain_broken',
          'previous.recordHash does not match evidence.previousHash',
        );
      if (prev.sequence !== (ev.sequence as number) - 1)
        add(
          'previous.sequence',
          'chain_broken',
          'previous.sequence is not evidence.sequence - 1',
        );
    }
  }

  // 2. Shape of the record.
  if (record.schema !== EVIDENCE_RECORD_SCHEMA)
    add(
      `${P}.schema`,
      'schema_unknown',
      `record schema must be ${EVIDENCE_RECORD_SCHEMA}`,
    );
  if (
    !isObj(record.result) ||
    !isObj(record.trust) ||
    !isObj(record.policy) ||
    !Array.isArray(record.material)
  ) {
    add(P, 'malformed', 'record must have result, trust, policy and material');
    return { ok: false, problems };
  }
  const result = record.result;
  if (result.entityRef !== record.entityRef)
    add(
      `${P}.entityRef`,
      'inconsistent',
      'entityRef differs from result.entityRef',
    );
  if (record.createdAt !== result.checkedAt)
    add(
      `${P}.createdAt`,
      'inconsistent',
      'createdAt differs from result.checkedAt',
    );
  if (record.engineVersion !== result.engineVersion)
    add(
      `${P}.engineVersion`,
      'inconsistent',
      'engineVersion differs from result.engineVersion',
    );
  if (
    !Array.isArray(record.trust.keys) ||
    !Array.isArray(record.trust.registries)
  ) {
    add(`${P}.trust`, 'malformed', 'trust must list keys and registries');
    return { ok: false, problems };
  }

  // Caps before any crypto: a hostile bundle must not buy unbounded work.
  if (record.material.length > EVIDENCE_CAPS.images) {
    add(
      `${P}.material`,
      'too_large',
      `more than ${EVIDENCE_CAPS.images} images`,
    );
    return { ok: false, problems };
  }
  if (record.trust.keys.length > EVIDENCE_CAPS.keys) {
    add(`${P}.trust.keys`, 'too_large', `more than ${EVIDENCE_CAPS.keys} keys`);
    return { ok: false, problems };
  }
  for (const [i, m] of record.material.entries()) {
    const n = isObj(m)
      ? [m.simpleSignatures, m.envelopes, m.bundles].reduce(
          (acc: number, l) => acc + (Array.isArray(l) ? l.length : 0),
          0,
        )
      : 0;
    if (n > EVIDENCE_CAPS.itemsPerImage) {
      add(
        `${P}.material[${i}]`,
        'too_large',
        `more than ${EVIDENCE_CAPS.itemsPerImage} signatures, envelopes and bundles`,
      );
      return { ok: false, problems };
    }
    if (
      isObj(m) &&
      (!Array.isArray(m.simpleSignatures) ||
        !Array.isArray(m.envelopes) ||
        !Array.isArray(m.bundles) ||
        typeof m.reference !== 'string')
    ) {
      add(
        `${P}.material[${i}]`,
        'malformed',
        'material needs reference, simpleSignatures, envelopes and bundles',
      );
      return { ok: false, problems };
    }
  }

  // 3. Trust and policy snapshots are the ones the result was computed under.
  if (canonicalHash(record.trust) !== result.trustHash)
    add(
      `${P}.result.trustHash`,
      'hash_mismatch',
      'trust snapshot does not hash to result.trustHash',
    );
  if (canonicalHash(record.policy) !== result.policyHash)
    add(
      `${P}.result.policyHash`,
      'hash_mismatch',
      'policy snapshot does not hash to result.policyHash',
    );

  // 4. Keys: PEM, fingerprint, region pinned by the id; still configured?
  record.trust.keys.forEach((k, i) => {
    const kp = `${P}.trust.keys[${i}]`;
    if (!isObj(k)) {
      add(kp, 'malformed', 'key entry is not an object');
      return;
    }
    let fp: string | undefined;
    try {
      fp = describePublicKey(
        createPublicKey({ key: k.publicKeyPem, format: 'pem' }),
      ).fingerprint;
    } catch {
      add(
        `${kp}.publicKeyPem`,
        'key_unreadable',
        'public key PEM does not parse',
      );
    }
    if (fp !== undefined && fp !== k.fingerprint)
      add(
        `${kp}.fingerprint`,
        'fingerprint_mismatch',
        'fingerprint is not the SHA-256 of the key',
      );
    const pinned = typeof k.id === 'string' ? regionFromKeyId(k.id) : undefined;
    if (pinned?.pinned && pinned.region !== k.region)
      add(
        `${kp}.region`,
        'key_region_contradiction',
        `the key id pins region ${pinned.region}`,
      );
    if (settings) {
      const conf = settings.keys.find(c => c.id === k.id);
      if (!conf)
        add(
          kp,
          'key_not_configured',
          `key ${String(k.id)} is no longer configured`,
        );
      else {
        if (conf.fingerprint !== k.fingerprint)
          add(
            `${kp}.fingerprint`,
            'key_changed',
            'the configured key has another fingerprint',
          );
        if (conf.region !== k.region)
          add(
            `${kp}.region`,
            'key_changed',
            'the configured key has another region',
          );
        if (conf.revoked && !k.revoked)
          add(`${kp}.revoked`, 'key_revoked', 'the key has since been revoked');
      }
    }
  });

  // 5. Trusted roots for keyless material: from settings or the embedded public-good root.
  const roots: NonNullable<ResidencySettings['trustedRoots']> = [];
  (record.trust.trustedRoots ?? []).forEach((r, i) => {
    const fromSettings = settings?.trustedRoots?.find(
      t => t.sha256 === r.sha256,
    );
    if (fromSettings) {
      roots.push(fromSettings);
      return;
    }
    try {
      const pg = publicGoodTrustedRoot();
      if (sha256Hex(pg) === r.sha256) {
        roots.push({
          name: r.name,
          sha256: r.sha256,
          json: JSON.parse(pg.toString('utf8')),
        });
        return;
      }
    } catch {
      // fall through
    }
    add(
      `${P}.trust.trustedRoots[${i}]`,
      'trusted_root_unavailable',
      `trusted root ${r.name} (${r.sha256}) is not available offline`,
    );
  });

  // 6. Material: each manifest hashes to its digest.
  record.material.forEach((m, i) => {
    if (!isObj(m)) {
      add(
        `${P}.material[${i}]`,
        'malformed',
        'material entry is not an object',
      );
      return;
    }
    if (m.manifest !== undefined && m.digest !== undefined) {
      const bytes = Buffer.from(String(m.manifest), 'base64');
      const [alg, hex] = String(m.digest).split(':');
      const ours =
        alg === 'sha512'
          ? createHash('sha512').update(bytes).digest('hex')
          : sha256Hex(bytes);
      if (ours !== hex)
        add(
          `${P}.material[${i}].manifest`,
          'digest_mismatch',
          'manifest bytes do not hash to the digest',
        );
    }
  });

  // 7. Recompute the decision from the material and compare.
  const at = new Date(result.checkedAt);
  if (Number.isNaN(at.getTime())) {
    add(`${P}.result.checkedAt`, 'malformed', 'checkedAt is not a date');
    return { ok: false, problems };
  }
  const ctx: DecisionContext = {
    policy: record.policy,
    trust: record.trust,
    trustedRoots: roots,
    tenantKnown: record.policy.boundary !== undefined,
    limits: {
      imagesPerEntity:
        record.policy.limits?.imagesPerEntity ?? Number.MAX_SAFE_INTEGER,
      concurrencyPerRegistry: 1,
    },
    at,
    engineVersion: record.engineVersion,
    policyHash: result.policyHash,
    trustHash: result.trustHash,
  };
  const traces: { signatures: string[]; attestations: string[] }[] = [];
  const images = Array.isArray(record.images)
    ? record.images
    : record.material.map(m => m.reference);
  const recomputed = decideEntity({
    entityRef: record.entityRef,
    tenant: result.tenant,
    declaredRegion: result.declaredRegion,
    images,
    inputs: record.material.map(material => ({ material })),
    ctx,
    traces,
  });
  const paths: string[] = [];
  diff(result, recomputed, `${P}.result`, paths);
  for (const path of paths) {
    add(
      path,
      'decision_mismatch',
      'differs from the result recomputed from the material',
    );
    // name the material behind a signature/attestation result that changed
    const m =
      /^evidence\.record\.result\.images\[(\d+)\]\.(signatures|attestations)\[(\d+)\]/.exec(
        path,
      );
    if (m) {
      const t =
        traces[Number(m[1])]?.[m[2] as 'signatures' | 'attestations']?.[
          Number(m[3])
        ];
      if (t)
        add(
          `${P}.material[${m[1]}].${t}`,
          'material_mismatch',
          'this material no longer verifies as recorded',
        );
    }
  }
  const dedup = new Map(problems.map(p => [`${p.path}|${p.code}`, p]));
  const finalProblems = [...dedup.values()];
  return {
    ok: finalProblems.length === 0,
    decision: recomputed.decision,
    problems: finalProblems,
  };
}
