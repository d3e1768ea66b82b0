/*
 * The verification report: every check performed for an image (and an entity), in
 * order, with what was expected and found. decide.ts calls the small named
 * functions here at each step, so the decision code stays readable and the report
 * says what was proven, not only what failed.
 */
import { performance } from 'node:perf_hooks';
import {
  VERIFICATION_REPORT_SCHEMA,
  type CheckId,
  type EvidenceRecord,
  type ImageMaterial,
  type Reason,
  type VerificationCheck,
  type VerificationReport,
} from '@residency-dev/plugin-residency-common';
import type { Check, FailedStep } from './verify/types';

type Fields = Omit<VerificationCheck, 'id' | 'outcome'>;

/**
 * Checks of one material recorded as a description only: `expand` writes them into
 * the recorder it is given. The texts of a material's checks are built only when
 * the report's `checks` are first read (serialised, hashed, shown), not for every
 * decision whether or not anybody reads its report.
 */
interface Deferred {
  readonly expand: (rec: ReportRecorder) => void;
}

let eager = false;

/**
 * Writes deferred checks at once, as the recorder did before it deferred them: the
 * tests compare both ways over the same decisions. Not exported from the package.
 */
export function recordEagerly(on: boolean): void {
  eager = on;
}

/** Collects checks in the order they are performed. */
export class ReportRecorder {
  private readonly checks: (VerificationCheck | Deferred)[] = [];
  private deferred = false;
  private started = performance.now();

  /**
   * @param clock - false for a recorder whose checks all carry their own duration
   *   (the expansion of deferred checks): no clock read per check.
   */
  constructor(private readonly clock = true) {}

  /** Milliseconds (to the microsecond) from the last check's end to `at`. */
  private elapsedUntil(at: number): number {
    return Math.max(0, Math.round((at - this.started) * 1000) / 1000);
  }

  /** Starts timing the next check. */
  start(): void {
    this.started = performance.now();
  }

  /**
   * One check in one object: the same keys in the same order as
   * `{ id, outcome, why, ...shared, ...own, durationMs }` (`why` only when given),
   * without intermediate copies. `shared` is typically the material and trust anchor
   * of a signature, the same objects for all its checks.
   */
  private add(
    id: CheckId,
    outcome: VerificationCheck['outcome'],
    why: string | undefined,
    shared: Fields,
    own?: Fields,
  ): void {
    const given = own?.durationMs ?? shared.durationMs;
    const at = this.clock || given === undefined ? performance.now() : 0;
    const durationMs = given ?? this.elapsedUntil(at);
    let check: VerificationCheck;
    if (why === undefined)
      check = own
        ? { id, outcome, ...shared, ...own, durationMs }
        : { id, outcome, ...shared, durationMs };
    else
      check = own
        ? { id, outcome, why, ...shared, ...own, durationMs }
        : { id, outcome, why, ...shared, durationMs };
    this.checks.push(check);
    this.started = at;
  }

  pass(id: CheckId, f: Fields = {}, own?: Fields): void {
    this.add(id, 'pass', undefined, f, own);
  }

  fail(id: CheckId, why: Reason | undefined, f: Fields = {}): void {
    this.add(
      id,
      'fail',
      undefined,
      why ? { reason: why.code, found: f.found ?? why.message } : {},
      f,
    );
  }

  skip(id: CheckId, why: string, f: Fields = {}, own?: Fields): void {
    this.add(id, 'skipped', why, f, own);
  }

  notApplicable(id: CheckId, why: string, f: Fields = {}, own?: Fields): void {
    this.add(id, 'not_applicable', why, f, own);
  }

  /** Adds checks built elsewhere (material checks). */
  push(...checks: VerificationCheck[]): void {
    this.checks.push(...checks);
    this.started = performance.now();
  }

  /**
   * Checks written later by `expand`, at this place in the order, when the report's
   * `checks` are first read. `expand` must give every check its `durationMs` (no
   * clock is read then) and depend only on values that do not change afterwards
   * (the frozen policy and trust snapshot, the cached verifier results), so the
   * checks are the same as if written now.
   */
  defer(expand: (rec: ReportRecorder) => void): void {
    if (eager) {
      expand(this);
      return;
    }
    this.checks.push({ expand });
    this.deferred = true;
    this.started = performance.now();
  }

