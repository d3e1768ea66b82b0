/*
 * Consumer-side check of VSAs (the fast CD gate): the candidates found for an image
 * digest (DSSE envelopes from `.att` tags, Sigstore bundles from referrers) are
 * verified with the engine's own DSSE and bundle verifiers against exactly one
 * trusted key (never a key hint), then the newest VSA over that digest decides:
 * only a PASSED, fresh one (and, when asked, one naming the boundary) passes.
 */
import { createPublicKey } from 'node:crypto';
import type { DiscoverySource } from '@residency-dev/plugin-residency-common';
import { describePublicKey } from '../config';
import type { TrustedKey } from '../keys';
import { verifyBundle } from '../verify/bundle';
import { verifyEnvelope } from '../verify/dsse';
import { isObject } from '../verify/json';
import type { Check, VerifyContext } from '../verify/types';
import {
  VSA_DEFAULT_MAX_AGE_MS,
  VSA_LEVEL_PREFIX,
  VSA_PREDICATE_TYPE,
  VsaError,
  boundaryLevel,
} from './types';

/** Why a VSA gate passed or failed. @public */
export type VsaVerificationCode =
  | 'vsa_passed'
  | 'vsa_missing'
  | 'vsa_failed'
  | 'vsa_expired'
  | 'vsa_not_yet_valid'
  | 'vsa_boundary_mismatch'
  | 'vsa_verifier_mismatch'
  | 'vsa_malformed'
  | 'key_revoked'
  | 'key_expired';

/** The key a consumer trusts for VSAs. @public */
export interface VsaTrustedKey {
  publicKeyPem: string;
  /** A label for messages (default: the fingerprint). */
  id?: string;
  /** A revoked key invalidates every VSA it signed. */
  revoked?: boolean;
  validFrom?: string;
  validUntil?: string;
}

/** Options of {@link verifyVsa}. @public */
export interface VerifyVsaOptions {
  /** The image digest (`sha256:<hex>`) the VSA must be about, and only about. */
  digest: string;
  key: VsaTrustedKey;
  envelopes?: { envelope: string; source?: DiscoverySource }[];
  bundles?: { bundle: string; source?: DiscoverySource }[];
  /** Maximum age of `timeVerified`; default 24 h. */
  maxAgeMs?: number;
  /** Required boundary: a name (`eu-sovereign`) or level (`RESIDENCY_BOUNDARY_EU_SOVEREIGN`). */
  boundary?: string;
  /** Required `verifier.id`, when the consumer pins one. */
  verifierId?: string;
  now?: Date;
}

/** One VSA found and checked. @public */
export interface VsaSummary {
  format: 'dsse' | 'sigstore-bundle';
  source: DiscoverySource;
  verificationResult: string;
  timeVerified: string;
  verifiedLevels: string[];
  verifierId: string;
  resourceUri?: string;
  policy?: unknown;
  evidence?: unknown;
}

/** The outcome of a VSA gate. @public */
export interface VsaVerification {
  ok: boolean;
  code: VsaVerificationCode;
  message: string;
  /** The VSA that decided (the newest verified one over the digest). */
  vsa?: VsaSummary;
  /** Every candidate, with why it was not used. */
  candidates: {
    format: 'dsse' | 'sigstore-bundle';
    source: DiscoverySource;
    verified: boolean;
    predicateType?: string;
    error?: { code: string; message: string };
  }[];
}

/** Allowed clock skew for a `timeVerified` in the future. */
const FUTURE_SKEW_MS = 5 * 60 * 1000;
const MAX_CANDIDATES = 256;

function trustedKey(k: VsaTrustedKey): TrustedKey {
  let key;
  try {
    key = createPublicKey({ key: k.publicKeyPem, format: 'pem' });
  } catch (e) {
    throw new VsaError(
      'vsa_key_unreadable',
      `the VSA key is not a PEM public key: ${(e as Error).message}`,
    );
  }
  if (key.type !== 'public')
    throw new VsaError('vsa_key_unreadable', 'the VSA key is not a public key');
  const { algorithm, fingerprint } = describePublicKey(key);
  return {
    key,
    info: {
      id: k.id ?? fingerprint,
      fingerprint,
      algorithm,
      region: 'unknown',
      regionSource: 'explicit',
      revoked: k.revoked ?? false,
      ...(k.validFrom ? { validFrom: k.validFrom } : {}),
      ...(k.validUntil ? { validUntil: k.validUntil } : {}),
      publicKeyPem: key.export({ type: 'spki', format: 'pem' }).toString(),
    },
  };
}

function summaryOf(c: Check): VsaSummary | { error: string } {
  const p = c.statement!.predicate;
  const levels = p.verifiedLevels;
  const verifier = p.verifier;
  if (
    typeof p.verificationResult !== 'string' ||
    typeof p.timeVerified !== 'string' ||
    !Number.isFinite(Date.parse(p.timeVerified)) ||
    !Array.isArray(levels) ||
    !levels.every(l => typeof l === 'string') ||
    !isObject(verifier) ||
    typeof verifier.id !== 'string'
  ) {
    return {
      error:
        'VSA predicate lacks verifier.id, timeVerified, verificationResult or verifiedLevels',
    };
  }
  return {
    format: c.format === 'dsse' ? 'dsse' : 'sigstore-bundle',
    source: c.source,
    verificationResult: p.verificationResult,
    timeVerified: p.timeVerified,
    verifiedLevels: levels as string[],
    verifierId: verifier.id,
    ...(typeof p.resourceUri === 'string'
      ? { resourceUri: p.resourceUri }
      : {}),
    ...(p.policy !== undefined ? { policy: p.policy } : {}),
    ...(p['https://residency.dev/vsa/evidence/v1'] !== undefined
      ? { evidence: p['https://residency.dev/vsa/evidence/v1'] }
      : {}),
  };
}

