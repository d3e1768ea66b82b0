/*
 * Exception events in an entity's evidence chain: building them (the backend) and
 * checking one offline (`verify-evidence`). An approval carries the signed
 * statement; `exception.applied` (the entity became resident by exception, or
 * other exceptions took over) carries the statements of every waiver it relies on. The checks: each statement is
 * signed by a trusted key, agrees with the record, its window contains the
 * record's time, and it covers the waived digests and codes.
 */
import type { KeyObject } from 'node:crypto';
import {
  EXCEPTION_EVENT_KINDS,
  EXCEPTION_EVENT_SCHEMA,
  type ExceptionEventKind,
  type ExceptionEventRecord,
  type ExceptionStatementEvidence,
  type ExceptionVerdict,
  type ResidencyException,
} from '@residency-dev/plugin-residency-common';
import { describePublicKey } from '../config';
import { exceptionKeyFromPem, checkException } from './verify';
import type { ExceptionPredicate } from './statement';
import type {
  EvidenceProblem,
  EvidenceProblemCode,
} from '../evidence/problems';
import { isObject } from '../verify/json';

/**
 * Builds an exception event record for the entity's evidence chain.
 *
 * @public
 */
export function buildExceptionEventRecord(options: {
  kind: ExceptionEventKind;
  actor: string;
  at: string;
  decisionEvidenceId: string | null;
  /** The exception (every kind but `exception.applied`). */
  exception?: ResidencyException;
  /** `exception.approved`: the signed statement. */
  statement?: ExceptionStatementEvidence;
  /** `exception.applied`: the verdict and the statements it relies on. */
  verdict?: ExceptionVerdict;
  statements?: ExceptionStatementEvidence[];
  entityRef: string;
}): ExceptionEventRecord {
  const e = options.exception;
  return {
    schema: EXCEPTION_EVENT_SCHEMA,
    kind: options.kind,
    entityRef: options.entityRef,
    actor: options.actor,
    at: options.at,
    decisionEvidenceId: options.decisionEvidenceId,
    ...(e
      ? {
          exception: {
            id: e.id,
            reasonCodes: [...e.reasonCodes],
            digests: [...e.digests],
            reference: e.reference,
            requestedBy: e.requestedBy,
            expiresAt: e.expiresAt,
            ...(e.comment ? { comment: e.comment } : {}),
          },
        }
      : {}),
    ...(options.statement ? { statement: options.statement } : {}),
    ...(options.verdict ? { verdict: options.verdict } : {}),
    ...(options.statements ? { statements: options.statements } : {}),
  };
}

const P = 'evidence.record';
const MAX_STATEMENTS = 64;

class EventProblems {
  readonly list: EvidenceProblem[] = [];
  add(path: string, code: EvidenceProblemCode, message: string) {
    this.list.push({ path, code, message, check: 'exception' });
  }
}

/**
 * The keys a statement is checked against: the auditor's (`trustedKeys`), or,
 * without them, the key the record itself names (its fingerprint recomputed):
 * internal consistency only, as for decision records without `--config`.
 */
function keysFor(
  s: Record<string, unknown>,
  path: string,
  trustedKeys: readonly KeyObject[] | undefined,
  problems: EventProblems,
): readonly KeyObject[] | undefined {
  if (trustedKeys) {
    if (trustedKeys.length === 0) {
      problems.add(
        path,
        'exception_key_not_configured',
        'no exception key is configured (residency.exceptions.keys): the signed exception cannot be checked against your trust',
      );
      return undefined;
    }
    return trustedKeys;
  }
  if (typeof s.publicKeyPem !== 'string') {
    problems.add(`${path}.publicKeyPem`, 'malformed', 'must be a PEM string');
    return undefined;
  }
  let key: KeyObject;
  try {
    key = exceptionKeyFromPem(s.publicKeyPem);
  } catch {
    problems.add(
      `${path}.publicKeyPem`,
      'key_unreadable',
      'not a PEM public key',
    );
    return undefined;
  }
  if (describePublicKey(key).fingerprint !== s.keyFingerprint) {
    problems.add(
      `${path}.keyFingerprint`,
      'fingerprint_mismatch',
      'keyFingerprint is not the SHA-256 fingerprint of publicKeyPem',
    );
    return undefined;
  }
  return [key];
}