  /**
   * One deferred check timed now: `expand` receives the time since the previous
   * check (what `add` would have measured) and must record it as `durationMs`.
   */
  deferTimed(
    expand: (rec: ReportRecorder, durationMs: number | undefined) => void,
  ): void {
    if (eager) {
      // As before: the check reads the clock itself (no duration given).
      expand(this, undefined);
      return;
    }
    const at = performance.now();
    const durationMs = this.elapsedUntil(at);
    this.checks.push({ expand: rec => expand(rec, durationMs) });
    this.deferred = true;
    this.started = at;
  }

  report(): VerificationReport {
    if (!this.deferred)
      return {
        schema: VERIFICATION_REPORT_SCHEMA,
        checks: this.checks as VerificationCheck[],
      };
    return lazyReport(this.checks);
  }
}

/**
 * A report whose `checks` are expanded on first read, then kept as a plain data
 * property (so later reads and JSON.stringify see an ordinary array). A report
 * frozen before its first read keeps the accessor, which then returns the same
 * array on every read and refuses assignment like a frozen property.
 */
function lazyReport(
  entries: readonly (VerificationCheck | Deferred)[],
): VerificationReport {
  let expanded: VerificationCheck[] | undefined;
  const settle = (report: VerificationReport, checks: VerificationCheck[]) => {
    if (Object.getOwnPropertyDescriptor(report, 'checks')?.configurable)
      Object.defineProperty(report, 'checks', {
        value: checks,
        writable: true,
        enumerable: true,
        configurable: true,
      });
    else throw new TypeError('The report is frozen: its checks are read-only.');
  };
  return {
    schema: VERIFICATION_REPORT_SCHEMA,
    get checks(): VerificationCheck[] {
      if (!expanded) {
        expanded = expandChecks(entries);
        if (Object.getOwnPropertyDescriptor(this, 'checks')?.configurable)
          settle(this, expanded);
      }
      return expanded;
    },
    set checks(checks: VerificationCheck[]) {
      settle(this, checks);
    },
  };
}

function expandChecks(
  entries: readonly (VerificationCheck | Deferred)[],
): VerificationCheck[] {
  const out: VerificationCheck[] = [];
  for (const e of entries) {
    if ('expand' in e) {
      const sub = new ReportRecorder(false);
      e.expand(sub);
      // A sub-recorder defers nothing, so its report holds plain checks.
      for (const c of sub.report().checks) out.push(c);
    } else out.push(e);
  }
  return out;
}

const EARLIER_FAILED = 'an earlier check of this material failed';
const NOT_A_CERTIFICATE = 'signed with a pinned key, not a certificate';

const MATERIAL_LISTS = {
  simplesigning: 'simpleSignatures',
  dsse: 'envelopes',
  'sigstore-bundle': 'bundles',
} as const;

/** Where the material of a check sits in the record. */
export function materialRef(
  c: Check,
  index: number,
): NonNullable<VerificationCheck['material']> {
  return {
    role: c.role,
    format: c.format,
    source: c.source,
    index,
    path: `${MATERIAL_LISTS[c.format]}[${c.index}]`,
  };
}

/** Was the material certificate-signed (keyless), as the verifier decided? */
export function isKeyless(
  c: Check,
  material: ImageMaterial,
  trustedRoots: number,
): boolean {
  if (c.signer) return !!c.signer.identity;
  if (c.format === 'sigstore-bundle') {
    try {
      const doc = JSON.parse(material.bundles[c.index]?.bundle ?? '{}');
      return !doc?.verificationMaterial?.publicKey;
    } catch {
      return false;
    }
  }
  const m =
    c.format === 'simplesigning'
      ? material.simpleSignatures[c.index]
      : material.envelopes[c.index];
  return trustedRoots > 0 && !!m?.certificate && !keyVerified(c);
}

/** A key verified the signature (its failure, if any, came after). */
function keyVerified(c: Check): boolean {
  return !!c.signer?.key;
}

const stepOrders = new Map<string, readonly FailedStep[]>();

/** The order in which each verifier performs its steps (one array per kind, shared). */
function stepOrder(c: Check, keyless: boolean): readonly FailedStep[] {
  const isDsse = c.role === 'attestation' || !!c.statement;
  const k = `${c.format}|${keyless}|${isDsse}`;
  let order = stepOrders.get(k);
  if (!order) {
    order = Object.freeze(computeStepOrder(c, keyless));
    stepOrders.set(k, order);
  }
  return order;
}

