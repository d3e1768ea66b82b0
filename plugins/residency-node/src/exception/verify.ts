/*
 * Checking an exported exception offline (CLI `verify --exception`,
 * `verify-evidence`): parse, then validate, then verify. Trust comes only from the
 * keys the caller configured; hostile bytes become a typed failure, never a throw.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { dsse } from '@sigstore/core';
import {
  EXCEPTION_PREDICATE_TYPE,
  isWaivableReasonCode,
} from '@residency-dev/plugin-residency-common';
import { verifyRaw } from '../keys';
import { parseEnvelope } from '../verify/dsse';
import { isObject, parseStrictJson } from '../verify/json';
import { IN_TOTO_PAYLOAD_TYPE } from '../verify/statement';
import type { ExceptionPredicate } from './statement';

/** Why an exception was or was not honoured. @public */
export type ExceptionCheckCode =
  | 'exception_valid'
  | 'exception_malformed'
  | 'exception_signature_invalid'
  | 'exception_not_yet_valid'
  | 'exception_expired'
  | 'exception_digest_not_covered'
  | 'exception_codes_not_covered';

/** The outcome of checking one exception. @public */
export interface ExceptionCheck {
  ok: boolean;
  code: ExceptionCheckCode;
  message: string;
  predicate?: ExceptionPredicate;
}

const fail = (
  code: ExceptionCheckCode,
  message: string,
  predicate?: ExceptionPredicate,
): ExceptionCheck => ({
  ok: false,
  code,
  message,
  ...(predicate ? { predicate } : {}),
});

const DIGEST = /^sha(256|512):[0-9a-f]{64,128}$/;
const strings = (v: unknown, max: number): v is string[] =>
  Array.isArray(v) &&
  v.length > 0 &&
  v.length <= max &&
  v.every(s => typeof s === 'string' && s.length <= 512);

function parsePredicate(p: unknown): ExceptionPredicate | string {
  if (!isObject(p)) return 'predicate is not an object';
  for (const k of [
    'exceptionId',
    'entity',
    'justification',
    'reference',
    'requester',
    'approver',
    'approvedAt',
    'expiresAt',
  ]) {
    if (typeof p[k] !== 'string') return `predicate.${k} is not a string`;
  }
  if (!strings(p.digests, 64) || !p.digests.every(d => DIGEST.test(d)))
    return 'predicate.digests must list image digests';
  if (
    !strings(p.waivedReasonCodes, 32) ||
    !p.waivedReasonCodes.every(isWaivableReasonCode)
  )
    return 'predicate.waivedReasonCodes must list waivable reason codes';
  for (const k of ['approvedAt', 'expiresAt']) {
    if (!Number.isFinite(Date.parse(p[k] as string)))
      return `predicate.${k} is not a time`;
  }
  if (p.requester === p.approver)
    return 'the requester approved their own exception';
  return p as unknown as ExceptionPredicate;
}

const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';

/**
 * The digests of an in-toto Statement v1 `subject` list as `alg:hex`. The spec
 * (in-toto/attestation spec/v1/statement.md) requires `digest` on every subject
 * and leaves `name` optional (a string when set); only sha256/sha512 entries are
 * read.
 */
function subjectDigests(subject: unknown): string[] | string {
  if (!Array.isArray(subject) || subject.length === 0 || subject.length > 64)
    return 'subject must list 1 to 64 artifacts';
  const out: string[] = [];
  for (const s of subject) {
    if (
      !isObject(s) ||
      (s.name !== undefined && typeof s.name !== 'string') ||
      !isObject(s.digest)
    )
      return 'each subject needs a digest (and a string name, if any)';
    const found = Object.entries(s.digest)
      .filter(([alg]) => alg === 'sha256' || alg === 'sha512')
      .map(([alg, hex]) => `${alg}:${String(hex)}`);
    if (found.length === 0 || !found.every(d => DIGEST.test(d)))
      return 'each subject needs a sha256 or sha512 digest (lowercase hex)';
    out.push(...found);
  }
  return out;
}

/** Parses a PEM public key for {@link checkException}. @public */
export function exceptionKeyFromPem(pem: string): KeyObject {
  return createPublicKey({ key: pem, format: 'pem' });
}

/**
 * Checks an exception envelope: signed by one of `keys`, inside its window at
 * `now`, and (when given) covering `digest` and every code of `reasonCodes`.
 *
 * @public
 */
export function checkException(options: {
  envelope: string | Uint8Array;
  keys: readonly KeyObject[];
  now?: Date;
  digest?: string;
  reasonCodes?: readonly string[];
}): ExceptionCheck {
  const now = options.now ?? new Date();
  let env;
  try {
    env = parseEnvelope(options.envelope);
  } catch (e) {
    return fail('exception_malformed', (e as Error).message);
  }
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE)
    return fail(
      'exception_malformed',
      `payloadType must be ${IN_TOTO_PAYLOAD_TYPE}`,
    );
  const pae = dsse.preAuthEncoding(env.payloadType, env.payload);
  const signed = env.signatures.some(s =>
    options.keys.some(k => verifyRaw(k, pae, s.sig)),
  );
  if (!signed)
    return fail(
      'exception_signature_invalid',
      'the exception is not signed by a configured key',
    );
  let doc: unknown;
  try {
    doc = parseStrictJson(env.payload, { maxLength: 1024 * 1024 });
  } catch (e) {
    return fail('exception_malformed', (e as Error).message);
  }
  if (!isObject(doc) || doc._type !== IN_TOTO_STATEMENT_V1)
    return fail('exception_malformed', `_type must be ${IN_TOTO_STATEMENT_V1}`);
  if (doc.predicateType !== EXCEPTION_PREDICATE_TYPE)
    return fail(
      'exception_malformed',
      `predicateType must be ${EXCEPTION_PREDICATE_TYPE}`,
    );
  const predicate = parsePredicate(doc.predicate);
  if (typeof predicate === 'string')
    return fail('exception_malformed', predicate);
  const subjects = subjectDigests(doc.subject);
  if (typeof subjects === 'string')
    return fail('exception_malformed', subjects);
  if (
    subjects.length !== predicate.digests.length ||
    !predicate.digests.every(d => subjects.includes(d))
  )
    return fail(
      'exception_malformed',
      'the statement subjects and predicate.digests name different digests',
    );
  if (Date.parse(predicate.approvedAt) > now.getTime() + 5 * 60 * 1000)
    return fail(
      'exception_not_yet_valid',
      `approved in the future (${predicate.approvedAt})`,
      predicate,
    );
  if (Date.parse(predicate.expiresAt) <= now.getTime())
    return fail(
      'exception_expired',
      `expired at ${predicate.expiresAt}`,
      predicate,
    );
  if (options.digest && !predicate.digests.includes(options.digest))
    return fail(
      'exception_digest_not_covered',
      `does not cover ${options.digest}`,
      predicate,
    );
  const missing = (options.reasonCodes ?? []).filter(
    c => !predicate.waivedReasonCodes.includes(c),
  );
  if (missing.length > 0)
    return fail(
      'exception_codes_not_covered',
      `does not waive ${missing.join(', ')}`,
      predicate,
    );
  return {
    ok: true,
    code: 'exception_valid',
    message: `waives ${predicate.waivedReasonCodes.join(', ')} until ${
      predicate.expiresAt
    } (approved by ${predicate.approver})`,
    predicate,
  };
}
