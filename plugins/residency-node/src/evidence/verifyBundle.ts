/*
 * Offline re-verification of an evidence bundle: a short function calling named
 * steps, each adding problems tagged with the check it belongs to.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import {
  EVIDENCE_BUNDLE_SCHEMA,
  EVIDENCE_RECORD_SCHEMA,
  isExceptionEventRecord,
  type EvidenceRecord,
} from '@residency-dev/plugin-residency-common';
import { exceptionEventProblems } from '../exception/events';
import type { BundleVerification, ResidencySettings } from '../api';
import { canonicalHash, canonicalJson, sha256Hex } from '../canonical';
import {
  describePublicKey,
  publicGoodTrustedRoot,
  regionFromKeyId,
} from '../config';
import { decideEntity, type DecisionContext } from '../decide';
import {
  checkAgainstAuditorTrust,
  type EvidenceTrustScope,
} from './auditorTrust';
import { chainLinkProblems } from './chain';
import { Problems } from './problems';
import { isObject } from '../verify/json';

/** Caps on what an evidence bundle may ask the verifier to check. @public */
export const EVIDENCE_CAPS = {
  images: 1000,
  keys: 64,
  itemsPerImage: 256,
} as const;

const P = 'evidence.record';
type TrustedRoots = NonNullable<ResidencySettings['trustedRoots']>;

/** Thrown by a step when nothing after it can be checked. */
class Stop extends Error {}

/**
 * Re-verifies an evidence bundle offline: the chain hash, the link to the previous
 * record, every key (PEM, fingerprint, region pinned by the id; and, with settings,
 * that the key is still configured the same way), every manifest digest, and the
 * decision recomputed from the record's own material, policy and trust. With
 * settings (the auditor's trust), the recorded policy and registries are compared
 * with them too (`scope`, default `configuration`). Each problem names the JSON path
 * of the field that does not verify and its check.
 *
 * An exception event record (`exception.approved`, `exception.applied`, ...) is
 * checked for its hash and chain link, then its signed exception statements:
 * against `exceptionKeys` (the auditor's `residency.exceptions.keys`; an empty
 * list is a problem), or without them against the key the record names.
 *
 * @public
 */
export function verifyEvidenceBundle(
  bundle: unknown,
  options?: {
    settings?: ResidencySettings;
    scope?: EvidenceTrustScope;
    /** Public keys trusted to sign exceptions. */
    exceptionKeys?: readonly KeyObject[];
  },
): BundleVerification {
  const problems = new Problems();
  try {
    const record = checkEnvelope(bundle, problems);
    checkChainLink(bundle as Record<string, unknown>, problems);
    if (isExceptionEventRecord(record)) {
      for (const p of exceptionEventProblems(record, {
        ...(options?.exceptionKeys
          ? { trustedKeys: options.exceptionKeys }
          : {}),
      })) {
        problems.add(p.check, p.path, p.code, p.message);
      }
      return finish(problems, undefined);
    }
    checkRecordShape(record, problems);
    checkCaps(record, problems);
    checkSnapshotHashes(record, problems);
    checkKeys(record, options?.settings, problems);
    if (options?.settings) {
      checkAgainstAuditorTrust(
        record,
        options.settings,
        options.scope ?? 'configuration',
        problems,
      );
    }
    const roots = resolveTrustedRoots(record, options?.settings, problems);
    checkManifests(record, problems);
    const decision = recomputeDecision(record, roots, problems);
    return finish(problems, decision);
  } catch (e) {
    if (!(e instanceof Stop)) {
      problems.add(
        'structure',
        'evidence',
        'malformed',
        `evidence could not be verified: ${
          (e as Error)?.message ?? 'malformed'
        }`,
      );
    }
    return { ok: false, problems: problems.list };
  }
}

function finish(
  problems: Problems,
  decision: BundleVerification['decision'],
): BundleVerification {
  const dedup = new Map(problems.list.map(p => [`${p.path}|${p.code}`, p]));
  const list = [...dedup.values()];
  return { ok: list.length === 0, decision, problems: list };
}

function checkEnvelope(bundle: unknown, problems: Problems): EvidenceRecord {
  if (!isObject(bundle)) {
    problems.add(
      'structure',
      '$',
      'malformed',
      'an evidence bundle must be a JSON object',
    );
    throw new Stop();
  }
  if (bundle.schema !== EVIDENCE_BUNDLE_SCHEMA) {
    problems.add(
      'structure',
      'schema',
      'schema_unknown',
      `schema must be ${EVIDENCE_BUNDLE_SCHEMA}`,
    );
  }
  const ev = bundle.evidence;
  if (!isObject(ev) || !isObject(ev.record)) {
    problems.add(
      'structure',
      'evidence',
      'malformed',
      'evidence.record is missing',
    );
    throw new Stop();
  }
  return ev.record as unknown as EvidenceRecord;
}