function computeStepOrder(c: Check, keyless: boolean): FailedStep[] {
  const timeSteps: FailedStep[] = ['transparency_log', 'timestamp'];
  const certSteps: FailedStep[] = ['certificate_chain', 'identity'];
  if (c.format === 'simplesigning') {
    return [
      'material_parsed',
      'subject_digest',
      'signature_verified',
      ...(keyless ? certSteps : []),
      ...timeSteps,
      ...(keyless ? [] : (['key_validity'] as FailedStep[])),
    ];
  }
  if (c.format === 'dsse') {
    return keyless
      ? [
          'material_parsed',
          'signature_verified',
          'certificate_chain',
          ...timeSteps,
          'identity',
          'statement_parsed',
          'subject_digest',
        ]
      : [
          'material_parsed',
          'signature_verified',
          'statement_parsed',
          'subject_digest',
          ...timeSteps,
          'key_validity',
        ];
  }
  const isDsse = c.role === 'attestation' || !!c.statement;
  return [
    'material_parsed',
    ...(isDsse ? [] : (['subject_digest'] as FailedStep[])),
    'signature_verified',
    ...(keyless ? (['certificate_chain'] as FailedStep[]) : []),
    ...timeSteps,
    ...(keyless ? (['identity'] as FailedStep[]) : []),
    ...(isDsse ? (['statement_parsed', 'subject_digest'] as FailedStep[]) : []),
    ...(keyless ? [] : (['key_validity'] as FailedStep[])),
  ];
}

/** Inputs of the per-material checks. */
export interface MaterialCheckInput {
  check: Check;
  /** Index into the image's signatures or attestations. */
  index: number;
  keyless: boolean;
  digest: string;
  at: Date;
  policy: EvidenceRecord['policy'];
  keys: EvidenceRecord['trust']['keys'];
  trustedRoots: string[];
  /** Time the verifier took for this material. */
  durationMs: number;
  /** Its `materialRef`, when the caller already built it (shared by its checks). */
  material?: NonNullable<VerificationCheck['material']>;
}

function anchorOf(c: Check): VerificationCheck['trustAnchor'] {
  const s = c.signer;
  if (!s) return undefined;
  const log = s.times?.find(t => t.source === 'tlog');
  const tsa = s.times?.some(t => t.source === 'rfc3161');
  return {
    ...(s.key
      ? {
          key: {
            id: s.key.id,
            fingerprint: s.key.fingerprint,
            region: s.key.region,
          },
        }
      : {}),
    ...(s.identity
      ? {
          trustedRoot: s.identity.trustedRoot,
          identity: {
            subject: s.identity.subject,
            issuer: s.identity.issuer,
            region: s.identity.region,
          },
        }
      : {}),
    ...(log?.logId ? { logId: log.logId } : {}),
    ...(tsa ? { tsa: true } : {}),
  };
}

/** The trustworthy signed time of a verified check (earliest), if any. */
export function trustworthyTime(
  c: Check,
): { source: 'tlog' | 'rfc3161'; at: Date } | undefined {
  const times = c.signer?.times;
  if (!times || times.length === 0) return undefined;
  let earliest = times[0];
  for (const t of times) {
    if (t.at.getTime() < earliest.at.getTime()) earliest = t;
  }
  return earliest;
}

function describeIdentities(policy: EvidenceRecord['policy']): string {
  const ids = policy.identities ?? [];
  if (ids.length === 0) return 'a configured identity (none configured)';
  return ids
    .slice(0, 5)
    .map(
      i =>
        `subject ${i.subject ?? `~ ${i.subjectRegExp}`} from issuer ${
          i.issuer
        }`,
    )
    .join('; or ');
}

/** A subject digest (`{ sha256: hex }` or a string) as `alg:hex`. */
function digestText(d: unknown): string {
  if (typeof d === 'string') return d;
  if (d && typeof d === 'object')
    return Object.entries(d as Record<string, unknown>)
      .map(([alg, hex]) => `${alg}:${String(hex)}`)
      .join(' ');
  return String(d);
}

