/*
 * DSSE envelopes (`application/vnd.dsse.envelope.v1+json`, cosign `.att` layers).
 * The signature is over PAE(payloadType, payload) with byte lengths, computed by
 * @sigstore/core's dsse.preAuthEncoding; every pinned key is tried, keyids are
 * ignored (hints only).
 */
import { dsse } from '@sigstore/core';
import { decodeBase64, type TrustedKey } from '../keys';
import { isObject, parseStrictJson } from './json';
import { failed, keysThatVerify, pickSigner, reason } from './common';
import {
  IN_TOTO_PAYLOAD_TYPE,
  parseStatement,
  subjectMatches,
  type Statement,
} from './statement';
import type { Check, FailedStep, Signer, VerifyContext } from './types';
import type { Reason } from '@residency-dev/plugin-residency-common';
import { toSignedEntity } from '@sigstore/verify';
import { keylessBundle, type KeylessAnnotations } from './simplesigning';
import { verifyCertificateEntity } from './bundle';
import { VerifyError } from '../errors';

export const MAX_ENVELOPE_BYTES = 12 * 1024 * 1024;
const MAX_SIGNATURES = 16;

export interface ParsedEnvelope {
  payloadType: string;
  payload: Buffer;
  signatures: { keyid?: string; sig: Buffer }[];
}

/** Parses an envelope; VerifyError('attestation_invalid') on any structural problem. */
export function parseEnvelope(bytes: Uint8Array | string): ParsedEnvelope {
  let doc: unknown;
  try {
    doc = parseStrictJson(bytes, {
      maxLength: MAX_ENVELOPE_BYTES,
      maxDepth: 8,
    });
  } catch (e) {
    throw new VerifyError(
      'attestation_invalid',
      `DSSE envelope is not strict JSON: ${(e as Error).message}`,
    );
  }
  if (!isObject(doc))
    throw new VerifyError(
      'attestation_invalid',
      'DSSE envelope is not an object.',
    );
  if (typeof doc.payloadType !== 'string')
    throw new VerifyError(
      'attestation_invalid',
      'DSSE envelope has no payloadType.',
    );
  const payload = decodeBase64(doc.payload, MAX_ENVELOPE_BYTES);
  if (!payload)
    throw new VerifyError('attestation_invalid', 'DSSE payload is not base64.');
  if (!Array.isArray(doc.signatures) || doc.signatures.length === 0) {
    throw new VerifyError(
      'attestation_invalid',
      'DSSE envelope has no signatures.',
    );
  }
  if (doc.signatures.length > MAX_SIGNATURES) {
    throw new VerifyError(
      'attestation_invalid',
      `DSSE envelope has more than ${MAX_SIGNATURES} signatures.`,
    );
  }
  const signatures = doc.signatures.map(s => {
    if (!isObject(s))
      throw new VerifyError(
        'attestation_invalid',
        'DSSE signature is not an object.',
      );
    const sig = decodeBase64(s.sig, 1024);
    if (!sig)
      throw new VerifyError(
        'attestation_invalid',
        'DSSE signature is not base64.',
      );
    return typeof s.keyid === 'string'
      ? { keyid: s.keyid.slice(0, 512), sig }
      : { sig };
  });
  return { payloadType: doc.payloadType, payload, signatures };
}

