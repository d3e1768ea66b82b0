/*
 * cosign simple-signing signatures: the payload layer
 * (`application/vnd.dev.cosign.simplesigning.v1+json`) signed directly (no DSSE),
 * signature base64 in the `dev.cosignproject.cosign/signature` annotation.
 * Hand-written on Node's crypto because @sigstore/verify only verifies bundles;
 * the checks follow cosign's signature spec: the payload's
 * critical.image.docker-manifest-digest must be the image digest.
 */
import { X509Certificate } from 'node:crypto';
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
  source: Check['source'];
  index: number;
}

/** Parses the payload; returns the signed manifest digest or an error message. */
export function parseSimpleSigningPayload(payload: Uint8Array):
  | { digest: string; identity?: string }
  | { error: string } {
  if (payload.byteLength > MAX_SIMPLE_SIGNING_PAYLOAD) return { error: 'payload exceeds the size cap' };
  let doc: unknown;
  try {
    doc = parseStrictJson(payload, { maxLength: MAX_SIMPLE_SIGNING_PAYLOAD, maxDepth: 16 });
  } catch (e) {
    return { error: `payload is not strict JSON: ${(e as Error).message}` };
  }
  if (!isObject(doc) || !isObject(doc.critical)) return { error: 'payload has no "critical" object' };
  const c = doc.critical;
  if (typeof c.type !== 'string' || !/^(cosign container image signature|atomic container signature)$/.test(c.type)) {
    return { error: 'critical.type is not a container image signature' };
  }
  if (!isObject(c.image) || typeof c.image['docker-manifest-digest'] !== 'string') {
    return { error: 'critical.image.docker-manifest-digest is missing' };
  }
  const identity = isObject(c.identity) && typeof c.identity['docker-reference'] === 'string'
    ? (c.identity['docker-reference'] as string)
    : undefined;
  return { digest: c.image['docker-manifest-digest'] as string, ...(identity ? { identity } : {}) };
}

function certificateKeyVerifies(pem: string | undefined, data: Buffer, sig: Buffer): boolean {
  if (!pem || pem.length > 64 * 1024) return false;
  try {
    return verifyRaw(new X509Certificate(pem).publicKey, data, sig);
  } catch {
    return false;
  }
}

export function verifySimpleSignature(input: SimpleSignatureInput, ctx: VerifyContext): Check {
  const base = { role: 'signature' as const, format: 'simplesigning' as const, source: input.source, index: input.index };
  // parse
  const parsed = parseSimpleSigningPayload(input.payload);
  if ('error' in parsed) {
    return failed(base, reason('signature_invalid', `Simple-signing payload rejected: ${parsed.error}.`));
  }
  const sig = decodeBase64(input.signature, MAX_SIGNATURE_BYTES);
  if (!sig || sig.length === 0 || sig.length > MAX_SIGNATURE_BYTES) {
    return failed(base, reason('signature_invalid', 'Signature annotation is not valid base64 of a signature.'));
  }
  // validate: the signed digest must be the image digest (checked before any crypto)
  if (parsed.digest !== ctx.digest) {
    return failed(
      base,
      reason('digest_mismatch', 'The signature payload names another image digest.', {
        signedDigest: parsed.digest.slice(0, 200),
        imageDigest: ctx.digest,
      }),
    );
  }
  // verify against every pinned key
  const verifying: TrustedKey[] = keysThatVerify(ctx.keys, input.payload, sig);
  if (verifying.length === 0) {
    if (certificateKeyVerifies(input.certificate, input.payload, sig)) {
      return failed(base, reason('key_untrusted', 'The signature verifies only with its embedded certificate, which is not trusted configuration.'));
    }
    return failed(base, reason('signature_invalid', 'The signature does not verify with any configured key.'));
  }
  // Simple signatures carry no timestamp we verify: verification time is used.
  const picked = pickSigner(verifying, [], ctx.at);
  if ('error' in picked) {
    return failed(base, picked.error, { key: picked.key.info, region: picked.key.info.region });
  }
  return { ...base, verified: true, signer: picked.signer };
}
