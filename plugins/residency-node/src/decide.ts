/*
 * The decision: a pure function of the fetched material and configuration
 * snapshots (policy, trust, time). The engine calls it after fetching; evidence
 * verification calls it again on a record's own material to recompute the result.
 */
import { createHash } from 'node:crypto';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import {
  worstDecision,
  type AttestationKind,
  type AttestationResult,
  type Decision,
  type EntityResult,
  type EvidenceRecord,
  type ImageMaterial,
  type ImageResult,
  type Reason,
  type SignatureResult,
} from '@residency-dev/plugin-residency-common';
import type { ResidencySettings } from './api';
import { loadTrustedKeys } from './keys';
import { cachedChecks } from './verify/cache';
import { parseImageReference } from './reference';
import { evaluateRule } from './cel';
import { sha256Hex } from './canonical';
import { asSource, reason } from './verify/common';
import { verifySimpleSignature } from './verify/simplesigning';
import { verifyEnvelope } from './verify/dsse';
import { verifyBundle } from './verify/bundle';
import {
  externalReferences,
  kindOf,
  provenanceFacts,
  residencyPredicate,
  sbomFacts,
} from './verify/statement';
import type { Check, VerifyContext } from './verify/types';
import { VerifyError } from './errors';

/** Pure inputs of a decision: everything comes from configuration snapshots. */
export interface DecisionContext {
  policy: EvidenceRecord['policy'];
  trust: EvidenceRecord['trust'];
  /** Trusted roots with their documents (for keyless bundles). */
  trustedRoots: NonNullable<ResidencySettings['trustedRoots']>;
  tenantKnown: boolean;
  limits: ResidencySettings['limits'];
  at: Date;
  engineVersion: string;
  policyHash: string;
  trustHash: string;
}

/** One image: its material (fetched now, or reused from an earlier fetch). */
export interface ImageInput {
  material: ImageMaterial;
}

/** Source error codes that mean "bad input, nothing fetched". */
const INVALID_SOURCE_CODES = new Set(['bad_reference', 'registry_not_allowed']);
const SOURCE_REASONS = new Set([
  'registry_unreachable',
  'registry_auth',
  'rate_limited',
  'too_large',
  'digest_mismatch',
]);

function layoutKey(p: string) {
  return isAbsolute(p) ? resolvePath(p) : resolvePath(process.cwd(), p);
}

function keyRef(c: Check) {
  const k = c.signer?.key;
  return k
    ? { key: { id: k.id, fingerprint: k.fingerprint, region: k.region } }
    : {};
}

function inBoundary(region: string, ctx: DecisionContext) {
  return (ctx.policy.boundary?.regions ?? []).includes(region);
}

/**
 * Decides one image from its material, in the shape of sigstore-js's
 * `Verifier.verify`: each step is a named function; the first that settles the
 * decision returns it.
 */
export function decideImage(
  material: ImageMaterial,
  ctx: DecisionContext,
  trace?: { signatures: string[]; attestations: string[] },
): ImageResult {
  const located = locateImage(material, ctx);
  const { result } = located;
  const settled =
    refuseBadInput(material, located) ??
    boundaryOfRegistry(located, ctx) ??
    refuseFailedFetch(material, located);
  if (settled) return settled;
  const manifest = checkManifestDigest(material, located);
  if (!manifest) return result;
  const checks = cachedChecks(
    material,
    {
      trust: ctx.trust,
      trustedRoots: ctx.trustedRoots,
      identities: ctx.policy.identities,
      at: ctx.at,
    },
    () => verifyMaterial(material, manifest, ctx),
  );
  const tally = judgeChecks(checks, result, ctx, trace);
  const reasons = [
    ...located.reasons,
    ...tally.violations,
    ...unmetRequirements(material, checks, tally, ctx),
  ];
  result.reasons = dedupe(reasons);
  result.decision = result.reasons.length === 0 ? 'compliant' : 'non_compliant';
  return result;
}

/** An image result in the making, with the registry entry it resolved to. */
interface Located {
  result: ImageResult;
  parsedOk: boolean;
  registry?: DecisionContext['trust']['registries'][number];
  /** Violations found so far (registry outside the boundary). */
  reasons: Reason[];
}

