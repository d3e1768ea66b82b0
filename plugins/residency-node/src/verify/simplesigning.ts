/*
 * cosign simple-signing signatures: the payload layer
 * (`application/vnd.dev.cosign.simplesigning.v1+json`) signed directly (no DSSE),
 * signature base64 in the `dev.cosignproject.cosign/signature` annotation.
 * Hand-written on Node's crypto because @sigstore/verify only verifies bundles;
 * the checks follow cosign's signature spec: the payload's
 * critical.image.docker-manifest-digest must be the image digest.
 */
import {
  createHash,
  verify as cryptoVerify,
  X509Certificate,
} from 'node:crypto';
import { json as sigstoreJson } from '@sigstore/core';
import { rootsMaterial } from './bundle';
import type { TrustedKey } from '../keys';
import { decodeBase64, verifyRaw } from '../keys';
import { isObject, parseStrictJson } from './json';
import { failed, keysThatVerify, pickSigner, reason } from './common';
import type { Check, VerifyContext } from './types';

export const MAX_SIMPLE_SIGNING_PAYLOAD = 256 * 1024;
const MAX_SIGNATURE_BYTES = 1024;

export interface SimpleSignatureInput {
  payload: Buffer;
  signature: string;
  certificate?: string;
  /** cosign's `dev.sigstore.cosign/chain` annotation (PEM intermediates and root), if any. */
  chain?: string;
  /** cosign's `dev.sigstore.cosign/bundle` annotation (Rekor SET), if any. */
  rekorBundle?: string;
  /** cosign's `dev.sigstore.cosign/rfc3161timestamp` annotation, if any. */
  rfc3161Timestamp?: string;
  source: Check['source'];
  index: number;
}

/** Parses the payload; returns the signed manifest digest or an error message. */
export function parseSimpleSigningPayload(
  payload: Uint8Array,
): { digest: string; identity?: string } | { error: string } {
  if (payload.byteLength > MAX_SIMPLE_SIGNING_PAYLOAD)
    return { error: 'payload exceeds the size cap' };
  let doc: unknown;
  try {
    doc = parseStrictJson(payload, {
      maxLength: MAX_SIMPLE_SIGNING_PAYLOAD,
      maxDepth: 16,
    });
  } catch (e) {
    return { error: `payload is not strict JSON: ${(e as Error).message}` };
  }
  if (!isObject(doc) || !isObject(doc.critical))
    return { error: 'payload has no "critical" object' };
  const c = doc.critical;
  if (
    typeof c.type !== 'string' ||
    !/^(cosign container image signature|atomic container signature)$/.test(
      c.type,
    )
  ) {
    return { error: 'critical.type is not a container image signature' };
  }
  if (
    !isObject(c.image) ||
    typeof c.image['docker-manifest-digest'] !== 'string'
  ) {
    return { error: 'critical.image.docker-manifest-digest is missing' };
  }
  const identity =
    isObject(c.identity) && typeof c.identity['docker-reference'] === 'string'
      ? (c.identity['docker-reference'] as string)
      : undefined;
  return {
    digest: c.image['docker-manifest-digest'] as string,
    ...(identity ? { identity } : {}),
  };
}

function certificateKeyVerifies(
  pem: string | undefined,
  data: Buffer,
  sig: Buffer,
): boolean {
  if (!pem || pem.length > 64 * 1024) return false;
  try {
    return verifyRaw(new X509Certificate(pem).publicKey, data, sig);
  } catch {
    return false;
  }
}

