/*
 * Builds one VSA v1 Statement per verified image digest of an evidence record (one
 * record = one entity and tenant). Pure: everything comes from the chained evidence,
 * so an auditor can rebuild the VSA from the record the VSA names.
 */
import type {
  ChainedEvidence,
  ImageMaterial,
  ImageResult,
} from '@residency-dev/plugin-residency-common';
import { canonicalHash, sha256Hex } from '../canonical';
import { ENGINE_VERSION } from '../version';
import {
  IN_TOTO_STATEMENT_V1,
  VSA_EVIDENCE_FIELD,
  VSA_PREDICATE_TYPE,
  VsaError,
  boundaryLevel,
  type VsaResourceDescriptor,
  type VsaStatement,
} from './types';

/** Options of {@link buildVsaStatements}. @public */
export interface BuildVsaOptions {
  /** The chained evidence record the VSAs summarise. */
  evidence: ChainedEvidence;
  /** `verifier.id`: the URI of the verifier (e.g. the portal's URL). */
  verifierId: string;
  /**
   * URI of the evidence record (e.g. the portal's `/evidence/{id}` URL); input
   * attestations are named by a JSON pointer into it. Default `urn:residency:evidence:<id>`.
   */
  evidenceUri?: string;
  /** URI naming the tenant policy. Default `<verifierId>/policies/<tenant>`. */
  policyUri?: string;
  /**
   * When the same decision was confirmed by a later check (no new record: same
   * decision and inputs), that check's time. Default: the record's `checkedAt`.
   */
  timeVerified?: string;
}

/** Reason codes of the entity that come from tenant rules rather than from one image. */
function entityLevelFailure(evidence: ChainedEvidence): string[] {
  return evidence.record.result.reasons
    .map(r => r.code)
    .filter(
      c =>
        c.startsWith('custom_rule:') ||
        c === 'declared_region_outside_boundary',
    );
}

function splitDigest(digest: string): [string, string] {
  const i = digest.indexOf(':');
  if (i <= 0) throw new VsaError('vsa_input_invalid', `bad digest ${digest}`);
  return [digest.slice(0, i), digest.slice(i + 1)];
}

function versionOf(): Record<string, string> {
  const at = ENGINE_VERSION.lastIndexOf('@');
  return at > 0
    ? { [ENGINE_VERSION.slice(0, at)]: ENGINE_VERSION.slice(at + 1) }
    : { residency: ENGINE_VERSION };
}

/**
 * Is a bundle a DSSE attestation (role `attestation` in the decision) rather than a
 * message signature? The decision lists results per role in material order; this
 * tells which list a bundle's result went to. Unparseable bundles count as signatures,
 * as the decision does.
 */
function bundleIsAttestation(text: string): boolean {
  try {
    const doc = JSON.parse(text);
    return !!doc && typeof doc === 'object' && 'dsseEnvelope' in doc;
  } catch {
    return false;
  }
}

/**
 * The verified signatures and attestations of one image, as resource descriptors: the
 * digest is the SHA-256 of the exact bytes fetched (the OCI blob digest of the layer),
 * the URI `<base>/<list>/<index>` (base: a JSON pointer into the evidence record). The decision reports results in
 * material order per role (simple signatures, then envelopes, then bundles); when the
 * counts do not line up, nothing is claimed as verified.
 */
