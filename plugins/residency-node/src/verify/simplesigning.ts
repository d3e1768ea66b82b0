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
import {
  bundleFromJSON,
  BUNDLE_V01_MEDIA_TYPE,
  type Bundle,
} from '@sigstore/bundle';
import { toSignedEntity } from '@sigstore/verify';
import { rootsMaterial, verifyCertificateEntity } from './bundle';
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
      undefined,
      'material_parsed',
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
      undefined,
      'material_parsed',
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
      undefined,
      'subject_digest',
    );
  }
  // verify against every pinned key
  const verifying: TrustedKey[] = keysThatVerify(ctx.keys, input.payload, sig);
  if (
    verifying.length === 0 &&
    input.certificate !== undefined &&
    ctx.trustedRoots.length > 0
  ) {
    return verifyKeylessSimpleSignature(input, sig, ctx, base);
  }
  if (verifying.length === 0) {
    if (certificateKeyVerifies(input.certificate, input.payload, sig)) {
      return failed(
        base,
        reason(
          'key_untrusted',
          'The signature verifies only with its embedded certificate, which is not trusted configuration.',
        ),
        undefined,
        'signature_verified',
      );
    }
    return failed(
      base,
      reason(
        'signature_invalid',
        'The signature does not verify with any configured key.',
      ),
      undefined,
      'signature_verified',
    );
  }
  // Trustworthy time only from a Rekor SET that verifies against a configured
  // log and binds this signature and payload; otherwise verification time.
  const { times, logId } = rekorTime(
    input.rekorBundle,
    sig,
    input.payload,
    ctx,
  );
  const picked = pickSigner(verifying, times, ctx.at);
  if ('error' in picked) {
    return failed(
      base,
      picked.error,
      { key: picked.key.info, region: picked.key.info.region },
      picked.step,
    );
  }
  const signer = {
    ...picked.signer,
    times: times.map(at => ({
      source: 'tlog' as const,
      at,
      ...(logId ? { logId } : {}),
    })),
  };
  return { ...base, verified: true, signer };
}

/**
 * Keyless cosign `.sig` (cosign v1/v2 `sign` with Fulcio): the layer's certificate,
 * Rekor bundle (SET) and RFC 3161 timestamp annotations are exactly the parts of a
 * v0.1 Sigstore message-signature bundle over the payload, so they are assembled
 * into one and verified by the same code as keyless bundles (chain to a configured
 * root, signing time from the SET or the timestamp, the root's thresholds, tenant
 * identity). The `chain` annotation is not needed: the configured root supplies the
 * CA chain, and hints inside the artifact never give trust.
 */
function verifyKeylessSimpleSignature(
  input: SimpleSignatureInput,
  sig: Buffer,
  ctx: VerifyContext,
  base: Omit<Check, 'verified'>,
): Check {
  const assembled = cosignLayerAsBundle(input, sig);
  if ('error' in assembled) {
    return failed(
      base,
      reason(
        'signature_invalid',
        `Keyless signature rejected: ${assembled.error}.`,
      ),
      undefined,
      'material_parsed',
    );
  }
  let entity;
  try {
    entity = toSignedEntity(assembled.bundle, input.payload);
  } catch {
    return failed(
      base,
      reason(
        'signature_invalid',
        'Keyless signature rejected: its certificate or log entry is unusable.',
      ),
      undefined,
      'material_parsed',
    );
  }
  const keyless = verifyCertificateEntity(entity, ctx, 'signature');
  if ('error' in keyless)
    return failed(base, keyless.error, undefined, keyless.step);
  return { ...base, verified: true, signer: keyless.signer };
}

const MAX_ANNOTATION = 256 * 1024;

function pemToDer(pem: string): Buffer | undefined {
  const m =
    /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(
      pem,
    );
  if (!m) return undefined;
  const der = Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
  return der.length > 0 ? der : undefined;
}

/** cosign's keyless layer annotations. */
export interface KeylessAnnotations {
  certificate?: string;
  rekorBundle?: string;
  rfc3161Timestamp?: string;
}

/** A simple-signing layer's annotations as a v0.1 message-signature bundle. */
export function cosignLayerAsBundle(
  input: SimpleSignatureInput,
  sig: Buffer,
): { bundle: Bundle } | { error: string } {
  return keylessBundle(input, {
    messageSignature: {
      messageDigest: {
        algorithm: 'SHA2_256',
        digest: createHash('sha256').update(input.payload).digest('base64'),
      },
      signature: sig.toString('base64'),
    },
  });
}

/**
 * cosign's keyless annotations (certificate, Rekor bundle, RFC 3161 timestamp) around
 * signed `content` (a message signature or a DSSE envelope) as a v0.1 Sigstore bundle,
 * parsed strictly and validated by @sigstore/bundle.
 */