/** Step 1: parse the reference and find its configured registry (or layout). */
function locateImage(material: ImageMaterial, ctx: DecisionContext): Located {
  const result: ImageResult = {
    reference: material.reference,
    decision: 'unknown',
    reasons: [],
    signatures: [],
    attestations: [],
  };
  if (material.claims) result.claims = material.claims;
  let parsedOk = false;
  try {
    const ref = parseImageReference(material.reference);
    parsedOk = true;
    if (ref.kind === 'layout') {
      result.registry = `oci:${layoutKey(ref.registry)}`;
      if (ref.tag) result.tag = ref.tag;
    } else {
      result.registry = ref.registry;
      result.repository = ref.repository;
      if (ref.tag) result.tag = ref.tag;
    }
  } catch {
    // reported by refuseBadInput from material.error, or as bad_reference
  }
  const registry = result.registry
    ? ctx.trust.registries.find(
        r =>
          r.host === result.registry ||
          (result.registry!.startsWith('oci:') &&
            r.host.startsWith('oci:') &&
            layoutKey(r.host.slice(4)) === result.registry!.slice(4)),
      )
    : undefined;
  if (registry) result.registryRegion = registry.region;
  return { result, parsedOk, registry, reasons: [] };
}

function settle(
  result: ImageResult,
  decision: Decision,
  reasons: Reason[],
): ImageResult {
  result.decision = decision;
  result.reasons = reasons;
  return result;
}

/** Step 2: bad input (nothing fetched) is `invalid`. */
function refuseBadInput(
  material: ImageMaterial,
  { result, parsedOk, registry }: Located,
): ImageResult | undefined {
  if (!parsedOk) {
    return settle(result, 'invalid', [
      reason(
        'bad_reference',
        material.error?.message ?? 'The image reference is not valid.',
        { reference: material.reference.slice(0, 300) },
      ),
    ]);
  }
  if (!registry || material.error?.code === 'registry_not_allowed') {
    return settle(result, 'invalid', [
      reason(
        'registry_not_allowed',
        `Registry ${result.registry} is not in the residency configuration.`,
        { registry: result.registry },
      ),
    ]);
  }
  if (material.error && INVALID_SOURCE_CODES.has(material.error.code)) {
    return settle(result, 'invalid', [
      reason(
        material.error.code as Reason['code'],
        material.error.message,
        material.error.details,
      ),
    ]);
  }
  return undefined;
}

/** Step 3: a registry outside the boundary is a violation (never settles alone). */
function boundaryOfRegistry(located: Located, ctx: DecisionContext): undefined {
  const reg = located.registry!;
  if (!inBoundary(reg.region, ctx)) {
    located.reasons.push(
      reason(
        'registry_outside_boundary',
        `Registry ${located.result.registry} is in region ${reg.region}, outside boundary ${ctx.policy.boundary?.name}.`,
        {
          registry: located.result.registry,
          region: reg.region,
          boundary: ctx.policy.boundary,
        },
      ),
    );
  }
  return undefined;
}

/** Step 4: I/O failures are unknown, never compliant. */
function refuseFailedFetch(
  material: ImageMaterial,
  { result, reasons }: Located,
): ImageResult | undefined {
  const decided = reasons.length > 0 ? 'non_compliant' : 'unknown';
  if (material.error) {
    const code = SOURCE_REASONS.has(material.error.code)
      ? material.error.code
      : 'registry_unreachable';
    return settle(result, decided, [
      ...reasons,
      reason(code as Reason['code'], material.error.message, {
        ...(material.error.details ?? {}),
        sourceCode: material.error.code,
      }),
    ]);
  }
  if (!material.digest || !material.manifest) {
    return settle(result, decided, [
      ...reasons,
      reason('registry_unreachable', 'The image was not resolved to a digest.'),
    ]);
  }
  return undefined;
}