/** The link rules, and the bundle's own summary of the previous record. */
function checkChainLink(
  bundle: Record<string, unknown>,
  problems: Problems,
): void {
  const ev = bundle.evidence as Record<string, unknown>;
  for (const p of chainLinkProblems(
    {
      sequence: ev.sequence,
      previousHash: ev.previousHash,
      recordHash: ev.recordHash,
      record: ev.record,
    },
    undefined,
  )) {
    problems.add(p.check, p.path, p.code, p.message);
  }
  if (bundle.previous === undefined) return;
  const prev = bundle.previous;
  if (!isObject(prev)) {
    problems.add(
      'chain',
      'previous',
      'malformed',
      'previous must be an object',
    );
    return;
  }
  if (prev.recordHash !== ev.previousHash) {
    problems.add(
      'chain',
      'previous.recordHash',
      'chain_broken',
      'previous.recordHash does not match evidence.previousHash',
    );
  }
  if (prev.sequence !== (ev.sequence as number) - 1) {
    problems.add(
      'chain',
      'previous.sequence',
      'chain_broken',
      'previous.sequence is not evidence.sequence - 1',
    );
  }
}

function checkRecordShape(record: EvidenceRecord, problems: Problems): void {
  if (record.schema !== EVIDENCE_RECORD_SCHEMA) {
    problems.add(
      'structure',
      `${P}.schema`,
      'schema_unknown',
      `record schema must be ${EVIDENCE_RECORD_SCHEMA}`,
    );
  }
  if (
    !isObject(record.result) ||
    !isObject(record.trust) ||
    !isObject(record.policy) ||
    !Array.isArray(record.material)
  ) {
    problems.add(
      'decision',
      P,
      'malformed',
      'record must have result, trust, policy and material',
    );
    throw new Stop();
  }
  const result = record.result;
  const same: [string, unknown, unknown, string][] = [
    ['entityRef', record.entityRef, result.entityRef, 'result.entityRef'],
    ['createdAt', record.createdAt, result.checkedAt, 'result.checkedAt'],
    [
      'engineVersion',
      record.engineVersion,
      result.engineVersion,
      'result.engineVersion',
    ],
  ];
  for (const [field, a, b, other] of same) {
    if (a !== b) {
      problems.add(
        'decision',
        `${P}.${field}`,
        'inconsistent',
        `${field} differs from ${other}`,
      );
    }
  }
  if (
    !Array.isArray(record.trust.keys) ||
    !Array.isArray(record.trust.registries)
  ) {
    problems.add(
      'trust',
      `${P}.trust`,
      'malformed',
      'trust must list keys and registries',
    );
    throw new Stop();
  }
}

/** Caps before any crypto: a hostile bundle must not buy unbounded work. */
function checkCaps(record: EvidenceRecord, problems: Problems): void {
  if (record.material.length > EVIDENCE_CAPS.images) {
    problems.add(
      'material',
      `${P}.material`,
      'too_large',
      `more than ${EVIDENCE_CAPS.images} images`,
    );
    throw new Stop();
  }
  if (record.trust.keys.length > EVIDENCE_CAPS.keys) {
    problems.add(
      'trust',
      `${P}.trust.keys`,
      'too_large',
      `more than ${EVIDENCE_CAPS.keys} keys`,
    );
    throw new Stop();
  }
  for (const [i, m] of record.material.entries())
    checkMaterialEntry(m, i, problems);
}

function checkMaterialEntry(m: unknown, i: number, problems: Problems): void {
  const n = isObject(m)
    ? [m.simpleSignatures, m.envelopes, m.bundles].reduce(
        (acc: number, l) => acc + (Array.isArray(l) ? l.length : 0),
        0,
      )
    : 0;
  if (n > EVIDENCE_CAPS.itemsPerImage) {
    problems.add(
      'material',
      `${P}.material[${i}]`,
      'too_large',
      `more than ${EVIDENCE_CAPS.itemsPerImage} signatures, envelopes and bundles`,
    );
    throw new Stop();
  }
  if (
    isObject(m) &&
    (!Array.isArray(m.simpleSignatures) ||
      !Array.isArray(m.envelopes) ||
      !Array.isArray(m.bundles) ||
      typeof m.reference !== 'string')
  ) {
    problems.add(
      'material',
      `${P}.material[${i}]`,
      'malformed',
      'material needs reference, simpleSignatures, envelopes and bundles',
    );
    throw new Stop();
  }
}

