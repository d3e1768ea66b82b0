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

/** One image: its material, and the previous result when the material was reused (informational). */
export interface ImageInput {
  material: ImageMaterial;
  reused?: ImageResult;
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

/** Decides one image from its material. */
export function decideImage(
  material: ImageMaterial,
  ctx: DecisionContext,
  trace?: { signatures: string[]; attestations: string[] },
): ImageResult {
  const result: ImageResult = {
    reference: material.reference,
    decision: 'unknown',
    reasons: [],
    signatures: [],
    attestations: [],
  };
  if (material.claims) result.claims = material.claims;
  const reasons: Reason[] = [];
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
    // reported below from material.error, or as bad_reference
  }
  const reg = result.registry
    ? ctx.trust.registries.find(
        r =>
          r.host === result.registry ||
          (result.registry!.startsWith('oci:') &&
            r.host.startsWith('oci:') &&
            layoutKey(r.host.slice(4)) === result.registry!.slice(4)),
      )
    : undefined;
  if (reg) result.registryRegion = reg.region;

  // 1. Bad input: nothing fetched.
  if (!parsedOk) {
    result.decision = 'invalid';
    result.reasons = [
      reason(
        'bad_reference',
        material.error?.message ?? 'The image reference is not valid.',
        { reference: material.reference.slice(0, 300) },
      ),
    ];
    return result;
  }
  if (!reg || material.error?.code === 'registry_not_allowed') {
    result.decision = 'invalid';
    result.reasons = [
      reason(
        'registry_not_allowed',
        `Registry ${result.registry} is not in the residency configuration.`,
        { registry: result.registry },
      ),
    ];
    return result;
  }
  if (material.error && INVALID_SOURCE_CODES.has(material.error.code)) {
    result.decision = 'invalid';
    result.reasons = [
      reason(
        material.error.code as Reason['code'],
        material.error.message,
        material.error.details,
      ),
    ];
    return result;
  }
  if (!inBoundary(reg.region, ctx)) {
    reasons.push(
      reason(
        'registry_outside_boundary',
        `Registry ${result.registry} is in region ${reg.region}, outside boundary ${ctx.policy.boundary?.name}.`,
        {
          registry: result.registry,
          region: reg.region,
          boundary: ctx.policy.boundary,
        },
      ),
    );
  }
  // 2. I/O failures: unknown, never compliant.
  if (material.error) {
    const code = SOURCE_REASONS.has(material.error.code)
      ? material.error.code
      : 'registry_unreachable';
    result.reasons = [
      ...reasons,
      reason(code as Reason['code'], material.error.message, {
        ...(material.error.details ?? {}),
        sourceCode: material.error.code,
      }),
    ];
    result.decision = reasons.length > 0 ? 'non_compliant' : 'unknown';
    return result;
  }
  if (!material.digest || !material.manifest) {
    result.reasons = [
      ...reasons,
      reason('registry_unreachable', 'The image was not resolved to a digest.'),
    ];
    result.decision = reasons.length > 0 ? 'non_compliant' : 'unknown';
    return result;
  }
  result.digest = material.digest;
  if (material.fetchedAt) result.verifiedAt = material.fetchedAt;
  const manifest = Buffer.from(material.manifest, 'base64');
  const [alg, hex] = material.digest.split(':');
  const ours =
    alg === 'sha512'
      ? createHash('sha512').update(manifest).digest('hex')
      : sha256Hex(manifest);
  if (ours !== hex) {
    result.reasons = [
      ...reasons,
      reason(
        'digest_mismatch',
        'The manifest bytes do not hash to the resolved digest.',
        { digest: material.digest },
      ),
    ];
    result.decision = 'unknown';
    return result;
  }

  // 3. Verify everything found, against configuration only.
  const vctx: VerifyContext = {
    digest: material.digest,
    manifest,
    keys: loadTrustedKeys(ctx.trust.keys).keys,
    trustedRoots: ctx.trustedRoots,
    identities: ctx.policy.identities ?? [],
    at: ctx.at,
  };
  const checks: Check[] = [];
  material.simpleSignatures.forEach((s, index) => {
    checks.push(
      verifySimpleSignature(
        {
          payload: Buffer.from(s.payload, 'base64'),
          signature: s.signature,
          certificate: s.certificate,
          rekorBundle: s.rekorBundle,
          source: asSource(s.source),
          index,
        },
        vctx,
      ),
    );
  });
  material.envelopes.forEach((e, index) => {
    checks.push(
      verifyEnvelope(
        { envelope: e.envelope, source: asSource(e.source), index },
        vctx,
      ),
    );
  });
  material.bundles.forEach((b, index) => {
    checks.push(
      verifyBundle(
        { bundle: b.bundle, source: asSource(b.source), index },
        vctx,
      ),
    );
  });