export function verifyEnvelope(
  input: {
    envelope: string;
    source: Check['source'];
    index: number;
  } & KeylessAnnotations,
  ctx: VerifyContext,
): Check {
  const base = {
    role: 'attestation' as const,
    format: 'dsse' as const,
    source: input.source,
    index: input.index,
  };
  let env: ParsedEnvelope;
  try {
    env = parseEnvelope(input.envelope);
  } catch (e) {
    return failed(
      base,
      reason('attestation_invalid', (e as Error).message),
      undefined,
      'material_parsed',
    );
  }
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    return failed(
      base,
      reason(
        'attestation_invalid',
        `DSSE payloadType must be ${IN_TOTO_PAYLOAD_TYPE}.`,
        {
          payloadType: env.payloadType.slice(0, 200),
        },
      ),
      undefined,
      'material_parsed',
    );
  }
  // verify: PAE binds payloadType and byte lengths
  const pae = dsse.preAuthEncoding(env.payloadType, env.payload);
  const verifying: TrustedKey[] = [];
  for (const s of env.signatures) {
    for (const k of keysThatVerify(ctx.keys, pae, s.sig))
      if (!verifying.includes(k)) verifying.push(k);
  }
  if (
    verifying.length === 0 &&
    input.certificate !== undefined &&
    ctx.trustedRoots.length > 0
  ) {
    return verifyKeylessEnvelope(input, env, ctx, base);
  }
  if (verifying.length === 0) {
    // keyids are hints only and never choose a key; unverifiable is attestation_invalid
    return failed(
      base,
      reason(
        'attestation_invalid',
        'The attestation signature does not verify with any configured key.',
      ),
      undefined,
      'signature_verified',
    );
  }
  // A configured key signed it: from here on a failure is that signer's, a violation.
  const by = { key: verifying[0].info, region: verifying[0].info.region };
  const checked = checkStatement(env, ctx, base, by);
  if ('check' in checked) return checked.check;
  const withStatement = { ...base, statement: checked.statement };
  const picked = pickSigner(verifying, [], ctx.at);
  if ('error' in picked) {
    return failed(
      withStatement,
      picked.error,
      { key: picked.key.info, region: picked.key.info.region },
      picked.step,
    );
  }
  return { ...withStatement, verified: true, signer: picked.signer };
}

/** Only a verified payload is parsed as a statement; it must name this image. */
function checkStatement(
  env: ParsedEnvelope,
  ctx: VerifyContext,
  base: Omit<Check, 'verified'>,
  by: Signer,
): { statement: Statement } | { check: Check } {
  let statement;
  try {
    statement = parseStatement(env.payload);
  } catch (e) {
    const ve = e as VerifyError;
    return {
      check: failed(
        base,
        reason('malformed_statement', ve.message, ve.details),
        by,
        'statement_parsed',
      ),
    };
  }
  const withStatement = { ...base, statement };
  if (!subjectMatches(statement, ctx.digest)) {
    return {
      check: failed(
        withStatement,
        reason(
          'subject_mismatch',
          'The attestation is about another image digest.',
          {
            imageDigest: ctx.digest,
            subjects: statement.subjects.slice(0, 8).map(s => s.digest),
            predicateType: statement.predicateType.slice(0, 200),
          },
        ),
        by,
        'subject_digest',
      ),
    };
  }
  return { statement };
}

/**
 * Keyless cosign `attest` (`.att` DSSE layer with certificate annotations): the
 * envelope and annotations form a v0.1 DSSE bundle verified exactly as a keyless
 * bundle (configured roots, per-root thresholds, signing time, tenant identity).
 */
function verifyKeylessEnvelope(
  input: KeylessAnnotations,
  env: ParsedEnvelope,
  ctx: VerifyContext,
  base: Omit<Check, 'verified'>,
): Check {
  let last: Reason | undefined;
  let lastStep: FailedStep = 'material_parsed';
  for (const s of env.signatures) {
    const assembled = keylessBundle(input, {
      dsseEnvelope: {
        payload: env.payload.toString('base64'),
        payloadType: env.payloadType,
        signatures: [{ sig: s.sig.toString('base64'), keyid: '' }],
      },
    });
    if ('error' in assembled) {
      last = reason(
        'attestation_invalid',
        `Keyless attestation rejected: ${assembled.error}.`,
      );
      lastStep = 'material_parsed';
      continue;
    }
    let entity;
    try {
      entity = toSignedEntity(assembled.bundle);
    } catch {
      last = reason(
        'attestation_invalid',
        'Keyless attestation rejected: its certificate or log entry is unusable.',
      );
      lastStep = 'material_parsed';
      continue;
    }
    const outcome = verifyCertificateEntity(entity, ctx, 'attestation');
    if ('error' in outcome) {
      last = outcome.error;
      lastStep = outcome.step;
      continue;
    }
    const checked = checkStatement(env, ctx, base, outcome.signer);
    if ('check' in checked) return checked.check;
    return {
      ...base,
      statement: checked.statement,
      verified: true,
      signer: outcome.signer,
    };
  }
  return failed(
    base,
    last ??
      reason('attestation_invalid', 'The attestation carries no signature.'),
    undefined,
    lastStep,
  );
}