/**
 * Decides a VSA gate for one digest. Never throws on hostile candidates (each becomes
 * a candidate error); throws VsaError only for an unusable key or options.
 *
 * @public
 */
export function verifyVsa(options: VerifyVsaOptions): VsaVerification {
  const now = options.now ?? new Date();
  const maxAge = options.maxAgeMs ?? VSA_DEFAULT_MAX_AGE_MS;
  if (!(maxAge > 0))
    throw new VsaError('vsa_input_invalid', 'maximum age must be positive');
  if (!/^sha(256|512):[0-9a-f]+$/.test(options.digest))
    throw new VsaError('vsa_input_invalid', `bad digest ${options.digest}`);
  let wantLevel: string | undefined;
  if (options.boundary !== undefined) {
    wantLevel = options.boundary.startsWith(VSA_LEVEL_PREFIX)
      ? options.boundary
      : boundaryLevel(options.boundary);
  }
  const ctx: VerifyContext = {
    digest: options.digest,
    keys: [trustedKey(options.key)],
    trustedRoots: [],
    identities: [],
    at: now,
  };
  const checks: Check[] = [];
  (options.envelopes ?? [])
    .slice(0, MAX_CANDIDATES)
    .forEach((e, index) =>
      checks.push(
        verifyEnvelope(
          { envelope: e.envelope, source: e.source ?? 'cosign-tag', index },
          ctx,
        ),
      ),
    );
  (options.bundles ?? [])
    .slice(0, MAX_CANDIDATES)
    .forEach((b, index) =>
      checks.push(
        verifyBundle(
          { bundle: b.bundle, source: b.source ?? 'referrers', index },
          ctx,
        ),
      ),
    );

  const candidates: VsaVerification['candidates'] = [];
  const vsas: VsaSummary[] = [];
  let keyProblem:
    | { code: 'key_revoked' | 'key_expired'; message: string }
    | undefined;
  for (const c of checks) {
    const predicateType = c.statement?.predicateType;
    const entry: VsaVerification['candidates'][number] = {
      format: c.format === 'dsse' ? 'dsse' : 'sigstore-bundle',
      source: c.source,
      verified: c.verified,
      ...(predicateType ? { predicateType: predicateType.slice(0, 200) } : {}),
    };
    candidates.push(entry);
    if (!c.verified) {
      if (c.error) {
        entry.error = { code: c.error.code, message: c.error.message };
        if (
          (c.error.code === 'key_revoked' || c.error.code === 'key_expired') &&
          predicateType === VSA_PREDICATE_TYPE
        ) {
          keyProblem ??= { code: c.error.code, message: c.error.message };
        }
      }
      continue;
    }
    if (predicateType !== VSA_PREDICATE_TYPE) continue;
    // one subject, and it is this digest: a VSA about a set says nothing definite here
    if (c.statement!.subjects.length !== 1) {
      entry.verified = false;
      entry.error = {
        code: 'vsa_malformed',
        message: 'a residency VSA names exactly one subject',
      };
      continue;
    }
    const s = summaryOf(c);
    if ('error' in s) {
      entry.verified = false;
      entry.error = { code: 'vsa_malformed', message: s.error };
      continue;
    }
    vsas.push(s);
  }

  const fail = (
    code: VsaVerificationCode,
    message: string,
    vsa?: VsaSummary,
  ): VsaVerification => ({
    ok: false,
    code,
    message,
    ...(vsa ? { vsa } : {}),
    candidates,
  });

  if (vsas.length === 0) {
    if (keyProblem) return fail(keyProblem.code, keyProblem.message);
    return fail(
      'vsa_missing',
      `no VSA over ${options.digest} verifies with the given key`,
    );
  }
  // The newest verdict decides: a later FAILED supersedes an earlier PASSED.
  vsas.sort((a, b) => Date.parse(b.timeVerified) - Date.parse(a.timeVerified));
  const pinned = options.verifierId
    ? vsas.filter(v => v.verifierId === options.verifierId)
    : vsas;
  if (pinned.length === 0) {
    return fail(
      'vsa_verifier_mismatch',
      `no VSA from verifier ${options.verifierId}`,
      vsas[0],
    );
  }
  const v = pinned[0];
  const t = Date.parse(v.timeVerified);
  if (v.verificationResult !== 'PASSED') {
    return fail(
      'vsa_failed',
      `the newest VSA (${v.timeVerified}) says ${v.verificationResult.slice(
        0,
        40,
      )}`,
      v,
    );
  }
  if (t > now.getTime() + FUTURE_SKEW_MS) {
    return fail(
      'vsa_not_yet_valid',
      `the VSA's timeVerified ${v.timeVerified} is in the future`,
      v,
    );
  }
  if (now.getTime() - t > maxAge) {
    return fail(
      'vsa_expired',
      `the VSA is from ${
        v.timeVerified
      }, older than the maximum age of ${Math.round(maxAge / 1000)} s`,
      v,
    );
  }
  if (wantLevel && !v.verifiedLevels.includes(wantLevel)) {
    return fail(
      'vsa_boundary_mismatch',
      `the VSA does not state ${wantLevel} (it states ${v.verifiedLevels.join(
        ', ',
      )})`,
      v,
    );
  }
  return {
    ok: true,
    code: 'vsa_passed',
    message: `PASSED at ${v.timeVerified} by ${v.verifierId}`,
    vsa: v,
    candidates,
  };
}