/** Step 5: the recorded manifest must hash to the digest; returns its bytes. */
function checkManifestDigest(
  material: ImageMaterial,
  { result, reasons }: Located,
): Buffer | undefined {
  const digest = material.digest!;
  result.digest = digest;
  if (material.fetchedAt) result.verifiedAt = material.fetchedAt;
  const manifest = Buffer.from(material.manifest!, 'base64');
  const [alg, hex] = digest.split(':');
  const ours =
    alg === 'sha512'
      ? createHash('sha512').update(manifest).digest('hex')
      : sha256Hex(manifest);
  if (ours !== hex) {
    settle(result, 'unknown', [
      ...reasons,
      reason(
        'digest_mismatch',
        'The manifest bytes do not hash to the resolved digest.',
        { digest },
      ),
    ]);
    return undefined;
  }
  return manifest;
}

/** Step 6: verify everything found, against configuration only. */
function verifyMaterial(
  material: ImageMaterial,
  manifest: Buffer,
  ctx: DecisionContext,
): Check[] {
  const vctx: VerifyContext = {
    digest: material.digest!,
    manifest,
    keys: loadTrustedKeys(ctx.trust.keys).keys,
    trustedRoots: ctx.trustedRoots,
    identities: ctx.policy.identities ?? [],
    at: ctx.at,
  };
  return [
    ...material.simpleSignatures.map((s, index) =>
      verifySimpleSignature(
        {
          payload: Buffer.from(s.payload, 'base64'),
          signature: s.signature,
          certificate: s.certificate,
          chain: s.chain,
          rekorBundle: s.rekorBundle,
          rfc3161Timestamp: s.rfc3161Timestamp,
          source: asSource(s.source),
          index,
        },
        vctx,
      ),
    ),
    ...material.envelopes.map((e, index) =>
      verifyEnvelope(
        {
          envelope: e.envelope,
          source: asSource(e.source),
          index,
          certificate: e.certificate,
          rekorBundle: e.rekorBundle,
          rfc3161Timestamp: e.rfc3161Timestamp,
        },
        vctx,
      ),
    ),
    ...material.bundles.map((b, index) =>
      verifyBundle(
        { bundle: b.bundle, source: asSource(b.source), index },
        vctx,
      ),
    ),
  ];
}

/** What the checks add up to. */
interface Tally {
  /** Requirements met (`signature`, attestation kinds). */
  satisfied: Set<string>;
  /** Violations: failures of material that a configured key or identity signed. */
  violations: Reason[];
  /** Failures of material no configured key or identity signed, per role. */
  ignored: { signature: Reason[]; attestation: Reason[] };
  /** Distinct signers (key fingerprints, keyless identities) of verified signatures. */
  signers: Set<string>;
}

/**
 * Material that no configured key or identity verified proves nothing about this
 * image, for or against it: anyone who can push a tag can add such material, so it
 * is shown as ignored and never changes the decision. Only when a requirement is
 * left unmet are these failures reported, to say why.
 */
function isIgnored(c: Check): boolean {
  return !c.verified && !c.signer;
}

const IGNORED_NOTE = 'ignored: not signed by a configured key';

/** Step 7: judge each check (boundary, predicate facts) and record its result. */
function judgeChecks(
  checks: Check[],
  result: ImageResult,
  ctx: DecisionContext,
  trace?: { signatures: string[]; attestations: string[] },
): Tally {
  const tally: Tally = {
    satisfied: new Set(),
    violations: [],
    ignored: { signature: [], attestation: [] },
    signers: new Set(),
  };
  for (const c of checks) {
    const own: Reason[] = c.error ? [c.error] : [];
    let ok = c.verified && signerInBoundary(c, ctx, own);
    const { kind, facts, factsOk } = attestationFacts(c, ctx, own);
    ok = ok && factsOk;
    const ignored = isIgnored(c);
    if (ignored) tally.ignored[c.role].push(...own);
    else tally.violations.push(...own);
    const error = own.length > 0 ? { error: own[0] } : {};
    const ignoredNote = ignored ? { ignored: IGNORED_NOTE } : {};
    if (c.role === 'signature') {
      const sr: SignatureResult = {
        format:
          c.format === 'simplesigning' ? 'simplesigning' : 'sigstore-bundle',
        source: c.source,
        verified: ok,
        ...keyRef(c),
        ...(c.signer?.identity
          ? {
              identity: {
                subject: c.signer.identity.subject,
                issuer: c.signer.identity.issuer,
              },
            }
          : {}),
        ...error,
        ...ignoredNote,
      };
      result.signatures.push(sr);
      trace?.signatures.push(materialPath(c));
      if (ok) {
        tally.satisfied.add('signature');
        tally.signers.add(signerId(c));
      }
    } else {
      const ar: AttestationResult = {
        kind: kind === 'signature' ? 'other' : kind,
        predicateType: c.statement?.predicateType.slice(0, 300) ?? 'unknown',
        source: c.source,
        verified: ok,
        ...keyRef(c),
        ...(Object.keys(facts).length > 0 || c.signer
          ? {
              facts: {
                ...facts,
                ...(c.signer
                  ? {
                      signerRegion: c.signer.region,
                      timeSource: c.signer.timeSource,
                    }
                  : {}),
              },
            }
          : {}),
        ...error,
        ...ignoredNote,
      };
      result.attestations.push(ar);
      trace?.attestations.push(materialPath(c));
      if (ok && kind !== 'other' && kind !== 'signature')
        tally.satisfied.add(kind);
    }
  }
  return tally;
}

