/*
 * The decision: a pure function of the fetched material and configuration
 * snapshots (policy, trust, time). The engine calls it after fetching; evidence
 * verification calls it again on a record's own material to recompute the result.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
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
  type CheckId,
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
import {
  describeSeconds,
  isKeyless,
  materialRef,
  notApplicable,
  recordVerifierSteps,
  ReportRecorder,
  skipped,
  trustworthyTime,
} from './report';

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

/**
 * Resolved layout paths, for the current working directory: every image of a layout
 * names the same path, and the trust snapshot's layout registries are compared with
 * it for each image, so each path is resolved once instead of twice per image.
 */
let layoutKeys = { cwd: '', keys: new Map<string, string>() };

function layoutKey(p: string) {
  const cwd = process.cwd();
  if (layoutKeys.cwd !== cwd) layoutKeys = { cwd, keys: new Map() };
  let key = layoutKeys.keys.get(p);
  if (key === undefined) {
    key = isAbsolute(p) ? resolvePath(p) : resolvePath(cwd, p);
    // Bounded: paths come from image references, which are input.
    if (layoutKeys.keys.size >= 1024) layoutKeys.keys.clear();
    layoutKeys.keys.set(p, key);
  }
  return key;
}

function keyOf(c: Check) {
  const k = c.signer?.key;
  return k
    ? { id: k.id, fingerprint: k.fingerprint, region: k.region }
    : undefined;
}

/** Report texts that depend only on the decision context: built once per context. */
interface ContextTexts {
  regionExpected: string;
  trustedRootNames: string[];
}
const contextTexts = new WeakMap<DecisionContext, ContextTexts>();

function texts(ctx: DecisionContext): ContextTexts {
  let t = contextTexts.get(ctx);
  if (!t) {
    t = {
      regionExpected: `a region of boundary ${ctx.policy.boundary?.name} (${(
        ctx.policy.boundary?.regions ?? []
      ).join(', ')})`,
      trustedRootNames: ctx.trustedRoots.map(r => r.name),
    };
    contextTexts.set(ctx, t);
  }
  return t;
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
  const rec = new ReportRecorder();
  const located = locateImage(material, ctx, rec);
  const { result } = located;
  const done = (r: ImageResult) => {
    r.report = rec.report();
    return r;
  };
  const settled =
    refuseBadInput(material, located, rec) ??
    boundaryOfRegistry(located, ctx, rec) ??
    refuseFailedFetch(material, located, rec);
  if (settled) return done(settled);
  const manifest = checkManifestDigest(material, located, rec);
  if (!manifest) return done(result);
  recordDiscovery(material, rec);
  const { checks, durations } = cachedChecks(
    material,
    {
      trust: ctx.trust,
      trustedRoots: ctx.trustedRoots,
      identities: ctx.policy.identities,
      at: ctx.at,
    },
    () => verifyMaterial(material, manifest, ctx),
  );
  const tally = judgeChecks(checks, result, ctx, trace, {
    rec,
    material,
    durations,
  });
  const reasons = [
    ...located.reasons,
    ...tally.violations,
    ...unmetRequirements(material, checks, tally, ctx, rec),
  ];
  result.reasons = dedupe(reasons);
  result.decision = result.reasons.length === 0 ? 'compliant' : 'non_compliant';
  return done(result);
}

/** Image steps after the manifest: what discovery found, per list and source. */
function recordDiscovery(material: ImageMaterial, rec: ReportRecorder): void {
  // The lists as they are now (the record keeps the material; its lists are not
  // changed after the decision, but a copy of three references costs nothing).
  const lists = {
    simpleSignatures: material.simpleSignatures,
    envelopes: material.envelopes,
    bundles: material.bundles,
  };
  rec.deferTimed((r, durationMs) => writeDiscovery(lists, r, durationMs));
}