export function keylessBundle(
  input: KeylessAnnotations,
  content: Record<string, unknown>,
): { bundle: Bundle } | { error: string } {
  if (!input.certificate || input.certificate.length > MAX_ANNOTATION)
    return { error: 'no usable certificate annotation' };
  const leaf = pemToDer(input.certificate);
  if (!leaf)
    return { error: 'the certificate annotation is not a PEM certificate' };
  const tlogEntries: unknown[] = [];
  if (input.rekorBundle !== undefined) {
    let doc: unknown;
    try {
      doc = parseStrictJson(input.rekorBundle, {
        maxLength: MAX_ANNOTATION,
        maxDepth: 8,
      });
    } catch {
      return { error: 'the Rekor bundle annotation is not strict JSON' };
    }
    const p = isObject(doc) && isObject(doc.Payload) ? doc.Payload : undefined;
    if (
      !isObject(doc) ||
      !p ||
      typeof doc.SignedEntryTimestamp !== 'string' ||
      typeof p.body !== 'string' ||
      typeof p.logID !== 'string' ||
      !/^[0-9a-f]{64}$/.test(p.logID) ||
      !Number.isSafeInteger(p.integratedTime) ||
      !Number.isSafeInteger(p.logIndex) ||
      (p.logIndex as number) < 0 ||
      (p.integratedTime as number) < 0
    ) {
      return { error: 'the Rekor bundle annotation is malformed' };
    }
    let kind = 'hashedrekord';
    let version = '0.0.1';
    try {
      const body = parseStrictJson(Buffer.from(p.body, 'base64'), {
        maxLength: MAX_ANNOTATION,
        maxDepth: 16,
      });
      if (isObject(body) && typeof body.kind === 'string') kind = body.kind;
      if (isObject(body) && typeof body.apiVersion === 'string')
        version = body.apiVersion;
    } catch {
      return { error: 'the Rekor entry body is not strict JSON' };
    }
    tlogEntries.push({
      logIndex: String(p.logIndex),
      logId: { keyId: Buffer.from(p.logID, 'hex').toString('base64') },
      kindVersion: { kind, version },
      integratedTime: String(p.integratedTime),
      inclusionPromise: { signedEntryTimestamp: doc.SignedEntryTimestamp },
      canonicalizedBody: p.body,
    });
  }
  const rfc3161Timestamps: unknown[] = [];
  if (input.rfc3161Timestamp !== undefined) {
    let doc: unknown;
    try {
      doc = parseStrictJson(input.rfc3161Timestamp, {
        maxLength: MAX_ANNOTATION,
        maxDepth: 4,
      });
    } catch {
      return { error: 'the RFC 3161 timestamp annotation is not strict JSON' };
    }
    if (!isObject(doc) || typeof doc.SignedRFC3161Timestamp !== 'string')
      return { error: 'the RFC 3161 timestamp annotation is malformed' };
    rfc3161Timestamps.push({ signedTimestamp: doc.SignedRFC3161Timestamp });
  }
  try {
    const bundle = bundleFromJSON({
      mediaType: BUNDLE_V01_MEDIA_TYPE,
      verificationMaterial: {
        x509CertificateChain: {
          certificates: [{ rawBytes: leaf.toString('base64') }],
        },
        tlogEntries,
        timestampVerificationData: { rfc3161Timestamps },
      },
      ...content,
    });
    return { bundle };
  } catch {
    return { error: 'its annotations do not form a valid Sigstore bundle' };
  }
}

/**
 * The integrated time of cosign's Rekor bundle annotation, when its signed entry
 * timestamp verifies with a configured transparency log (trusted roots) and its
 * hashedrekord body names this signature and the SHA-256 of this payload.
 * Hand-written because @sigstore/verify only reads Sigstore bundles; the SET
 * payload is the RFC 8785 canonical JSON of {body, integratedTime, logIndex, logID}.
 * Anything else yields no trustworthy time (never an error). The log id comes with
 * the time, read from the same parse (the annotation is not parsed a second time).
 */
export function rekorTime(
  rekorBundle: string | undefined,
  sig: Buffer,
  payload: Buffer,
  ctx: VerifyContext,
): { times: Date[]; logId?: string } {
  const none = { times: [] };
  if (
    !rekorBundle ||
    rekorBundle.length > 256 * 1024 ||
    ctx.trustedRoots.length === 0
  )
    return none;
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
      return none;
    const p = doc.Payload;
    if (
      typeof p.body !== 'string' ||
      typeof p.integratedTime !== 'number' ||
      typeof p.logIndex !== 'number' ||
      typeof p.logID !== 'string'
    ) {
      return none;
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
      return none;
    const body = parseStrictJson(Buffer.from(p.body, 'base64'), {
      maxLength: 256 * 1024,
      maxDepth: 16,
    });
    if (!isObject(body) || body.kind !== 'hashedrekord' || !isObject(body.spec))
      return none;
    const spec = body.spec;
    const bodySig =
      isObject(spec.signature) && typeof spec.signature.content === 'string'
        ? Buffer.from(spec.signature.content, 'base64')
        : undefined;
    const hash =
      isObject(spec.data) && isObject(spec.data.hash)
        ? spec.data.hash
        : undefined;
    if (!bodySig || !bodySig.equals(sig)) return none;
    if (
      !hash ||
      hash.algorithm !== 'sha256' ||
      hash.value !== createHash('sha256').update(payload).digest('hex')
    )
      return none;
    return { times: [at], logId: p.logID.slice(0, 128) };
  } catch {
    return none;
  }
}