function describeDigestFound(error: Reason | undefined): string | undefined {
  const d = error?.details ?? {};
  if (typeof d.signedDigest === 'string') return `signed ${d.signedDigest}`;
  if (typeof d.messageDigest === 'string') return `signed ${d.messageDigest}`;
  if (Array.isArray(d.subjects))
    return `subjects ${d.subjects.map(digestText).join(', ')}`;
  return error?.message;
}

/** Expected and found of one verifier step that passed. */
function passed(step: FailedStep, m: MaterialCheckInput): Fields {
  const c = m.check;
  const s = c.signer;
  const t = trustworthyTime(c);
  switch (step) {
    case 'material_parsed':
      return { found: `a well-formed ${formatName(c)}` };
    case 'subject_digest':
      return { expected: m.digest, found: m.digest };
    case 'signature_verified':
      return {
        expected: m.keyless
          ? 'a signature by the key of the signing certificate'
          : `a signature by one of ${m.keys.length} configured key(s)`,
        found: s?.key
          ? `signed by ${s.key.id} (fingerprint ${s.key.fingerprint.slice(
              0,
              16,
            )}…)`
          : 'signed by the certificate key',
        durationMs: m.durationMs,
      };
    case 'certificate_chain':
      return {
        expected: `a chain to a configured trusted root (${m.trustedRoots.join(
          ', ',
        )})`,
        found: `chains to ${s?.identity?.trustedRoot}`,
      };
    case 'identity':
      return {
        expected: describeIdentities(m.policy),
        found: `subject ${s?.identity?.subject} from issuer ${s?.identity?.issuer}`,
      };
    case 'statement_parsed':
      return {
        found: `in-toto statement, predicate ${c.statement?.predicateType}`,
      };
    case 'key_validity': {
      const k = s?.key;
      const window =
        k?.validFrom || k?.validUntil
          ? `valid from ${k.validFrom ?? 'any time'} until ${
              k.validUntil ?? 'any time'
            }`
          : 'no validity window configured';
      return {
        expected: `${window}; not revoked`,
        found: `valid at ${(t?.at ?? m.at).toISOString()} (${
          t ? t.source : 'verification time'
        })`,
        time: {
          source: t ? t.source : 'verification_time',
          at: (t?.at ?? m.at).toISOString(),
        },
      };
    }
    default:
      return {};
  }
}

function formatName(c: Check): string {
  if (c.format === 'simplesigning') return 'cosign simple-signing signature';
  if (c.format === 'dsse') return 'DSSE envelope';
  return 'Sigstore bundle';
}

/** Transparency log and timestamp: verified times, or why the verification time is used. */
function timeChecks(
  step: 'transparency_log' | 'timestamp',
  m: MaterialCheckInput,
  rec: ReportRecorder,
  base: Fields,
): void {
  const times = m.check.signer?.times ?? [];
  if (step === 'transparency_log') {
    const log = times.find(t => t.source === 'tlog');
    if (log) {
      rec.pass(step, base, {
        expected: 'an entry verified by a configured transparency log',
        found: `entry in log ${
          log.logId?.slice(0, 16) ?? '?'
        }…, integrated ${log.at.toISOString()}`,
        time: { source: 'tlog', at: log.at.toISOString() },
      });
    } else if (m.keyless && times.length > 0) {
      rec.notApplicable(
        step,
        'the trusted root lists no transparency log; an RFC 3161 timestamp gives the time',
        base,
      );
    } else {
      rec.skip(
        step,
        m.keyless
          ? 'no transparency log entry was required by the trusted root'
          : 'no log entry that verifies with a configured transparency log; not required for a pinned key',
        base,
      );
    }
    return;
  }
  const t = trustworthyTime(m.check);
  if (t) {
    rec.pass(step, base, {
      expected:
        'a signed time from a verified log entry or RFC 3161 timestamp, not in the future',
      found: `${
        t.source === 'tlog' ? 'log integrated time' : 'RFC 3161 timestamp'
      } ${t.at.toISOString()}`,
      time: { source: t.source, at: t.at.toISOString() },
    });
  } else {
    rec.skip(
      step,
      'no trustworthy signed time: the verification time is used, so the age of this material cannot be proven',
      base,
      { time: { source: 'verification_time', at: m.at.toISOString() } },
    );
  }
}