function writeDiscovery(
  material: Pick<ImageMaterial, 'simpleSignatures' | 'envelopes' | 'bundles'>,
  rec: ReportRecorder,
  durationMs: number | undefined,
): void {
  const count = (list: { source: string }[], what: string) => {
    if (list.length === 0) return [];
    const by = new Map<string, number>();
    for (const m of list) by.set(m.source, (by.get(m.source) ?? 0) + 1);
    return [
      `${list.length} ${what} (${[...by]
        .map(([k, n]) => `${n} via ${k}`)
        .join(', ')})`,
    ];
  };
  const found = [
    ...count(material.simpleSignatures, 'simple-signing signature(s)'),
    ...count(material.envelopes, 'DSSE envelope(s)'),
    ...count(material.bundles, 'Sigstore bundle(s)'),
  ];
  rec.pass('discovery', {
    expected:
      'signatures and attestations of this digest: cosign tags (sha256-<hex>.sig/.att), OCI referrers, or the layout',
    found: found.length > 0 ? found.join('; ') : 'nothing',
    ...(durationMs === undefined ? {} : { durationMs }),
  });
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
function locateImage(
  material: ImageMaterial,
  ctx: DecisionContext,
  rec: ReportRecorder,
): Located {
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
    rec.pass('reference_parsed', {
      expected: 'registry/repository[:tag][@digest] or oci:<path>',
      found: [result.registry, result.repository, result.tag]
        .filter(Boolean)
        .join(' '),
    });
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
  rec: ReportRecorder,
): ImageResult | undefined {
  if (!parsedOk) {
    const why = reason(
      'bad_reference',
      material.error?.message ?? 'The image reference is not valid.',
      { reference: material.reference.slice(0, 300) },
    );
    rec.fail('reference_parsed', why, {
      expected: 'registry/repository[:tag][@digest] or oci:<path>',
    });
    return settle(result, 'invalid', [why]);
  }
  if (!registry || material.error?.code === 'registry_not_allowed') {
    const why = reason(
      'registry_not_allowed',
      `Registry ${result.registry} is not in the residency configuration.`,
      { registry: result.registry },
    );
    rec.fail('registry_allowed', why, {
      expected: 'a registry or layout listed in the residency configuration',
      found: `${result.registry}, not configured`,
    });
    return settle(result, 'invalid', [why]);
  }
  rec.pass('registry_allowed', {
    expected: 'a registry or layout listed in the residency configuration',
    found: `${registry.host}, configured in region ${registry.region}`,
  });
  if (material.error && INVALID_SOURCE_CODES.has(material.error.code)) {
    const why = reason(
      material.error.code as Reason['code'],
      material.error.message,
      material.error.details,
    );
    rec.fail('tag_resolved', why);
    return settle(result, 'invalid', [why]);
  }
  return undefined;
}

/** Step 3: a registry outside the boundary is a violation (never settles alone). */
function boundaryOfRegistry(
  located: Located,
  ctx: DecisionContext,
  rec: ReportRecorder,
): undefined {
  const reg = located.registry!;
  const expected = texts(ctx).regionExpected;
  if (inBoundary(reg.region, ctx)) {
    rec.pass('registry_region', { expected, found: reg.region });
  } else {
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
    rec.fail('registry_region', located.reasons[0], {
      expected,
      found: reg.region,
    });
  }
  return undefined;
}

/** Step 4: I/O failures are unknown, never compliant. */
function refuseFailedFetch(
  material: ImageMaterial,
  { result, reasons }: Located,
  rec: ReportRecorder,
): ImageResult | undefined {
  const decided = reasons.length > 0 ? 'non_compliant' : 'unknown';
  const expected = `one digest for ${
    result.tag ? `tag ${result.tag}` : 'the reference'
  }`;
  if (material.error) {
    const code = SOURCE_REASONS.has(material.error.code)
      ? material.error.code
      : 'registry_unreachable';
    const why = reason(code as Reason['code'], material.error.message, {
      ...(material.error.details ?? {}),
      sourceCode: material.error.code,
    });
    // resolved, then the signatures could not be fetched: the failure is discovery's
    if (material.digest)
      rec.pass('tag_resolved', { expected, found: material.digest });
    rec.fail(material.digest ? 'discovery' : 'tag_resolved', why, {
      expected: material.digest
        ? 'the signatures and attestations of this digest'
        : expected,
    });
    return settle(result, decided, [...reasons, why]);
  }
  if (!material.digest || !material.manifest) {
    const why = reason(
      'registry_unreachable',
      'The image was not resolved to a digest.',
    );
    rec.fail('tag_resolved', why, { expected });
    return settle(result, decided, [...reasons, why]);
  }
  rec.pass('tag_resolved', {
    expected,
    found: material.fetchedAt
      ? `${material.digest} (material fetched ${material.fetchedAt})`
      : material.digest,
  });
  return undefined;
}

/** Step 5: the recorded manifest must hash to the digest; returns its bytes. */
function checkManifestDigest(
  material: ImageMaterial,
  { result, reasons }: Located,
  rec: ReportRecorder,
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
  const found = `${manifest.length} bytes hash to ${alg}:${ours}`;
  if (ours !== hex) {
    const why = reason(
      'digest_mismatch',
      'The manifest bytes do not hash to the resolved digest.',
      { digest },
    );
    rec.fail('manifest_hashed', why, { expected: digest, found });
    settle(result, 'unknown', [...reasons, why]);
    return undefined;
  }
  rec.pass('manifest_hashed', { expected: digest, found });
  return manifest;
}

/** Step 6: verify everything found, against configuration only. */
function verifyMaterial(
  material: ImageMaterial,
  manifest: Buffer,
  ctx: DecisionContext,
): { checks: Check[]; durations: number[] } {
  const vctx: VerifyContext = {
    digest: material.digest!,
    manifest,
    keys: loadTrustedKeys(ctx.trust.keys).keys,
    trustedRoots: ctx.trustedRoots,
    identities: ctx.policy.identities ?? [],
    at: ctx.at,
  };
  const checks: Check[] = [];
  const durations: number[] = [];
  // One clock read per check: each check's time runs from the end of the one before.
  let t0 = performance.now();
  const timed = (c: Check) => {
    const t1 = performance.now();
    checks.push(c);
    durations.push(Math.round((t1 - t0) * 1000) / 1000);
    t0 = t1;
  };
  material.simpleSignatures.forEach((s, index) =>
    timed(
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
  );
  material.envelopes.forEach((e, index) =>
    timed(
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
  );
  material.bundles.forEach((b, index) =>
    timed(
      verifyBundle(
        { bundle: b.bundle, source: asSource(b.source), index },
        vctx,
      ),
    ),
  );
  return { checks, durations };
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
  /** Kinds whose deciding attestation is older than maxAge (or cannot prove its age). */
  stale: Map<AttestationKind, Reason>;
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
  trace: { signatures: string[]; attestations: string[] } | undefined,
  report: { rec: ReportRecorder; material: ImageMaterial; durations: number[] },
): Tally {
  const tally: Tally = {
    satisfied: new Set(),
    violations: [],
    ignored: { signature: [], attestation: [] },
    signers: new Set(),
    stale: new Map(),
  };
  const fresh: FreshnessCandidate[] = [];
  for (const [n, c] of checks.entries()) {
    const own: Reason[] = c.error ? [c.error] : [];
    const regionOk = c.verified && signerInBoundary(c, ctx, own);
    const afterRegion = own.length;
    const { kind, facts, factsOk } = attestationFacts(c, ctx, own);
    const ok = regionOk && factsOk;
    const index =
      c.role === 'signature'
        ? result.signatures.length
        : result.attestations.length;
    recordMaterial(c, index, ctx, report, {
      kind,
      regionReason: regionOk ? undefined : own[afterRegion - 1],
      factReasons: own.slice(afterRegion),
      durationMs: report.durations[n] ?? 0,
    });
    const ignored = isIgnored(c);
    if (ignored) tally.ignored[c.role].push(...own);
    else tally.violations.push(...own);
    // The result objects are filled field by field, in the order of their JSON
    // (key, identity, error, ignored), without a temporary object per optional field.
    const key = keyOf(c);
    if (c.role === 'signature') {
      const sr: SignatureResult = {
        format:
          c.format === 'simplesigning' ? 'simplesigning' : 'sigstore-bundle',
        source: c.source,
        verified: ok,
      };
      if (key) sr.key = key;
      if (c.signer?.identity)
        sr.identity = {
          subject: c.signer.identity.subject,
          issuer: c.signer.identity.issuer,
        };
      if (own.length > 0) sr.error = own[0];
      if (ignored) sr.ignored = IGNORED_NOTE;
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
      };
      if (key) ar.key = key;
      // `facts` is this check's own object (attestationFacts makes a new one).
      if (c.signer) {
        facts.signerRegion = c.signer.region;
        facts.timeSource = c.signer.timeSource;
      }
      if (Object.keys(facts).length > 0) ar.facts = facts;
      if (own.length > 0) ar.error = own[0];
      if (ignored) ar.ignored = IGNORED_NOTE;
      const time = trustworthyTime(c);
      if (time) ar.signedAt = time.at.toISOString();
      result.attestations.push(ar);
      trace?.attestations.push(materialPath(c));
      if (ok && kind !== 'other' && kind !== 'signature') {
        tally.satisfied.add(kind);
        fresh.push({ kind, index, result: ar, check: c, time: time?.at });
      }
    }
  }
  judgeFreshness(fresh, tally, ctx, report.rec);
  return tally;
}

/** A verified attestation of a known kind, for the freshness and newest-of-kind checks. */
interface FreshnessCandidate {
  kind: AttestationKind;
  index: number;
  result: AttestationResult;
  check: Check;
  /** Trustworthy signed time, if any. */
  time?: Date;
}

/**
 * Freshness (issue 19 items 4-5): per kind, the newest verified attestation by
 * trustworthy signed time decides and older ones are superseded; with a tenant
 * `maxAge` for the kind, the deciding one must be younger, and one with only the
 * verification time cannot prove its age. A stale kind no longer satisfies its
 * requirement (reported as `attestation_stale:<kind>`).
 */
function judgeFreshness(
  fresh: FreshnessCandidate[],
  tally: Tally,
  ctx: DecisionContext,
  rec: ReportRecorder,
): void {
  const kinds = [...new Set(fresh.map(f => f.kind))];
  for (const kind of kinds) {
    const all = fresh.filter(f => f.kind === kind);
    const timed = all
      .filter(f => f.time)
      .sort((a, b) => b.time!.getTime() - a.time!.getTime());
    const newest = timed[0];
    for (const f of all) {
      const material = materialRef(f.check, f.index);
      if (newest && f.time && f !== newest && f.time < newest.time!) {
        f.result.superseded = `attestations[${newest.index}]`;
        rec.skip(
          'attestation_newest',
          `superseded by attestations[${
            newest.index
          }], signed later (${newest.time!.toISOString()})`,
          { material, durationMs: 0, found: `signed ${f.time.toISOString()}` },
        );
      } else {
        rec.pass('attestation_newest', {
          material,
          durationMs: 0,
          expected: `the newest verified ${kind} attestation by trustworthy signed time`,
          found: f.time
            ? `signed ${f.time.toISOString()}${
                all.length > 1 ? `, newest of ${all.length}` : ''
              }`
            : 'no trustworthy signed time: not ordered against the others',
        });
      }
    }
    const limit = ctx.policy.maxAgeSeconds?.[kind];
    const deciding = newest ?? all[0];
    const material = materialRef(deciding.check, deciding.index);
    if (limit === undefined) {
      rec.notApplicable(
        'attestation_freshness',
        `the tenant sets no maxAge for ${kind}`,
        { material, durationMs: 0 },
      );
      continue;
    }
    const expected = `signed at most ${describeSeconds(
      limit,
    )} before the check`;
    if (!deciding.time) {
      const why = reason(
        `attestation_stale:${kind}`,
        `The ${kind} attestation has no trustworthy signed time (transparency log or RFC 3161 timestamp), so it cannot prove it is younger than ${describeSeconds(
          limit,
        )}.`,
        { kind, maxAgeSeconds: limit, ageSeconds: null },
      );
      tally.stale.set(kind, why);
      rec.fail('attestation_freshness', why, {
        material,
        durationMs: 0,
        expected,
        found: 'only the verification time: the age cannot be proven',
        time: { source: 'verification_time', at: ctx.at.toISOString() },
      });
      continue;
    }
    const age = Math.floor((ctx.at.getTime() - deciding.time.getTime()) / 1000);
    const t = trustworthyTime(deciding.check)!;
    const time = { source: t.source, at: t.at.toISOString() };
    if (age > limit) {
      const why = reason(
        `attestation_stale:${kind}`,
        `The newest verified ${kind} attestation is ${describeSeconds(
          age,
        )} old; the tenant allows ${describeSeconds(limit)}.`,
        { kind, ageSeconds: age, maxAgeSeconds: limit, signedAt: time.at },
      );
      tally.stale.set(kind, why);
      rec.fail('attestation_freshness', why, {
        material,
        durationMs: 0,
        expected,
        found: `signed ${describeSeconds(age)} before the check`,
        time,
      });
    } else {
      rec.pass('attestation_freshness', {
        material,
        durationMs: 0,
        expected,
        found: `signed ${describeSeconds(age)} before the check`,
        time,
      });
    }
  }
  for (const kind of tally.stale.keys()) tally.satisfied.delete(kind);
}

/** The report of one signature or attestation: verifier steps, then the judgement. */
function recordMaterial(
  c: Check,
  index: number,
  ctx: DecisionContext,
  report: { rec: ReportRecorder; material: ImageMaterial },
  judged: {
    kind: AttestationKind | 'other' | 'signature';
    regionReason?: Reason;
    factReasons: Reason[];
    durationMs: number;
  },
): void {
  // Read from the image's material now: only the frozen context, the cached
  // verifier result and these values are read when the checks are expanded.
  const keyless = isKeyless(c, report.material, ctx.trustedRoots.length);
  const digest = report.material.digest!;
  report.rec.defer(rec =>
    expandMaterialChecks(c, index, ctx, judged, keyless, digest, rec),
  );
}

/** The checks of one material (see `recordMaterial`), written when the report is read. */
function expandMaterialChecks(
  c: Check,
  index: number,
  ctx: DecisionContext,
  judged: {
    kind: AttestationKind | 'other' | 'signature';
    regionReason?: Reason;
    factReasons: Reason[];
    durationMs: number;
  },
  keyless: boolean,
  digest: string,
  rec: ReportRecorder,
): void {
  const material = materialRef(c, index);
  recordVerifierSteps(
    {
      check: c,
      index,
      keyless,
      digest,
      at: ctx.at,
      policy: ctx.policy,
      keys: ctx.trust.keys,
      trustedRoots: texts(ctx).trustedRootNames,
      durationMs: judged.durationMs,
      material,
    },
    rec,
  );
  const predicateIds = [
    'predicate_external_references',
    'predicate_regions',
  ] as const;
  if (!c.verified) {
    skipped(rec, ['key_region'], material);
    if (c.role === 'attestation') skipped(rec, [...predicateIds], material);
    return;
  }
  const expected = texts(ctx).regionExpected;
  if (judged.regionReason)
    rec.fail('key_region', judged.regionReason, {
      material,
      durationMs: 0,
      expected,
      found: c.signer?.region,
    });
  else
    rec.pass('key_region', {
      material,
      durationMs: 0,
      expected,
      found: c.signer?.region,
    });
  if (c.role === 'signature') return;
  recordPredicate(judged.kind, judged.factReasons, ctx, rec, material);
}

/** Predicate checks of a verified attestation: external references (provenance), regions (residency). */
function recordPredicate(
  kind: AttestationKind | 'other' | 'signature',
  reasons: Reason[],
  ctx: DecisionContext,
  rec: ReportRecorder,
  material: ReturnType<typeof materialRef>,
): void {
  const f = { material, durationMs: 0 };
  const malformed = reasons.find(r => r.code === 'malformed_statement');
  const hosts = ctx.policy.allowedHosts ?? [];
  if (kind !== 'provenance') {
    notApplicable(
      rec,
      ['predicate_external_references'],
      `not a provenance attestation (${kind})`,
      material,
    );
  } else if (hosts.length === 0) {
    rec.notApplicable(
      'predicate_external_references',
      'the tenant sets no allowedHosts',
      f,
    );
  } else {
    const ext =
      malformed ??
      reasons.find(r => r.code === 'provenance_external_reference');
    const expected = `only hosts ${hosts.join(', ')}`;
    if (ext) {
      const refs = ext.details?.references;
      rec.fail('predicate_external_references', ext, {
        ...f,
        expected,
        found: Array.isArray(refs) ? refs.slice(0, 5).join(', ') : ext.message,
      });
    } else
      rec.pass('predicate_external_references', {
        ...f,
        expected,
        found: 'no external reference',
      });
  }
  if (kind !== 'residency') {
    notApplicable(
      rec,
      ['predicate_regions'],
      `not a residency attestation (${kind})`,
      material,
    );
    return;
  }
  const regions = reasons.filter(r => r.code === 'region_mismatch');
  const expected = `regions inside boundary ${ctx.policy.boundary?.name}, build region = the key's region`;
  if (malformed ?? regions[0])
    rec.fail('predicate_regions', malformed ?? regions[0], {
      ...f,
      expected,
      found: (malformed ? [malformed] : regions).map(r => r.message).join(' '),
    });
  else
    rec.pass('predicate_regions', {
      ...f,
      expected,
      found: 'all named regions inside the boundary',
    });
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
  rec: ReportRecorder,
): Reason[] {
  const out: Reason[] = [];
  const require =
    ctx.policy.require.length > 0 ? ctx.policy.require : ['signature' as const];
  const minSignatures = ctx.policy.minSignatures ?? 1;
  for (const r of require) {
    if (r === 'signature') {
      const short = signatureShortfall(material, checks, tally, minSignatures);
      recordRequirement(
        rec,
        r,
        tally.satisfied.has('signature') && short.length === 0,
        short,
        {
          expected: `${minSignatures} verified signature(s) by distinct trusted in-boundary signers`,
          found: `${tally.signers.size} verified`,
        },
      );
      out.push(...short);
      continue;
    }
    const expected = `a verified ${r} attestation from a trusted in-boundary signer`;
    if (tally.satisfied.has(r)) {
      recordRequirement(rec, r, true, [], {
        expected,
        found: 'present and verified',
      });
      continue;
    }
    const stale = tally.stale.get(r);
    const unmet = stale
      ? [stale]
      : [
          ...tally.ignored.attestation,
          reason(
            `attestation_missing:${r}`,
            `No verified ${r} attestation from a trusted in-boundary key.`,
            { type: r },
          ),
        ];
    recordRequirement(rec, r, false, unmet, {
      expected,
      found: stale ? 'verified, but stale' : 'none verified',
    });
    out.push(...unmet);
  }
  return out;
}

/** One tenant requirement in the report: the last reason is the one that settles it. */
function recordRequirement(
  rec: ReportRecorder,
  requirement: string,
  met: boolean,
  unmet: Reason[],
  f: { expected: string; found: string },
): void {
  const fields = {
    ...f,
    expected: `${requirement}: ${f.expected}`,
    durationMs: 0,
  };
  if (met) rec.pass('requirement', fields);
  else rec.fail('requirement', unmet[unmet.length - 1], fields);
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
      // a superseded attestation was replaced by a newer one of its kind
      attestations: i.attestations
        .filter(a => a.verified && !a.superseded)
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

/** A CEL rule's result in words: true, false, or the evaluation error. */
function ruleOutcome(out: { ok: boolean; error?: string }): string {
  if (out.ok) return 'true';
  return out.error ? `error: ${out.error.slice(0, 300)}` : 'false';
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
  const rec = new ReportRecorder();
  const invalid = (
    id: CheckId,
    why: Reason,
    expected: string,
  ): EntityResult => {
    rec.fail(id, why, { expected });
    return {
      ...base,
      decision: 'invalid',
      reasons: [why],
      report: rec.report(),
    };
  };
  const tenantExpected = 'a tenant defined in residency.tenants';
  if (opts.tenant === undefined || opts.tenant === '') {
    return invalid(
      'tenant_known',
      reason(
        'tenant_missing',
        'The entity has no residency.dev/tenant annotation.',
      ),
      tenantExpected,
    );
  }
  if (!ctx.tenantKnown) {
    return invalid(
      'tenant_known',
      reason(
        'tenant_unknown',
        `Tenant ${opts.tenant} is not defined in residency.tenants.`,
        { tenant: opts.tenant },
      ),
      tenantExpected,
    );
  }
  rec.pass('tenant_known', { expected: tenantExpected, found: opts.tenant });
  const imagesExpected = `1 to ${ctx.limits.imagesPerEntity} images in residency.dev/images`;
  if (opts.images.length === 0) {
    return invalid(
      'images_listed',
      reason(
        'no_images',
        'The entity lists no images in residency.dev/images.',
      ),
      imagesExpected,
    );
  }
  if (opts.images.length > ctx.limits.imagesPerEntity) {
    return invalid(
      'images_listed',
      reason(
        'too_many_images',
        `The entity lists ${opts.images.length} images; the cap is ${ctx.limits.imagesPerEntity}.`,
        {
          count: opts.images.length,
          cap: ctx.limits.imagesPerEntity,
        },
      ),
      imagesExpected,
    );
  }
  rec.pass('images_listed', {
    expected: imagesExpected,
    found: `${opts.images.length} image(s)`,
  });
  const decisions: Decision[] = [];
  const regionExpected = texts(ctx).regionExpected;
  if (opts.declaredRegion === undefined) {
    rec.notApplicable('declared_region', 'no residency.dev/region annotation');
  } else if (!inBoundary(opts.declaredRegion, ctx)) {
    const why = reason(
      'declared_region_outside_boundary',
      `Declared region ${opts.declaredRegion} is outside boundary ${ctx.policy.boundary?.name}.`,
      {
        region: opts.declaredRegion,
        boundary: ctx.policy.boundary,
      },
    );
    reasons.push(why);
    rec.fail('declared_region', why, {
      expected: regionExpected,
      found: opts.declaredRegion,
    });
    decisions.push('non_compliant');
  } else {
    rec.pass('declared_region', {
      expected: regionExpected,
      found: opts.declaredRegion,
    });
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
  rec.start();
  if ((ctx.policy.rules ?? []).length === 0)
    rec.notApplicable('tenant_rule', 'the tenant defines no rules');
  for (const rule of ctx.policy.rules ?? []) {
    const out = evaluateRule(rule.expression, ruleFacts(base));
    const fields = {
      expected: `rule ${rule.id}: ${rule.expression.slice(0, 500)} is true`,
      found: ruleOutcome(out),
    };
    if (!out.ok) {
      const why = reason(`custom_rule:${rule.id}`, rule.message, {
        rule: rule.id,
        ...(out.error ? { error: out.error.slice(0, 300) } : {}),
      });
      reasons.push(why);
      rec.fail('tenant_rule', why, fields);
      decisions.push('non_compliant');
    } else rec.pass('tenant_rule', fields);
  }
  return {
    ...base,
    decision: worstDecision(decisions),
    reasons,
    report: rec.report(),
  };
}