/** One signer counts once: a pinned key by fingerprint, a keyless identity by issuer and subject. */
function signerId(c: Check): string {
  const s = c.signer!;
  if (s.key) return `key:${s.key.fingerprint}`;
  return `identity:${s.identity?.issuer}\u0000${s.identity?.subject}`;
}

/** A configured signer whose region is outside the boundary proves out-of-boundary signing. */
function signerInBoundary(
  c: Check,
  ctx: DecisionContext,
  own: Reason[],
): boolean {
  const region = c.signer?.region;
  if (region === undefined || inBoundary(region, ctx)) return true;
  own.push(
    reason(
      'key_outside_boundary',
      `Signed by ${
        c.signer?.key?.id ?? c.signer?.identity?.subject
      } in region ${region}, outside boundary ${ctx.policy.boundary?.name}.`,
      {
        ...(c.signer?.key ? { keyId: c.signer.key.id } : {}),
        ...(c.signer?.identity ? { identity: c.signer.identity.subject } : {}),
        region,
        boundary: ctx.policy.boundary,
      },
    ),
  );
  return false;
}

/** The kind of a verified attestation and the facts its predicate gives (checked against policy). */
function attestationFacts(
  c: Check,
  ctx: DecisionContext,
  own: Reason[],
): {
  kind: AttestationKind | 'other' | 'signature';
  facts: Record<string, unknown>;
  factsOk: boolean;
} {
  const facts: Record<string, unknown> = {};
  if (!c.statement || c.role !== 'attestation') {
    return {
      kind: c.role === 'signature' ? 'signature' : 'other',
      facts,
      factsOk: true,
    };
  }
  const kind = kindOf(c.statement.predicateType) as AttestationKind | 'other';
  if (!c.verified) return { kind, facts, factsOk: true };
  let ok = true;
  try {
    if (kind === 'provenance') ok = provenanceOk(c, ctx, facts, own);
    else if (kind === 'sbom') Object.assign(facts, sbomFacts(c.statement));
    else if (kind === 'residency') ok = residencyOk(c, ctx, facts, own);
  } catch (e) {
    ok = false;
    const ve = e as VerifyError;
    own.push(
      reason(
        'malformed_statement',
        ve?.message ?? 'Malformed predicate.',
        ve?.details,
      ),
    );
  }
  return { kind, facts, factsOk: ok };
}

function provenanceOk(
  c: Check,
  ctx: DecisionContext,
  facts: Record<string, unknown>,
  own: Reason[],
): boolean {
  const allowedHosts = ctx.policy.allowedHosts ?? [];
  const pf = provenanceFacts(c.statement!);
  Object.assign(facts, {
    slsaVersion: pf.slsaVersion,
    builderId: pf.builderId,
    buildType: pf.buildType,
  });
  if (allowedHosts.length === 0) return true;
  const ext = externalReferences(pf, allowedHosts);
  if (ext.length === 0) return true;
  own.push(
    reason(
      'provenance_external_reference',
      `The build provenance references ${ext.length} location(s) outside the allowed hosts.`,
      { references: ext.slice(0, 20), allowedHosts },
    ),
  );
  return false;
}