const CHECK_CODE: Record<string, EvidenceProblemCode> = {
  exception_malformed: 'malformed',
  exception_signature_invalid: 'exception_signature_invalid',
  exception_not_yet_valid: 'exception_outside_window',
  exception_expired: 'exception_outside_window',
  exception_digest_not_covered: 'exception_not_covered',
  exception_codes_not_covered: 'exception_not_covered',
};

/**
 * One signed statement at the record's time: signature, then window (the
 * approval may not be later than the record, nor the expiry earlier).
 */
function checkStatement(
  s: unknown,
  path: string,
  at: Date,
  trustedKeys: readonly KeyObject[] | undefined,
  problems: EventProblems,
): ExceptionPredicate | undefined {
  if (!isObject(s) || typeof s.envelope !== 'string') {
    problems.add(path, 'malformed', 'must hold the envelope (DSSE JSON text)');
    return undefined;
  }
  const keys = keysFor(s, path, trustedKeys, problems);
  if (!keys) return undefined;
  const check = checkException({ envelope: s.envelope, keys, now: at });
  if (!check.ok) {
    const code = CHECK_CODE[check.code] ?? 'malformed';
    // Name the statement's own code where the problem code is broader.
    const message =
      code === check.code ? check.message : `${check.code}: ${check.message}`;
    problems.add(
      `${path}.envelope`,
      code,
      code === 'exception_outside_window'
        ? `${message} (the record's time is ${at.toISOString()})`
        : message,
    );
    return undefined;
  }
  const p = check.predicate!;
  if (Date.parse(p.approvedAt) > at.getTime()) {
    problems.add(
      `${path}.envelope`,
      'exception_outside_window',
      `exception_not_yet_valid: approved at ${
        p.approvedAt
      }, after the record's time ${at.toISOString()}`,
    );
    return undefined;
  }
  return p;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every(x => b.includes(x));
}

/** The approval: its statement says exactly what the record says. */
function checkApproval(
  record: Record<string, unknown>,
  at: Date,
  keys: readonly KeyObject[] | undefined,
  problems: EventProblems,
) {
  const p = checkStatement(
    record.statement,
    `${P}.statement`,
    at,
    keys,
    problems,
  );
  const e = record.exception as Record<string, unknown>;
  if (!p || !isObject(e)) return;
  const differs: string[] = [];
  if (p.exceptionId !== e.id) differs.push('exception id');
  if (p.entity !== record.entityRef) differs.push('entity');
  if (p.approver !== record.actor) differs.push('approver');
  if (p.requester !== e.requestedBy) differs.push('requester');
  if (p.expiresAt !== e.expiresAt) differs.push('expiry');
  if (!Array.isArray(e.digests) || !sameSet(p.digests, e.digests as string[]))
    differs.push('digests');
  if (
    !Array.isArray(e.reasonCodes) ||
    !sameSet(p.waivedReasonCodes, e.reasonCodes as string[])
  )
    differs.push('reason codes');
  if (differs.length > 0) {
    problems.add(
      `${P}.statement.envelope`,
      'exception_mismatch',
      `the signed exception differs from the record in: ${differs.join(', ')}`,
    );
  }
}