/**
 * The verifier's steps for one signature or attestation: those before the step
 * that failed passed, the failed one carries its reason, the rest are skipped.
 */
export function recordVerifierSteps(
  m: MaterialCheckInput,
  rec: ReportRecorder,
): void {
  const c = m.check;
  const anchor = anchorOf(c);
  // Shared by every check of this material (the recorder copies the fields, not
  // the material reference and trust anchor objects).
  const material = m.material ?? materialRef(c, m.index);
  const f: Fields = anchor
    ? { material, trustAnchor: anchor, durationMs: 0 }
    : { material, durationMs: 0 };
  const order = stepOrder(c, m.keyless);
  const failedAt = c.verified ? undefined : c.failedAt ?? 'signature_verified';
  const failedIndex = failedAt ? order.indexOf(failedAt) : -1;
  for (let i = 0; i < order.length; i++) {
    const step = order[i];
    if (step === 'transparency_log' && !m.keyless) {
      rec.notApplicable('certificate_chain', NOT_A_CERTIFICATE, f);
      rec.notApplicable('identity', NOT_A_CERTIFICATE, f);
    }
    if (failedIndex !== -1 && i > failedIndex) {
      rec.skip(step, EARLIER_FAILED, f);
    } else if (i === failedIndex) {
      rec.fail(step, c.error, {
        ...f,
        ...failedFields(step, m),
        ...(step === 'signature_verified' ? { durationMs: m.durationMs } : {}),
      });
    } else if (step === 'transparency_log' || step === 'timestamp') {
      timeChecks(step, m, rec, f);
    } else {
      rec.pass(step, f, passed(step, m));
    }
  }
  if (m.keyless)
    rec.notApplicable(
      'key_validity',
      'a short-lived certificate: its validity at the signing time is checked with the chain',
      f,
    );
}

function failedFields(step: FailedStep, m: MaterialCheckInput): Fields {
  const e = m.check.error;
  const d = e?.details ?? {};
  switch (step) {
    case 'subject_digest':
      return { expected: m.digest, found: describeDigestFound(e) };
    case 'identity':
      return {
        expected: describeIdentities(m.policy),
        found:
          typeof d.subject === 'string'
            ? `subject ${d.subject} from issuer ${d.issuer}`
            : e?.message,
      };
    case 'signature_verified':
      return {
        expected: m.keyless
          ? 'a signature by the key of the signing certificate'
          : `a signature by one of ${m.keys.length} configured key(s)`,
      };
    case 'key_validity':
      return {
        expected: `a key in its validity window, not revoked`,
        ...(typeof d.time === 'string'
          ? {
              time: {
                source:
                  d.timeSource === 'trusted-timestamp'
                    ? trustworthyTime(m.check)?.source ?? 'tlog'
                    : 'verification_time',
                at: d.time,
              },
            }
          : {}),
      };
    default:
      return {};
  }
}

/** Checks that are not applicable to this material (e.g. predicate checks of a signature). */
export function notApplicable(
  rec: ReportRecorder,
  ids: CheckId[],
  why: string,
  material: VerificationCheck['material'],
): void {
  for (const id of ids) rec.notApplicable(id, why, { material, durationMs: 0 });
}

/** Checks skipped because the material already failed. */
export function skipped(
  rec: ReportRecorder,
  ids: CheckId[],
  material: VerificationCheck['material'],
): void {
  for (const id of ids)
    rec.skip(id, EARLIER_FAILED, { material, durationMs: 0 });
}

/** Duration strings of `maxAge`: `<n>s|m|h|d|w`, to seconds. */
export function parseDurationSeconds(text: string): number | undefined {
  const m = /^([1-9][0-9]{0,8})\s*([smhdw])$/.exec(text.trim());
  if (!m) return undefined;
  const unit = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[
    m[2] as 's' | 'm' | 'h' | 'd' | 'w'
  ];
  return Number(m[1]) * unit;
}

/** A duration in seconds in plain words (largest whole unit). */
export function describeSeconds(s: number): string {
  const units: [number, string][] = [
    [86400, 'd'],
    [3600, 'h'],
    [60, 'm'],
  ];
  for (const [n, u] of units) if (s >= n && s % n === 0) return `${s / n}${u}`;
  if (s >= 86400) return `${(s / 86400).toFixed(1)}d`;
  return `${Math.round(s)}s`;
}