/** Trust and policy snapshots are the ones the result was computed under. */
function checkSnapshotHashes(record: EvidenceRecord, problems: Problems): void {
  if (canonicalHash(record.trust) !== record.result.trustHash) {
    problems.add(
      'trust',
      `${P}.result.trustHash`,
      'hash_mismatch',
      'trust snapshot does not hash to result.trustHash',
    );
  }
  if (canonicalHash(record.policy) !== record.result.policyHash) {
    problems.add(
      'decision',
      `${P}.result.policyHash`,
      'hash_mismatch',
      'policy snapshot does not hash to result.policyHash',
    );
  }
}

/** Keys: PEM, fingerprint, region pinned by the id; still configured the same way? */
function checkKeys(
  record: EvidenceRecord,
  settings: ResidencySettings | undefined,
  problems: Problems,
): void {
  record.trust.keys.forEach((k, i) => {
    const kp = `${P}.trust.keys[${i}]`;
    if (!isObject(k)) {
      problems.add('trust', kp, 'malformed', 'key entry is not an object');
      return;
    }
    checkRecordedKey(k, kp, problems);
    if (settings) checkConfiguredKey(k, kp, settings, problems);
  });
}

function checkRecordedKey(
  k: EvidenceRecord['trust']['keys'][number],
  kp: string,
  problems: Problems,
): void {
  let fp: string | undefined;
  try {
    fp = describePublicKey(
      createPublicKey({ key: k.publicKeyPem, format: 'pem' }),
    ).fingerprint;
  } catch {
    problems.add(
      'trust',
      `${kp}.publicKeyPem`,
      'key_unreadable',
      'public key PEM does not parse',
    );
  }
  if (fp !== undefined && fp !== k.fingerprint) {
    problems.add(
      'trust',
      `${kp}.fingerprint`,
      'fingerprint_mismatch',
      'fingerprint is not the SHA-256 of the key',
    );
  }
  const pinned = typeof k.id === 'string' ? regionFromKeyId(k.id) : undefined;
  if (pinned?.pinned && pinned.region !== k.region) {
    problems.add(
      'trust',
      `${kp}.region`,
      'key_region_contradiction',
      `the key id pins region ${pinned.region}`,
    );
  }
}

function checkConfiguredKey(
  k: EvidenceRecord['trust']['keys'][number],
  kp: string,
  settings: ResidencySettings,
  problems: Problems,
): void {
  const conf = settings.keys.find(c => c.id === k.id);
  if (!conf) {
    problems.add(
      'trust',
      kp,
      'key_not_configured',
      `key ${String(k.id)} is no longer configured`,
    );
    return;
  }
  if (conf.fingerprint !== k.fingerprint) {
    problems.add(
      'trust',
      `${kp}.fingerprint`,
      'key_changed',
      'the configured key has another fingerprint',
    );
  }
  if (conf.region !== k.region) {
    problems.add(
      'trust',
      `${kp}.region`,
      'key_changed',
      'the configured key has another region',
    );
  }
  if (conf.revoked && !k.revoked) {
    problems.add(
      'trust',
      `${kp}.revoked`,
      'key_revoked',
      'the key has since been revoked',
    );
  }
}

/** Trusted roots for keyless material: from settings or the embedded public-good root. */
function resolveTrustedRoots(
  record: EvidenceRecord,
  settings: ResidencySettings | undefined,
  problems: Problems,
): TrustedRoots {
  const roots: TrustedRoots = [];
  (record.trust.trustedRoots ?? []).forEach((r, i) => {
    const root = trustedRootFor(r, settings);
    if (root) {
      roots.push(root);
      return;
    }
    problems.add(
      'trust',
      `${P}.trust.trustedRoots[${i}]`,
      'trusted_root_unavailable',
      `trusted root ${r.name} (${r.sha256}) is not available offline`,
    );
  });
  return roots;
}

function trustedRootFor(
  r: { name: string; sha256: string },
  settings: ResidencySettings | undefined,
): TrustedRoots[number] | undefined {
  const fromSettings = settings?.trustedRoots?.find(t => t.sha256 === r.sha256);
  // A root is the same root by content; its name is only the platform's label
  // (the auditor's copy may be named after its file), and the recomputed report
  // names roots as the record does.
  if (fromSettings) return { ...fromSettings, name: r.name };
  try {
    const pg = publicGoodTrustedRoot();
    if (sha256Hex(pg) === r.sha256) {
      return {
        name: r.name,
        sha256: r.sha256,
        json: JSON.parse(pg.toString('utf8')),
      };
    }
  } catch {
    // not available offline
  }
  return undefined;
}

