/*
 * Sigstore bundles v0.1 to v0.3 (message signature and DSSE), verified with
 * @sigstore/bundle (parse + structural validation) and @sigstore/verify's Verifier.
 * Trust material is built only from configuration:
 * - key-based bundles: each configured key in turn is offered as the only key, so
 *   the bundle's publicKey hint never selects trust; thresholds are 0 (offline);
 *   tlog entries and RFC 3161 timestamps are verified against the configured trusted
 *   roots when there are any (their times then become trustworthy time), and
 *   ignored otherwise (no trustworthy time).
 * - certificate (keyless) bundles: only configured trusted roots, with one tlog
 *   entry, one SCT and one timestamp required, and a configured identity/issuer.
 * The bundle's messageDigest is never trusted: the message signature must verify
 * over the image manifest bytes we hashed ourselves.
 */
import { createHash, type KeyObject } from 'node:crypto';
import {
  bundleFromJSON,
  BUNDLE_V01_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
  type Bundle,
} from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { identityMatcher } from '../config/identityPattern';
import {
  toSignedEntity,
  toTrustMaterial,
  Verifier,
  type TrustMaterial,
} from '@sigstore/verify';
import type { Reason } from '@residency-dev/plugin-residency-common';
import { pickSigner, failed, reason } from './common';
import { isObject, parseStrictJson } from './json';
import {
  COSIGN_SIGN_PREDICATE,
  IN_TOTO_PAYLOAD_TYPE,
  parseStatement,
  subjectMatches,
  type Statement,
} from './statement';
import type { Check, Signer, VerifyContext } from './types';
import type { TrustedKey } from '../keys';
import type { VerifyError } from '../errors';

export const MAX_BUNDLE_BYTES = 16 * 1024 * 1024;
const MEDIA_TYPES = new Set([
  BUNDLE_V01_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
]);

function emptyMaterial(): Omit<TrustMaterial, 'publicKey'> {
  return {
    certificateAuthorities: [],
    timestampAuthorities: [],
    tlogs: [],
    ctlogs: [],
  };
}

/** Trust material of the configured roots (cached per root hash). */
const rootCache = new Map<string, Omit<TrustMaterial, 'publicKey'>>();
export function rootsMaterial(
  roots: VerifyContext['trustedRoots'],
): Omit<TrustMaterial, 'publicKey'> {
  const out = emptyMaterial();
  for (const r of roots) {
    let m = rootCache.get(r.sha256);
    if (!m) {
      try {
        m = toTrustMaterial(TrustedRoot.fromJSON(r.json));
      } catch {
        continue; // an unusable root contributes nothing
      }
      if (rootCache.size > 32) rootCache.clear();
      rootCache.set(r.sha256, m);
    }
    out.certificateAuthorities.push(...m.certificateAuthorities);
    out.timestampAuthorities.push(...m.timestampAuthorities);
    out.tlogs.push(...m.tlogs);
    out.ctlogs.push(...m.ctlogs);
  }
  return out;
}

function noKey(): never {
  throw new Error('no public key configured');
}

/** Parses a bundle: strict JSON, known media type, @sigstore/bundle validation. */
export function parseBundle(
  text: string | Uint8Array,
): Bundle | { error: string } {
  let doc: unknown;
  try {
    doc = parseStrictJson(text, { maxLength: MAX_BUNDLE_BYTES, maxDepth: 32 });
  } catch (e) {
    return { error: `bundle is not strict JSON: ${(e as Error).message}` };
  }
  if (!isObject(doc)) return { error: 'bundle is not a JSON object' };
  if (typeof doc.mediaType !== 'string' || !MEDIA_TYPES.has(doc.mediaType)) {
    return {
      error: `unknown bundle media type ${String(doc.mediaType).slice(0, 100)}`,
    };
  }
  try {
    const b = bundleFromJSON(doc);
    if (
      b.content?.$case === 'dsseEnvelope' &&
      b.content.dsseEnvelope.signatures.length !== 1
    ) {
      return { error: 'a DSSE bundle must carry exactly one signature' };
    }
    return b;
  } catch (e) {
    return {
      error: `invalid bundle: ${(e as Error)?.message ?? 'validation failed'}`,
    };
  }
}

