/*
 * `--exception <file>`: an exported exception (the DSSE envelope, or the portal's
 * exception JSON with its `envelope`) is honoured only when signed by a key in
 * `residency.exceptions.keys`, inside its window, and covering the failing digests
 * and codes. Anything else is reported and ignored: the decision stands.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { KeyObject } from 'node:crypto';
import {
  applyExceptions,
  type EntityResult,
  type ExceptionVerdict,
  type ResidencyException,
} from '@residency-dev/plugin-residency-common';
import {
  checkException,
  exceptionKeyFromPem,
  type ExceptionCheck,
} from '@residency-dev/plugin-residency-node';
import { CliError, errorMessage } from '../errors';
import type { LoadedConfig } from '../config/loadConfig';

const MAX_FILE_BYTES = 1024 * 1024;

/**
 * The public keys exceptions must be signed by (`residency.exceptions.keys`), read
 * from a configuration (or an auditor's trusted-keys file, in the same form).
 */
export function exceptionKeys(
  loaded: Pick<LoadedConfig, 'config' | 'baseDir'>,
): KeyObject[] {
  const ex = loaded.config.getOptionalConfig('residency.exceptions');
  const entries = ex?.getOptionalConfigArray('keys') ?? [];
  return entries.map((k, i) => {
    const where = `residency.exceptions.keys[${i}]`;
    let pem = k.getOptionalString('publicKey');
    const file = k.getOptionalString('publicKeyFile');
    if (!pem && file) {
      const path = isAbsolute(file) ? file : resolve(loaded.baseDir, file);
      try {
        pem = readFileSync(path, 'utf8');
      } catch (e) {
        throw new CliError(
          `cannot read ${where}.publicKeyFile: ${errorMessage(e)}`,
          {
            code: 'config_invalid',
          },
        );
      }
    }
    if (!pem)
      throw new CliError(`${where} needs publicKey or publicKeyFile`, {
        code: 'config_invalid',
      });
    try {
      return exceptionKeyFromPem(pem);
    } catch (e) {
      throw new CliError(
        `${where} is not a PEM public key: ${errorMessage(e)}`,
        {
          code: 'config_invalid',
        },
      );
    }
  });
}

/**
 * The envelope text of an exception file: a DSSE envelope (as cosign or in-toto
 * write it), the portal's exception JSON (`envelope`), or a Sigstore bundle with a
 * `dsseEnvelope` (as sigstore-js writes it; only the envelope is read: its key
 * hint and any verification material are never trust).
 */
export function readExceptionEnvelope(path: string): string {
  let text: string;
  try {
    const buf = readFileSync(path);
    if (buf.length > MAX_FILE_BYTES) throw new Error('file too large');
    text = buf.toString('utf8');
  } catch (e) {
    throw new CliError(
      `cannot read the exception ${path}: ${errorMessage(e)}`,
      {
        code: 'file_unreadable',
      },
    );
  }
  try {
    const doc = JSON.parse(text);
    if (doc && typeof doc.envelope === 'string') return doc.envelope;
    if (
      doc &&
      typeof doc.mediaType === 'string' &&
      doc.mediaType.startsWith('application/vnd.dev.sigstore.bundle') &&
      doc.dsseEnvelope &&
      typeof doc.dsseEnvelope === 'object'
    )
      return JSON.stringify(doc.dsseEnvelope);
  } catch {
    // not JSON: checkException reports it as malformed
  }
  return text;
}

/** What applying an exception file to a result gave. */
export interface ExceptionOutcome {
  check: ExceptionCheck;
  verdict: ExceptionVerdict;
}

/**
 * Checks an exception for a result and applies it. Signature and window are
 * checked first; coverage of each failing digest and its codes then decides.
 */
export function applyExceptionFile(options: {
  envelope: string;
  keys: readonly KeyObject[];
  result: EntityResult;
  now: Date;
}): ExceptionOutcome {
  const { result, now } = options;
  const check = checkException({
    envelope: options.envelope,
    keys: options.keys,
    now,
  });
  if (!check.ok || !check.predicate) {
    return { check, verdict: applyExceptions(result, [], now) };
  }
  const p = check.predicate;
  if (p.entity !== result.entityRef) {
    return {
      check: {
        ok: false,
        code: 'exception_digest_not_covered',
        message: `the exception is for ${p.entity}, not ${result.entityRef}`,
        predicate: p,
      },
      verdict: applyExceptions(result, [], now),
    };
  }
  const asException: ResidencyException = {
    id: p.exceptionId,
    entityRef: p.entity,
    status: 'approved',
    reasonCodes: p.waivedReasonCodes,
    digests: p.digests,
    justification: p.justification,
    reference: p.reference,
    requestedBy: p.requester,
    requestedAt: p.approvedAt,
    expiresAt: p.expiresAt,
    decidedBy: p.approver,
    decidedAt: p.approvedAt,
  };
  const verdict = applyExceptions(result, [asException], now);
  if (verdict.state !== 'resident_by_exception' && verdict.uncovered.length) {
    const u = verdict.uncovered[0];
    return {
      check: {
        ok: false,
        code: p.digests.includes(u.digest ?? '')
          ? 'exception_codes_not_covered'
          : 'exception_digest_not_covered',
        message: `not covered: ${verdict.uncovered
          .map(x => (x.digest ? `${x.code} on ${x.digest}` : x.code))
          .join(', ')}`,
        predicate: p,
      },
      verdict,
    };
  }
  return { check, verdict };
}

/** One line for the text output. */
export function formatExceptionOutcome(o: ExceptionOutcome): string {
  if (o.verdict.state === 'resident_by_exception') {
    const w = o.verdict.waived;
    return `RESULT: RESIDENT BY EXCEPTION — waived ${[
      ...new Set(w.flatMap(x => x.reasonCodes)),
    ].join(', ')} (requested by ${w[0].requestedBy}, approved by ${
      w[0].approvedBy
    }) until ${o.verdict.validUntil}\n`;
  }
  return `EXCEPTION NOT HONOURED (${o.check.code}): ${o.check.message}\n`;
}

/**
 * `verify-evidence --exception`: was the exception genuine and in force when the
 * record was decided? Signed by a configured key, for the record's entity, and its
 * window containing the record's check time.
 */
export function checkExceptionForRecord(options: {
  envelope: string;
  keys: readonly KeyObject[];
  entityRef?: string;
  checkedAt?: string;
}): ExceptionCheck {
  const at = options.checkedAt ? new Date(options.checkedAt) : undefined;
  if (!at || !Number.isFinite(at.getTime()))
    return {
      ok: false,
      code: 'exception_malformed',
      message: 'the evidence record has no check time to compare with',
    };
  const check = checkException({
    envelope: options.envelope,
    keys: options.keys,
    now: at,
  });
  if (check.ok && check.predicate!.entity !== options.entityRef)
    return {
      ok: false,
      code: 'exception_digest_not_covered',
      message: `the exception is for ${check.predicate!.entity}, not ${
        options.entityRef
      }`,
      predicate: check.predicate,
    };
  if (check.ok && Date.parse(check.predicate!.approvedAt) > at.getTime())
    return {
      ok: false,
      code: 'exception_not_yet_valid',
      message: `approved at ${
        check.predicate!.approvedAt
      }, after the record was decided`,
      predicate: check.predicate,
    };
  return check;
}