export function verifySimpleSignature(
  input: SimpleSignatureInput,
  ctx: VerifyContext,
): Check {
  const base = {
    role: 'signature' as const,
    format: 'simplesigning' as const,
    source: input.source,
    index: input.index,
  };
  // parse
  const parsed = parseSimpleSigningPayload(input.payload);
  if ('error' in parsed) {
    return failed(
      base,
      reason(
        'signature_invalid',
        `Simple-signing payload rejected: ${parsed.error}.`,
      ),
    );
  }
  const sig = decodeBase64(input.signature, MAX_SIGNATURE_BYTES);
  if (!sig || sig.length === 0 || sig.length > MAX_SIGNATURE_BYTES) {
    return failed(
      base,
      reason(
        'signature_invalid',
        'Signature annotation is not valid base64 of a signature.',
      ),
    );
  }
  // validate: the signed digest must be the image digest (checked before any crypto)
  if (parsed.digest !== ctx.digest) {
    return failed(
      base,
      reason(
        'digest_mismatch',
        'The signature payload names another image digest.',
        {
          signedDigest: parsed.digest.slice(0, 200),
          imageDigest: ctx.digest,
        },
      ),
    );
  }
  // verify against every pinned key
  const verifying: TrustedKey[] = keysThatVerify(ctx.keys, input.payload, sig);
  if (verifying.length === 0) {
    if (certificateKeyVerifies(input.certificate, input.payload, sig)) {
      return failed(
        base,
        reason(
          'key_untrusted',
          'The signature verifies only with its embedded certificate, which is not trusted configuration.',
        ),
      );
    }
    return failed(
      base,
      reason(
        'signature_invalid',
        'The signature does not verify with any configured key.',
      ),
    );
  }
  // Trustworthy time only from a Rekor SET that verifies against a configured
  // log and binds this signature and payload; otherwise verification time.
  const times = rekorTime(input.rekorBundle, sig, input.payload, ctx);
  const picked = pickSigner(verifying, times, ctx.at);
  if ('error' in picked) {
    return failed(base, picked.error, {
      key: picked.key.info,
      region: picked.key.info.region,
    });
  }
  return { ...base, verified: true, signer: picked.signer };
}

/**
 * The integrated time of cosign's Rekor bundle annotation, when its signed entry
 * timestamp verifies with a configured transparency log (trusted roots) and its
 * hashedrekord body names this signature and the SHA-256 of this payload.
 * Hand-written because @sigstore/verify only reads Sigstore bundles; the SET
 * payload is the RFC 8785 canonical JSON of {body, integratedTime, logIndex, logID}.
 * Anything else yields no trustworthy time (never an error).
 */
export function rekorTime(
  rekorBundle: string | undefined,
  sig: Buffer,
  payload: Buffer,
  ctx: VerifyContext,
): Date[] {
  if (
    !rekorBundle ||
    rekorBundle.length > 256 * 1024 ||
    ctx.trustedRoots.length === 0
  )
    return [];
  try {
    const doc = parseStrictJson(rekorBundle, {
      maxLength: 256 * 1024,
      maxDepth: 8,
    });
    if (
      !isObject(doc) ||
      !isObject(doc.Payload) ||
      typeof doc.SignedEntryTimestamp !== 'string'
    )
      return [];
    const p = doc.Payload;
    if (
      typeof p.body !== 'string' ||
      typeof p.integratedTime !== 'number' ||
      typeof p.logIndex !== 'number' ||
      typeof p.logID !== 'string'
    ) {
      return [];
    }
    const set = Buffer.from(doc.SignedEntryTimestamp, 'base64');
    const data = Buffer.from(
      sigstoreJson.canonicalize({
        body: p.body,
        integratedTime: p.integratedTime,
        logIndex: p.logIndex,
        logID: p.logID,
      }),
    );
    const at = new Date(p.integratedTime * 1000);
    const logs = rootsMaterial(ctx.trustedRoots).tlogs.filter(
      t =>
        t.logID.toString('hex') === p.logID &&
        t.validFor.start <= at &&
        at <= t.validFor.end,
    );
    if (!logs.some(t => cryptoVerify('sha256', data, t.publicKey, set)))
      return [];
    const body = parseStrictJson(Buffer.from(p.body, 'base64'), {
      maxLength: 256 * 1024,
      maxDepth: 16,
    });
    if (!isObject(body) || body.kind !== 'hashedrekord' || !isObject(body.spec))
      return [];
    const spec = body.spec;
    const bodySig =
      isObject(spec.signature) && typeof spec.signature.content === 'string'
        ? Buffer.from(spec.signature.content, 'base64')
        : undefined;
    const hash =
      isObject(spec.data) && isObject(spec.data.hash)
        ? spec.data.hash
        : undefined;
    if (!bodySig || !bodySig.equals(sig)) return [];
    if (
      !hash ||
      hash.algorithm !== 'sha256' ||
      hash.value !== createHash('sha256').update(payload).digest('hex')
    )
      return [];
    return [at];
  } catch {
    return [];
  }
}