export function verifiedInputs(
  image: ImageResult,
  material: ImageMaterial,
  base: string,
): VsaResourceDescriptor[] {
  const sigs = image.signatures;
  const atts = image.attestations;
  const bundleRoles = material.bundles.map(b => bundleIsAttestation(b.bundle));
  const bundleSigs = bundleRoles.filter(a => !a).length;
  if (
    sigs.length !== material.simpleSignatures.length + bundleSigs ||
    atts.length !== material.envelopes.length + bundleRoles.length - bundleSigs
  ) {
    return [];
  }
  const out: VsaResourceDescriptor[] = [];
  const add = (path: string, bytes: Buffer) =>
    out.push({
      uri: `${base}/${path}`,
      digest: { sha256: sha256Hex(bytes) },
    });
  let si = 0;
  let ai = 0;
  material.simpleSignatures.forEach((s, j) => {
    if (sigs[si++].verified)
      add(`simpleSignatures/${j}`, Buffer.from(s.payload, 'base64'));
  });
  material.envelopes.forEach((e, j) => {
    if (atts[ai++].verified)
      add(`envelopes/${j}`, Buffer.from(e.envelope, 'utf8'));
  });
  material.bundles.forEach((b, j) => {
    const r = bundleRoles[j] ? atts[ai++] : sigs[si++];
    if (r.verified) add(`bundles/${j}`, Buffer.from(b.bundle, 'utf8'));
  });
  return out;
}

/**
 * One VSA Statement per image of the record that was decided (`compliant` gives
 * PASSED, `non_compliant` FAILED). Images that could not be decided (`unknown`,
 * `invalid`) get none: a VSA states a verification, and a PASSED one ages out.
 * A failing tenant rule or declared region makes every image FAILED.
 *
 * @public
 */
export function buildVsaStatements(options: BuildVsaOptions): VsaStatement[] {
  const { evidence, verifierId } = options;
  const { record } = evidence;
  const tenant = record.result.tenant;
  const boundary = record.result.boundary ?? record.policy.boundary;
  if (!tenant || !boundary) return [];
  if (!/^[a-z][a-z0-9+.-]*:/i.test(verifierId)) {
    throw new VsaError(
      'vsa_config_invalid',
      `verifier id "${verifierId}" is not a URI`,
    );
  }
  const evidenceUri =
    options.evidenceUri ?? `urn:residency:evidence:${evidence.id}`;
  const policyUri =
    options.policyUri ??
    `${verifierId.replace(/\/+$/, '')}/policies/${encodeURIComponent(tenant)}`;
  const policy: VsaResourceDescriptor = {
    uri: policyUri,
    digest: { sha256: canonicalHash(record.policy) },
  };
  const ruleFailures = entityLevelFailure(evidence);
  const out: VsaStatement[] = [];
  record.result.images.forEach(image => {
    if (!image.digest || !image.registry) return;
    if (image.decision !== 'compliant' && image.decision !== 'non_compliant')
      return;
    const [alg, hex] = splitDigest(image.digest);
    const materialIndex = record.material.findIndex(
      m => m.reference === image.reference && m.digest === image.digest,
    );
    const material = record.material[materialIndex];
    const passed = image.decision === 'compliant' && ruleFailures.length === 0;
    const name = image.repository
      ? `${image.registry}/${image.repository}`
      : image.registry;
    out.push({
      _type: IN_TOTO_STATEMENT_V1,
      subject: [{ name, digest: { [alg]: hex } }],
      predicateType: VSA_PREDICATE_TYPE,
      predicate: {
        verifier: { id: verifierId, version: versionOf() },
        // the decision (with today's keys and policy) is made at checkedAt, even
        // when the signatures were fetched earlier
        timeVerified: options.timeVerified ?? record.result.checkedAt,
        resourceUri: image.reference.includes('@')
          ? image.reference
          : `${image.reference}@${image.digest}`,
        policy,
        inputAttestations: material
          ? verifiedInputs(
              image,
              material,
              `${evidenceUri}#/record/material/${materialIndex}`,
            )
          : [],
        verificationResult: passed ? 'PASSED' : 'FAILED',
        verifiedLevels: passed ? [boundaryLevel(boundary.name)] : ['FAILED'],
        [VSA_EVIDENCE_FIELD]: {
          id: evidence.id,
          recordHash: evidence.recordHash,
          sequence: evidence.sequence,
          entityRef: record.entityRef,
          tenant,
          boundary: { name: boundary.name, regions: [...boundary.regions] },
          decision: passed ? 'compliant' : 'non_compliant',
          reasons: [...image.reasons.map(r => r.code), ...ruleFailures],
        },
      },
    });
  });
  return out;
}