  const allowedHosts = ctx.policy.allowedHosts ?? [];
  const satisfied = new Set<string>();
  for (const c of checks) {
    let ok = c.verified;
    const own: Reason[] = [];
    if (c.error) own.push(c.error);
    const region = c.signer?.region;
    if (ok && region !== undefined && !inBoundary(region, ctx)) {
      ok = false;
      own.push(
        reason(
          'key_outside_boundary',
          `Signed by ${
            c.signer?.key?.id ?? c.signer?.identity?.subject
          } in region ${region}, outside boundary ${
            ctx.policy.boundary?.name
          }.`,
          {
            ...(c.signer?.key ? { keyId: c.signer.key.id } : {}),
            ...(c.signer?.identity
              ? { identity: c.signer.identity.subject }
              : {}),
            region,
            boundary: ctx.policy.boundary,
          },
        ),
      );
    }
    const facts: Record<string, unknown> = {};
    let kind: AttestationKind | 'other' | 'signature' =
      c.role === 'signature' ? 'signature' : 'other';
    if (c.statement && c.role === 'attestation') {
      kind = kindOf(c.statement.predicateType) as AttestationKind | 'other';
      if (c.verified) {
        try {
          if (kind === 'provenance') {
            const pf = provenanceFacts(c.statement);
            Object.assign(facts, {
              slsaVersion: pf.slsaVersion,
              builderId: pf.builderId,
              buildType: pf.buildType,
            });
            if (allowedHosts.length > 0) {
              const ext = externalReferences(pf, allowedHosts);
              if (ext.length > 0) {
                ok = false;
                own.push(
                  reason(
                    'provenance_external_reference',
                    `The build provenance references ${ext.length} location(s) outside the allowed hosts.`,
                    {
                      references: ext.slice(0, 20),
                      allowedHosts,
                    },
                  ),
                );
              }
            }
          } else if (kind === 'sbom') {
            Object.assign(facts, sbomFacts(c.statement));
          } else if (kind === 'residency') {
            const rp = residencyPredicate(c.statement);
            Object.assign(facts, rp);
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
                  {
                    regions: [...new Set(outside)],
                    boundary: ctx.policy.boundary,
                  },
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
          }
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
      }
    }
    reasons.push(...own);
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
        ...(own.length > 0 ? { error: own[0] } : {}),
      };
      result.signatures.push(sr);
      trace?.signatures.push(materialPath(c));
      if (ok) satisfied.add('signature');
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
        ...(own.length > 0 ? { error: own[0] } : {}),
      };
      result.attestations.push(ar);
      trace?.attestations.push(materialPath(c));
      if (ok && kind !== 'other' && kind !== 'signature') satisfied.add(kind);
    }
  }

  // 4. Requirements, each checked alone.
  const require =
    ctx.policy.require.length > 0 ? ctx.policy.require : ['signature' as const];
  for (const r of require) {
    if (satisfied.has(r)) continue;
    if (r === 'signature') {
      if (checks.filter(c => c.role === 'signature').length === 0) {
        reasons.push(
          reason(
            'signature_missing',
            'No signature was found for this image digest.',
            { digest: material.digest },
          ),
        );
      } else if (!reasons.some(x => x.code !== 'registry_outside_boundary')) {
        reasons.push(
          reason(
            'signature_invalid',
            'No signature verified with a trusted in-boundary key.',
          ),
        );
      }
    } else {
      reasons.push(
        reason(
          `attestation_missing:${r}`,
          `No verified ${r} attestation from a trusted in-boundary key.`,
          { type: r },
        ),
      );
    }
  }
  result.reasons = dedupe(reasons);
  result.decision = result.reasons.length === 0 ? 'compliant' : 'non_compliant';
  return result;
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