function residencyOk(
  c: Check,
  ctx: DecisionContext,
  facts: Record<string, unknown>,
  own: Reason[],
): boolean {
  const region = c.signer?.region;
  const rp = residencyPredicate(c.statement!);
  Object.assign(facts, rp);
  let ok = true;
  const outside = [
    rp.buildRegion,
    ...rp.storageLocations.map(s => s.region),
    ...rp.dataLocations.map(d => d.region),
  ].filter(r => !inBoundary(r, ctx));
  if (outside.length > 0) {
    ok = false;
    own.push(
      reason(
        'region_mismatch',
        `The residency attestation names region(s) outside boundary ${
          ctx.policy.boundary?.name
        }: ${[...new Set(outside)].join(', ')}.`,
        { regions: [...new Set(outside)], boundary: ctx.policy.boundary },
      ),
    );
  }
  if (region !== undefined && rp.buildRegion !== region) {
    ok = false;
    own.push(
      reason(
        'region_mismatch',
        `The attestation says the image was built in ${rp.buildRegion}, but the key that signed it is in ${region}.`,
        {
          predicateRegion: rp.buildRegion,
          keyRegion: region,
          ...(c.signer?.key ? { keyId: c.signer.key.id } : {}),
        },
      ),
    );
  }
  return ok;
}

/** Step 8: requirements, each checked alone; an unmet one reports why. */
function unmetRequirements(
  material: ImageMaterial,
  checks: Check[],
  tally: Tally,
  ctx: DecisionContext,
): Reason[] {
  const out: Reason[] = [];
  const require =
    ctx.policy.require.length > 0 ? ctx.policy.require : ['signature' as const];
  const minSignatures = ctx.policy.minSignatures ?? 1;
  for (const r of require) {
    if (r === 'signature') {
      out.push(...signatureShortfall(material, checks, tally, minSignatures));
      continue;
    }
    if (tally.satisfied.has(r)) continue;
    out.push(...tally.ignored.attestation);
    out.push(
      reason(
        `attestation_missing:${r}`,
        `No verified ${r} attestation from a trusted in-boundary key.`,
        { type: r },
      ),
    );
  }
  return out;
}

function signatureShortfall(
  material: ImageMaterial,
  checks: Check[],
  tally: Tally,
  minSignatures: number,
): Reason[] {
  if (tally.satisfied.has('signature')) {
    if (tally.signers.size >= minSignatures) return [];
    return [
      reason(
        'signature_invalid',
        `The tenant requires ${minSignatures} signatures by distinct trusted in-boundary keys; ${tally.signers.size} verified.`,
        { required: minSignatures, distinctSigners: tally.signers.size },
      ),
    ];
  }
  if (checks.filter(c => c.role === 'signature').length === 0) {
    return [
      reason(
        'signature_missing',
        'No signature was found for this image digest.',
        { digest: material.digest },
      ),
    ];
  }
  const out = [...tally.ignored.signature];
  if (
    out.length === 0 &&
    !tally.violations.some(x => x.code !== 'registry_outside_boundary')
  ) {
    out.push(
      reason(
        'signature_invalid',
        'No signature verified with a trusted in-boundary key.',
      ),
    );
  }
  return out;
}

function materialPath(c: Check): string {
  const lists = {
    simplesigning: 'simpleSignatures',
    dsse: 'envelopes',
    'sigstore-bundle': 'bundles',
  } as const;
  return `${lists[c.format]}[${c.index}]`;
}