function mapVerifierError(e: unknown, role: Check['role']): Reason {
  const code = (e as { code?: string })?.code;
  const msg = (e as Error)?.message ?? 'verification failed';
  if (code === 'UNTRUSTED_SIGNER_ERROR') return reason('key_untrusted', msg);
  return reason(
    role === 'signature' ? 'signature_invalid' : 'attestation_invalid',
    `Bundle did not verify: ${msg}`,
    {
      ...(code ? { verifier: code } : {}),
    },
  );
}

function identityMatches(
  ids: VerifyContext['identities'],
  subject: string | undefined,
  issuer: string | undefined,
): VerifyContext['identities'][number] | undefined {
  if (!subject || !issuer) return undefined;
  return ids.find(i => {
    if (i.issuer !== issuer) return false;
    if (i.subject !== undefined) return i.subject === subject;
    try {
      return identityMatcher(i.subjectRegExp ?? '').test(subject);
    } catch {
      return false;
    }
  });
}

export function verifyBundle(
  input: { bundle: string; source: Check['source']; index: number },
  ctx: VerifyContext,
): Check {
  const base0 = {
    format: 'sigstore-bundle' as const,
    source: input.source,
    index: input.index,
  };
  const parsed = parseBundle(input.bundle);
  if ('error' in parsed) {
    return failed(
      { ...base0, role: 'signature' },
      reason('signature_invalid', `Sigstore bundle rejected: ${parsed.error}.`),
    );
  }
  let bundle: Bundle = parsed;

  // What is signed, and is it bound to this image?
  let role: Check['role'] = 'signature';
  let statement: Statement | undefined;
  let artifact: Buffer | undefined;
  if (bundle.content.$case === 'dsseEnvelope') {
    const env = bundle.content.dsseEnvelope;
    if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
      return failed(
        { ...base0, role: 'attestation' },
        reason(
          'attestation_invalid',
          `DSSE payloadType must be ${IN_TOTO_PAYLOAD_TYPE}.`,
          {
            payloadType: env.payloadType.slice(0, 200),
          },
        ),
      );
    }
  } else {
    if (!ctx.manifest) {
      return failed(
        { ...base0, role },
        reason(
          'signature_invalid',
          'The image manifest is not available to check a message signature.',
        ),
      );
    }
    artifact = ctx.manifest;
    const md = bundle.content.messageSignature.messageDigest;
    const ours = createHash('sha256').update(artifact).digest();
    if (
      md &&
      md.digest.length > 0 &&
      !(md.algorithm === 1 || md.algorithm === 0)
    ) {
      // a non-SHA-256 message digest cannot name our sha256 image digest
    } else if (
      md &&
      md.digest.length > 0 &&
      !Buffer.from(md.digest).equals(ours)
    ) {
      return failed(
        { ...base0, role },
        reason(
          'digest_mismatch',
          'The bundle messageDigest is not the digest of this image manifest.',
          {
            imageDigest: ctx.digest,
            messageDigest: `sha256:${Buffer.from(md.digest).toString('hex')}`,
          },
        ),
      );
    }
  }

  const vm = bundle.verificationMaterial.content;
  const keyless = vm.$case !== 'publicKey';
  const rootsTm = rootsMaterial(ctx.trustedRoots);
  const hasRoots = ctx.trustedRoots.length > 0;
  if (!keyless && !hasRoots) {
    // No configured roots: transparency-log entries and timestamps cannot be
    // verified, so they are dropped and give no trustworthy time.
    bundle = {
      ...bundle,
      verificationMaterial: {
        ...bundle.verificationMaterial,
        tlogEntries: [],
        timestampVerificationData: undefined,
      },
    } as Bundle;
  }

  let entity;
  try {
    entity = toSignedEntity(bundle, artifact);
  } catch (e) {
    return failed(
      { ...base0, role },
      reason(
        'signature_invalid',
        `Sigstore bundle rejected: ${(e as Error)?.message ?? 'unusable'}.`,
      ),
    );
  }

  let signer: Signer | undefined;
  let statusError: { error: Reason; signer: Signer } | undefined;
  if (!keyless) {
    const hint = vm.$case === 'publicKey' ? vm.publicKey.hint : '';
    const verifying: { key: TrustedKey; times: Date[] }[] = [];
    let lastError: unknown;
    for (const k of ctx.keys) {
      const times: Date[] = [];
      const tm: TrustMaterial = {
        ...rootsTm,
        publicKey: () => ({
          publicKey: k.key as KeyObject,
          validFor: (d: Date) => {
            times.push(d);
            return true;
          },
        }),
      };
      try {
        new Verifier(tm, {
          tlogThreshold: 0,
          ctlogThreshold: 0,
          timestampThreshold: 0,
        }).verify(entity);
        verifying.push({ key: k, times });
      } catch (e) {
        lastError = e;
      }
    }
    if (verifying.length === 0) {
      const hinted =
        hint !== '' &&
        ctx.keys.some(k => k.info.id === hint || k.info.fingerprint === hint);
      const failRole: Check['role'] =
        bundle.content.$case === 'dsseEnvelope' ? 'attestation' : 'signature';
      if (
        !hinted &&
        ctx.keys.length > 0 &&
        (lastError as { code?: string })?.code === 'SIGNATURE_ERROR'
      ) {
        return failed(
          { ...base0, role: failRole },
          reason(
            'key_untrusted',
            'The bundle is not signed by any configured key.',
            hint ? { hint: hint.slice(0, 200) } : undefined,
          ),
        );
      }
      return failed(
        { ...base0, role: failRole },
        lastError
          ? mapVerifierError(lastError, failRole)
          : reason('key_untrusted', 'No keys are configured.'),
      );
    }
    // a usable key wins over a revoked/expired one
    for (const v of verifying) {
      const picked = pickSigner([v.key], v.times, ctx.at);
      if ('signer' in picked) {
        signer = picked.signer;
        break;
      }
      statusError ??= {
        error: picked.error,
        signer: { key: v.key.info, region: v.key.info.region },
      };
    }
  } else {
    if (!hasRoots) {
      return failed(
        { ...base0, role },
        reason(
          'key_untrusted',
          'Certificate-signed bundle, but no trusted roots are configured.',
        ),
      );
    }
    let result;
    try {
      // A timestamp is always required (the certificate is short-lived); tlog and
      // SCT are required whenever the configured roots have logs (public good does),
      // so a private PKI without CT can still be configured.
      result = new Verifier(
        { ...rootsTm, publicKey: noKey },
        {
          tlogThreshold: rootsTm.tlogs.length > 0 ? 1 : 0,
          ctlogThreshold: rootsTm.ctlogs.length > 0 ? 1 : 0,
          timestampThreshold: 1,
        },
      ).verify(entity);
    } catch (e) {
      return failed({ ...base0, role }, mapVerifierError(e, role));
    }
    const subject = result.identity?.subjectAlternativeName;
    const issuer = result.identity?.extensions?.issuer;
    const match = identityMatches(ctx.identities, subject, issuer);
    if (!match) {
      return failed(
        { ...base0, role },
        reason(
          'key_untrusted',
          'The certificate identity is not a configured identity of this tenant.',
          {
            subject: subject?.slice(0, 300),
            issuer: issuer?.slice(0, 300),
          },
        ),
      );
    }
    signer = {
      identity: {
        subject: subject!,
        issuer: issuer!,
        region: match.region,
        trustedRoot: ctx.trustedRoots.map(r => r.name).join(','),
      },
      region: match.region,
      timeSource: 'trusted-timestamp',
    };
  }

  // Only now, with a verified payload, read the statement.
  if (bundle.content.$case === 'dsseEnvelope') {
    try {
      statement = parseStatement(bundle.content.dsseEnvelope.payload);
    } catch (e) {
      const ve = e as VerifyError;
      return failed(
        { ...base0, role: 'attestation' },
        reason('malformed_statement', ve.message, ve.details),
        signer ?? statusError?.signer,
      );
    }
    role =
      statement.predicateType === COSIGN_SIGN_PREDICATE
        ? 'signature'
        : 'attestation';
    if (!subjectMatches(statement, ctx.digest)) {
      return failed(
        { ...base0, role, statement },
        reason(
          'subject_mismatch',
          'The bundle is about another image digest.',
          {
            imageDigest: ctx.digest,
            subjects: statement.subjects.slice(0, 8).map(s => s.digest),
            predicateType: statement.predicateType.slice(0, 200),
          },
        ),
        signer ?? statusError?.signer,
      );
    }
  }
  const withRole = { ...base0, role, ...(statement ? { statement } : {}) };
  if (!signer) return failed(withRole, statusError!.error, statusError!.signer);
  return { ...withRole, verified: true, signer };
}
