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
  type SignedEntity,
  type TrustMaterial,
} from '@sigstore/verify';
import type { Reason } from '@residency-dev/plugin-residency-common';
import { futureTime, pickSigner, failed, reason } from './common';
import { isObject, parseStrictJson } from './json';
import {
  COSIGN_SIGN_PREDICATE,
  IN_TOTO_PAYLOAD_TYPE,
  parseStatement,
  subjectMatches,
  type Statement,
} from './statement';
import type {
  Check,
  FailedStep,
  Signer,
  SignedTime,
  VerifyContext,
} from './types';
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

/** Trust material of one configured root (cached per root hash); undefined when unusable. */
const rootCache = new Map<string, Omit<TrustMaterial, 'publicKey'>>();
export function rootMaterial(
  r: VerifyContext['trustedRoots'][number],
): Omit<TrustMaterial, 'publicKey'> | undefined {
  let m = rootCache.get(r.sha256);
  if (!m) {
    try {
      m = toTrustMaterial(TrustedRoot.fromJSON(r.json));
    } catch {
      return undefined; // an unusable root contributes nothing
    }
    if (rootCache.size > 32) rootCache.clear();
    rootCache.set(r.sha256, m);
  }
  return m;
}

/** Trust material of all configured roots together (key-based tlog/timestamp checks). */
export function rootsMaterial(
  roots: VerifyContext['trustedRoots'],
): Omit<TrustMaterial, 'publicKey'> {
  const out = emptyMaterial();
  for (const r of roots) {
    const m = rootMaterial(r);
    if (!m) continue;
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
  // Numbers of the log that protobuf JSON carries as strings must be canonical
  // non-negative integers (a negative logIndex is not a log position).
  const vm = isObject(doc.verificationMaterial)
    ? doc.verificationMaterial
    : undefined;
  if (vm && Array.isArray(vm.tlogEntries)) {
    for (const t of vm.tlogEntries) {
      if (!isObject(t)) continue;
      for (const f of ['logIndex', 'integratedTime'] as const) {
        const v = t[f];
        if (v !== undefined && !/^(?:0|[1-9][0-9]{0,18})$/.test(String(v)))
          return { error: `tlog entry ${f} is not a non-negative integer` };
      }
    }
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
    // @sigstore/bundle names the missing field; keep that short, typed, ours.
    const field = /(\S+) is missing/.exec(String((e as Error)?.message));
    return {
      error: `invalid bundle${
        field ? `: ${field[1].slice(0, 120)} is missing` : ''
      }`,
    };
  }
}

/** Plain messages per @sigstore/verify error code: no library text reaches a user. */
const VERIFIER_MESSAGES: Record<string, string> = {
  TLOG_ERROR: 'the transparency log entry is not valid',
  TLOG_INCLUSION_PROOF_ERROR:
    'the transparency log inclusion proof does not verify with a configured log',
  TLOG_INCLUSION_PROMISE_ERROR:
    'the transparency log entry timestamp does not verify with a configured log',
  TLOG_MISSING_INCLUSION_ERROR:
    'the transparency log entry has neither an inclusion proof nor a signed entry timestamp',
  TLOG_BODY_ERROR:
    'the transparency log entry does not describe this signature',
  CERTIFICATE_ERROR:
    'the certificate does not chain to a configured trusted root at the signing time, or lacks a required certificate transparency proof',
  PUBLIC_KEY_ERROR: 'no configured key matches',
  SIGNATURE_ERROR: 'the signature does not verify',
  TIMESTAMP_ERROR:
    'no trusted signing time (transparency log entry or RFC 3161 timestamp) verifies',
  NOT_IMPLEMENTED_ERROR: 'it uses a feature that is not supported',
};

/** The verifier's code and our plain sentence for it (never the library's text). */
export function verifierMessage(e: unknown): {
  code?: string;
  message: string;
} {
  const code = (e as { code?: string })?.code;
  return {
    ...(code ? { code } : {}),
    message: (code && VERIFIER_MESSAGES[code]) ?? 'it could not be verified',
  };
}

/** The report step a @sigstore/verify error code belongs to. */
export function verifierStep(e: unknown): FailedStep {
  const code = (e as { code?: string })?.code ?? '';
  if (code.startsWith('TLOG_')) return 'transparency_log';
  if (code === 'CERTIFICATE_ERROR') return 'certificate_chain';
  if (code === 'TIMESTAMP_ERROR') return 'timestamp';
  if (code === 'UNTRUSTED_SIGNER_ERROR') return 'identity';
  return 'signature_verified';
}

/** A verifier failure as one of our reasons (code kept in details, message ours). */
export function mapVerifierError(e: unknown, role: Check['role']): Reason {
  const code = (e as { code?: string })?.code;
  if (code === 'UNTRUSTED_SIGNER_ERROR' || code === 'PUBLIC_KEY_ERROR') {
    return reason(
      'key_untrusted',
      'The signer is not a configured key or identity.',
      code ? { verifier: code } : undefined,
    );
  }
  const why = (code && VERIFIER_MESSAGES[code]) ?? 'it could not be verified';
  return reason(
    role === 'signature' ? 'signature_invalid' : 'attestation_invalid',
    `Sigstore verification failed: ${why}.`,
    code ? { verifier: code } : undefined,
  );
}

/**
 * Whole-string match of a configured pattern. The one place identity patterns are
 * evaluated, so a linear-time matcher can replace RegExp here alone.
 */
/** Whole-string match on RE2 (linear time: the signer chooses `value`). */
function matchesWhole(pattern: string, value: string): boolean {
  try {
    return identityMatcher(pattern).test(value);
  } catch {
    return false;
  }
}

function identityMatches(
  ids: VerifyContext['identities'],
  subject: string | undefined,
  issuer: string | undefined,
): VerifyContext['identities'][number] | undefined {
  if (!subject || !issuer) return undefined;
  return ids.find(i => {
    if (i.issuer !== undefined ? i.issuer !== issuer : !i.issuerRegExp)
      return false;
    if (i.issuer === undefined && !matchesWhole(i.issuerRegExp!, issuer))
      return false;
    if (i.subject !== undefined) return i.subject === subject;
    return (
      i.subjectRegExp !== undefined && matchesWhole(i.subjectRegExp, subject)
    );
  });
}

/** The signed times an entity carries (RFC 3161 signing times, tlog integrated times). */
function signedTimesOf(entity: SignedEntity): Date[] {
  return signedTimesDetailed(entity).map(t => t.at);
}

/** The same times, each with where it came from (log id for log entries). */
function signedTimesDetailed(entity: SignedEntity): SignedTime[] {
  const out: SignedTime[] = [];
  for (const t of entity.timestamps) {
    if (t.$case === 'timestamp-authority')
      out.push({ source: 'rfc3161', at: t.timestamp.signingTime });
    else if (t.tlogEntry.inclusionPromise)
      out.push({
        source: 'tlog',
        at: new Date(Number(t.tlogEntry.integratedTime) * 1000),
        logId: Buffer.from(t.tlogEntry.logId?.keyId ?? []).toString('hex'),
      });
  }
  return out;
}

/**
 * Verifies a certificate-signed entity (keyless bundle, or a cosign `.sig` with a
 * Fulcio certificate) root by root: the thresholds follow the root whose CA issued
 * the certificate, as `gh attestation verify` and cosign do. A signing time is always
 * required (the certificate is short-lived); a tlog entry and an SCT only when that
 * root lists transparency logs / CT logs, so a TSA-only private deployment (GitHub's
 * shape) verifies beside the public-good root. The tenant's identities (subject
 * exact or whole-string regexp, issuer from the certificate's OIDC issuer
 * extension) give the region.
 */
export function verifyCertificateEntity(
  entity: SignedEntity,
  ctx: Pick<VerifyContext, 'trustedRoots' | 'identities' | 'at'>,
  role: Check['role'],
  options: { ignoreSct?: boolean } = {},
): { signer: Signer } | { error: Reason; step: FailedStep } {
  if (ctx.trustedRoots.length === 0) {
    return {
      step: 'certificate_chain',
      error: reason(
        'key_untrusted',
        'Certificate-signed material, but no trusted roots are configured.',
      ),
    };
  }
  let firstError: unknown;
  for (const root of ctx.trustedRoots) {
    const m = rootMaterial(root);
    if (!m || m.certificateAuthorities.length === 0) continue;
    let result;
    try {
      result = new Verifier(
        { ...m, publicKey: noKey },
        {
          tlogThreshold: m.tlogs.length > 0 ? 1 : 0,
          ctlogThreshold: m.ctlogs.length > 0 && !options.ignoreSct ? 1 : 0,
          timestampThreshold: 1,
        },
      ).verify(entity);
    } catch (e) {
      // A chain failure under another root is expected; keep the most telling error.
      if (
        firstError === undefined ||
        (firstError as { code?: string })?.code === 'CERTIFICATE_ERROR'
      )
        firstError = e;
      continue;
    }
    const future = futureTime(signedTimesOf(entity), ctx.at);
    if (future) {
      return {
        step: 'timestamp',
        error: reason(
          role === 'signature' ? 'signature_invalid' : 'attestation_invalid',
          `A signed time (${future.toISOString()}) lies after the verification time (${ctx.at.toISOString()}); it is refused.`,
          {
            signedTime: future.toISOString(),
            verifiedAt: ctx.at.toISOString(),
          },
        ),
      };
    }
    const subject = result.identity?.subjectAlternativeName;
    const issuer = result.identity?.extensions?.issuer;
    const match = identityMatches(ctx.identities, subject, issuer);
    if (!match) {
      return {
        step: 'identity',
        error: reason(
          'key_untrusted',
          'The certificate identity is not a configured identity of this tenant.',
          {
            subject: subject?.slice(0, 300),
            issuer: issuer?.slice(0, 300),
          },
        ),
      };
    }
    return {
      signer: {
        identity: {
          subject: subject!,
          issuer: issuer!,
          region: match.region,
          trustedRoot: root.name,
        },
        region: match.region,
        timeSource: 'trusted-timestamp',
        times: signedTimesDetailed(entity),
      },
    };
  }
  if (firstError === undefined) {
    return {
      step: 'certificate_chain',
      error: reason(
        'key_untrusted',
        'No configured trusted root has a certificate authority.',
      ),
    };
  }
  return {
    error: mapVerifierError(firstError, role),
    step: verifierStep(firstError),
  };
}

/**
 * The first authority or log whose validity has no start. The protobuf reader turns
 * a missing start into "valid since forever"; the spec requires it, so a root
 * lacking it is refused instead (sigstore-conformance
 * `trust-root-tlog-missing-validity-start_fail`).
 */
function missingValidityStart(json: unknown): string | undefined {
  if (!isObject(json)) return undefined;
  const lists: [string, (e: Record<string, unknown>) => unknown][] = [
    ['tlogs', e => (isObject(e.publicKey) ? e.publicKey.validFor : undefined)],
    ['ctlogs', e => (isObject(e.publicKey) ? e.publicKey.validFor : undefined)],
    ['certificateAuthorities', e => e.validFor],
    ['timestampAuthorities', e => e.validFor],
  ];
  for (const [field, validFor] of lists) {
    const list = json[field];
    if (!Array.isArray(list)) continue;
    for (const [i, e] of list.entries()) {
      if (!isObject(e)) continue;
      const v = validFor(e);
      if (!isObject(v) || typeof v.start !== 'string' || v.start === '')
        return `${field}[${i}]`;
    }
  }
  return undefined;
}

/**
 * Checks that a trusted_root.json document loads into trust material, for a typed
 * configuration error at load time instead of a root silently contributing nothing.
 * Every generation in use loads (older ones without optional fields, TSA-only,
 * log-only); returns a plain problem otherwise (never the library's text).
 */
export function trustedRootProblem(json: unknown): string | undefined {
  const unbounded = missingValidityStart(json);
  if (unbounded) return `${unbounded} has no validFor.start`;
  let m: Omit<TrustMaterial, 'publicKey'>;
  try {
    m = toTrustMaterial(TrustedRoot.fromJSON(json));
  } catch {
    return 'a required field is missing or malformed';
  }
  if (
    m.certificateAuthorities.length === 0 &&
    m.tlogs.length === 0 &&
    m.timestampAuthorities.length === 0
  ) {
    return 'it lists no certificate authority, transparency log or timestamp authority';
  }
  return undefined;
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
      undefined,
      'material_parsed',
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
        undefined,
        'material_parsed',
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
        undefined,
        'subject_digest',
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
        undefined,
        'subject_digest',
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
        'Sigstore bundle rejected: its signing material (certificate or key) is unusable.',
      ),
      undefined,
      'material_parsed',
    );
  }

  let signer: Signer | undefined;
  let statusError:
    | { error: Reason; signer: Signer; step: FailedStep }
    | undefined;
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
          undefined,
          'signature_verified',
        );
      }
      return failed(
        { ...base0, role: failRole },
        lastError
          ? mapVerifierError(lastError, failRole)
          : reason('key_untrusted', 'No keys are configured.'),
        undefined,
        lastError ? verifierStep(lastError) : 'signature_verified',
      );
    }
    // a usable key wins over a revoked/expired one
    for (const v of verifying) {
      const picked = pickSigner([v.key], v.times, ctx.at);
      if ('signer' in picked) {
        signer = {
          ...picked.signer,
          times: v.times.length > 0 ? signedTimesDetailed(entity) : [],
        };
        break;
      }
      statusError ??= {
        error: picked.error,
        signer: { key: v.key.info, region: v.key.info.region },
        step: picked.step,
      };
    }
  } else {
    const outcome = verifyCertificateEntity(entity, ctx, role);
    if ('error' in outcome)
      return failed({ ...base0, role }, outcome.error, undefined, outcome.step);
    signer = outcome.signer;
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
        'statement_parsed',
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
        'subject_digest',
      );
    }
  }
  const withRole = { ...base0, role, ...(statement ? { statement } : {}) };
  if (!signer)
    return failed(
      withRole,
      statusError!.error,
      statusError!.signer,
      statusError!.step,
    );
  return { ...withRole, verified: true, signer };
}