function dedupe(reasons: Reason[]): Reason[] {
  const seen = new Set<string>();
  return reasons.filter(r => {
    const k = `${r.code}\u0000${r.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Facts offered to tenant CEL rules: verified facts only. */
export function ruleFacts(
  result: Omit<EntityResult, 'decision' | 'reasons'>,
): Record<string, unknown> {
  return {
    entity: {
      ref: result.entityRef,
      tenant: result.tenant ?? '',
      declaredRegion: result.declaredRegion ?? '',
    },
    boundary: {
      name: result.boundary?.name ?? '',
      regions: result.boundary?.regions ?? [],
    },
    images: result.images.map(i => ({
      reference: i.reference,
      digest: i.digest ?? '',
      registry: i.registry ?? '',
      registryRegion: i.registryRegion ?? '',
      decision: i.decision,
      signatures: i.signatures
        .filter(s => s.verified)
        .map(s => ({
          format: s.format,
          keyId: s.key?.id ?? '',
          keyRegion: s.key?.region ?? '',
          subject: s.identity?.subject ?? '',
        })),
      attestations: i.attestations
        .filter(a => a.verified)
        .map(a => ({
          kind: a.kind,
          predicateType: a.predicateType,
          keyId: a.key?.id ?? '',
          keyRegion: a.key?.region ?? '',
          facts: a.facts ?? {},
        })),
    })),
  };
}

/** Decides one entity: tenant checks, each image, then the tenant's CEL rules. */
export function decideEntity(opts: {
  entityRef: string;
  tenant?: string;
  declaredRegion?: string;
  images: string[];
  inputs: ImageInput[];
  ctx: DecisionContext;
  /** Filled per image with the material path of each signature/attestation result. */
  traces?: { signatures: string[]; attestations: string[] }[];
}): EntityResult {
  const { ctx } = opts;
  const base: Omit<EntityResult, 'decision' | 'reasons'> = {
    entityRef: opts.entityRef,
    ...(opts.tenant !== undefined ? { tenant: opts.tenant } : {}),
    ...(ctx.policy.boundary ? { boundary: ctx.policy.boundary } : {}),
    ...(opts.declaredRegion !== undefined
      ? { declaredRegion: opts.declaredRegion }
      : {}),
    images: [],
    policyHash: ctx.policyHash,
    trustHash: ctx.trustHash,
    engineVersion: ctx.engineVersion,
    checkedAt: ctx.at.toISOString(),
  };
  const reasons: Reason[] = [];
  if (opts.tenant === undefined || opts.tenant === '') {
    return {
      ...base,
      decision: 'invalid',
      reasons: [
        reason(
          'tenant_missing',
          'The entity has no residency.dev/tenant annotation.',
        ),
      ],
    };
  }
  if (!ctx.tenantKnown) {
    return {
      ...base,
      decision: 'invalid',
      reasons: [
        reason(
          'tenant_unknown',
          `Tenant ${opts.tenant} is not defined in residency.tenants.`,
          { tenant: opts.tenant },
        ),
      ],
    };
  }
  if (opts.images.length === 0) {
    return {
      ...base,
      decision: 'invalid',
      reasons: [
        reason(
          'no_images',
          'The entity lists no images in residency.dev/images.',
        ),
      ],
    };
  }
  if (opts.images.length > ctx.limits.imagesPerEntity) {
    return {
      ...base,
      decision: 'invalid',
      reasons: [
        reason(
          'too_many_images',
          `The entity lists ${opts.images.length} images; the cap is ${ctx.limits.imagesPerEntity}.`,
          {
            count: opts.images.length,
            cap: ctx.limits.imagesPerEntity,
          },
        ),
      ],
    };
  }
  const decisions: Decision[] = [];
  if (
    opts.declaredRegion !== undefined &&
    !inBoundary(opts.declaredRegion, ctx)
  ) {
    reasons.push(
      reason(
        'declared_region_outside_boundary',
        `Declared region ${opts.declaredRegion} is outside boundary ${ctx.policy.boundary?.name}.`,
        {
          region: opts.declaredRegion,
          boundary: ctx.policy.boundary,
        },
      ),
    );
    decisions.push('non_compliant');
  }
  // Reused material is decided again (cheap, offline): only the fetch is skipped,
  // so key expiry or revocation since the last fetch still changes the decision,
  // and the evidence recomputation always matches.
  base.images = opts.inputs.map((i, n) => {
    const trace = { signatures: [] as string[], attestations: [] as string[] };
    if (opts.traces) opts.traces[n] = trace;
    return decideImage(i.material, ctx, trace);
  });
  for (const img of base.images) decisions.push(img.decision);
  for (const rule of ctx.policy.rules ?? []) {
    const out = evaluateRule(rule.expression, ruleFacts(base));
    if (!out.ok) {
      reasons.push(
        reason(`custom_rule:${rule.id}`, rule.message, {
          rule: rule.id,
          ...(out.error ? { error: out.error.slice(0, 300) } : {}),
        }),
      );
      decisions.push('non_compliant');
    }
  }
  return { ...base, decision: worstDecision(decisions), reasons };
}