/** Resident by exception: every waiver is backed by a valid, covering statement. */
function checkApplied(
  record: Record<string, unknown>,
  at: Date,
  keys: readonly KeyObject[] | undefined,
  problems: EventProblems,
) {
  const verdict = record.verdict as Record<string, unknown> | undefined;
  const statements = record.statements;
  if (
    !isObject(verdict) ||
    verdict.state !== 'resident_by_exception' ||
    !Array.isArray(verdict.waived) ||
    verdict.waived.length === 0 ||
    !Array.isArray(statements) ||
    statements.length > MAX_STATEMENTS
  ) {
    problems.add(
      P,
      'malformed',
      `exception.applied needs verdict.state resident_by_exception with waivers, and at most ${MAX_STATEMENTS} statements`,
    );
    return;
  }
  const valid = new Map<string, ExceptionPredicate>();
  statements.forEach((s, i) => {
    const p = checkStatement(s, `${P}.statements[${i}]`, at, keys, problems);
    if (!p) return;
    if (p.entity !== record.entityRef) {
      problems.add(
        `${P}.statements[${i}].envelope`,
        'exception_not_covered',
        `the exception is for ${p.entity}, not ${String(record.entityRef)}`,
      );
      return;
    }
    valid.set(p.exceptionId, p);
  });
  verdict.waived.slice(0, MAX_STATEMENTS * 8).forEach((w: unknown, i) => {
    const path = `${P}.verdict.waived[${i}]`;
    if (!isObject(w) || !Array.isArray(w.reasonCodes)) {
      problems.add(
        path,
        'malformed',
        'a waiver needs exceptionId, digest and reasonCodes',
      );
      return;
    }
    const p = valid.get(String(w.exceptionId));
    if (!p) {
      problems.add(
        path,
        'exception_not_covered',
        `no valid signed exception ${String(
          w.exceptionId,
        )} in the record backs this waiver`,
      );
      return;
    }
    if (!p.digests.includes(String(w.digest))) {
      problems.add(
        `${path}.digest`,
        'exception_not_covered',
        `exception ${p.exceptionId} does not cover ${String(w.digest)}`,
      );
    }
    const missing = (w.reasonCodes as unknown[]).filter(
      c => !p.waivedReasonCodes.includes(String(c)),
    );
    if (missing.length > 0) {
      problems.add(
        `${path}.reasonCodes`,
        'exception_not_covered',
        `exception ${p.exceptionId} does not waive ${missing.join(', ')}`,
      );
    }
  });
}

/** An expiry is recorded at or after the end of the window. */
function checkExpiry(
  record: Record<string, unknown>,
  at: Date,
  problems: EventProblems,
) {
  const e = record.exception as Record<string, unknown>;
  const end = Date.parse(String(e.expiresAt));
  if (!Number.isFinite(end) || at.getTime() < end) {
    problems.add(
      `${P}.at`,
      'exception_outside_window',
      `an expiry recorded at ${at.toISOString()}, before the exception's end ${String(
        e.expiresAt,
      )}`,
    );
  }
}

/**
 * Checks an exception event record offline. `trustedKeys`: the auditor's exception
 * keys (an empty list: none configured, a problem); undefined: the key each record
 * names is used (internal consistency only).
 *
 * @public
 */
export function exceptionEventProblems(
  record: unknown,
  options?: { trustedKeys?: readonly KeyObject[] },
): EvidenceProblem[] {
  const problems = new EventProblems();
  if (!isObject(record)) {
    problems.add(P, 'malformed', 'the record must be an object');
    return problems.list;
  }
  const kind = record.kind as ExceptionEventKind;
  const at = new Date(typeof record.at === 'string' ? record.at : NaN);
  if (!EXCEPTION_EVENT_KINDS.includes(kind))
    problems.add(
      `${P}.kind`,
      'malformed',
      `unknown exception event ${String(kind)}`,
    );
  if (typeof record.entityRef !== 'string' || typeof record.actor !== 'string')
    problems.add(P, 'malformed', 'entityRef and actor must be strings');
  if (!Number.isFinite(at.getTime()))
    problems.add(`${P}.at`, 'malformed', 'at must be an RFC 3339 time');
  const e = record.exception;
  if (
    kind !== 'exception.applied' &&
    (!isObject(e) ||
      typeof e.id !== 'string' ||
      !Array.isArray(e.digests) ||
      !Array.isArray(e.reasonCodes) ||
      typeof e.expiresAt !== 'string')
  )
    problems.add(
      `${P}.exception`,
      'malformed',
      'the exception is missing or malformed',
    );
  if (problems.list.length > 0) return problems.list;
  const keys = options?.trustedKeys;
  if (kind === 'exception.approved') checkApproval(record, at, keys, problems);
  else if (kind === 'exception.applied')
    checkApplied(record, at, keys, problems);
  else if (kind === 'exception.expired') checkExpiry(record, at, problems);
  return problems.list;
}