/** Material: each manifest hashes to its digest. */
function checkManifests(record: EvidenceRecord, problems: Problems): void {
  record.material.forEach((m, i) => {
    if (!isObject(m)) {
      problems.add(
        'material',
        `${P}.material[${i}]`,
        'malformed',
        'material entry is not an object',
      );
      return;
    }
    if (m.manifest === undefined || m.digest === undefined) return;
    const bytes = Buffer.from(String(m.manifest), 'base64');
    const [alg, hex] = String(m.digest).split(':');
    const ours =
      alg === 'sha512'
        ? createHash('sha512').update(bytes).digest('hex')
        : sha256Hex(bytes);
    if (ours !== hex) {
      problems.add(
        'material',
        `${P}.material[${i}].manifest`,
        'digest_mismatch',
        'manifest bytes do not hash to the digest',
      );
    }
  });
}

/** Recomputes the decision from the material and names every difference. */
function recomputeDecision(
  record: EvidenceRecord,
  roots: TrustedRoots,
  problems: Problems,
): BundleVerification['decision'] {
  const result = record.result;
  const at = new Date(result.checkedAt);
  if (Number.isNaN(at.getTime())) {
    problems.add(
      'decision',
      `${P}.result.checkedAt`,
      'malformed',
      'checkedAt is not a date',
    );
    throw new Stop();
  }
  const traces: { signatures: string[]; attestations: string[] }[] = [];
  const recomputed = decideEntity({
    entityRef: record.entityRef,
    tenant: result.tenant,
    declaredRegion: result.declaredRegion,
    images: Array.isArray(record.images)
      ? record.images
      : record.material.map(m => m.reference),
    inputs: record.material.map(material => ({ material })),
    ctx: decisionContext(record, roots, at),
    traces,
  });
  const paths: string[] = [];
  diff(result, recomputed, `${P}.result`, paths);
  for (const path of paths) {
    problems.add(
      'decision',
      path,
      'decision_mismatch',
      'differs from the result recomputed from the material',
    );
    nameChangedMaterial(path, traces, problems);
  }
  return recomputed.decision;
}

function decisionContext(
  record: EvidenceRecord,
  roots: TrustedRoots,
  at: Date,
): DecisionContext {
  return {
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
    policyHash: record.result.policyHash,
    trustHash: record.result.trustHash,
  };
}

/** Names the material behind a signature/attestation result that changed. */
function nameChangedMaterial(
  path: string,
  traces: { signatures: string[]; attestations: string[] }[],
  problems: Problems,
): void {
  const m =
    /^evidence\.record\.result\.images\[(\d+)\]\.(signatures|attestations)\[(\d+)\]/.exec(
      path,
    );
  if (!m) return;
  const t =
    traces[Number(m[1])]?.[m[2] as 'signatures' | 'attestations']?.[
      Number(m[3])
    ];
  if (t) {
    problems.add(
      'material',
      `${P}.material[${m[1]}].${t}`,
      'material_mismatch',
      'this material no longer verifies as recorded',
    );
  }
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
  if (isObject(recorded) && isObject(recomputed)) {
    const keys = new Set([
      ...Object.keys(recorded),
      ...Object.keys(recomputed),
    ]);
    for (const k of [...keys].sort()) {
      if (recorded[k] === undefined && recomputed[k] === undefined) continue;
      if (isUnrecordedReport(k, recorded) || isReportDuration(k, path))
        continue;
      diff(recorded[k], recomputed[k], `${path}.${k}`, out, cap);
    }
    return;
  }
  if (canonicalJsonSafe(recorded) !== canonicalJsonSafe(recomputed))
    out.push(path);
}

/**
 * The verification report is compared check by check, except for wall-clock
 * durations; a record written before reports existed has none, and still verifies.
 */
function isUnrecordedReport(
  key: string,
  recorded: Record<string, unknown>,
): boolean {
  return key === 'report' && recorded.report === undefined;
}

function isReportDuration(key: string, path: string): boolean {
  return key === 'durationMs' && /\.report\.checks\[\d+\]$/.test(path);
}

function canonicalJsonSafe(v: unknown): string {
  try {
    return canonicalJson(v ?? null);
  } catch {
    return '\u0000unrepresentable';
  }
}
