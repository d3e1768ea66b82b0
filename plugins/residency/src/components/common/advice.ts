import {
  COSIGN_ATTEST_TYPES,
  baseReasonCode,
  type BaseReasonCode,
  type ImageResult,
  type Reason,
} from '@residency-dev/plugin-residency-common';
import { formatTime } from './status';

/** What a person needs to act on one reason. */
export interface ReasonHelp {
  /** The problem in plain words (no codes). */
  problem: string;
  /** What to do, in plain words. */
  fix: string;
  /** A command that does the fix, when one exists; placeholders in <angle brackets>. */
  command?: string;
}

/** What the help can use beyond the reason itself. */
export interface ReasonContext {
  image?: ImageResult;
  /** Tenants defined in residency.tenants (for an unknown tenant). */
  tenants?: string[];
}

const PROBLEMS: Record<BaseReasonCode, string> = {
  bad_reference: 'The image reference is not valid',
  registry_not_allowed: 'The image is in a registry that is not configured',
  registry_outside_boundary: "The registry is outside the tenant's boundary",
  registry_unreachable: 'The registry did not answer',
  registry_auth: 'The registry refused our credentials',
  rate_limited: 'The registry rate-limited the check',
  too_large: 'An object in the registry is larger than allowed',
  digest_mismatch: 'A signature is for a different image digest',
  signature_missing: 'The image is not signed',
  signature_invalid: 'A signature did not verify',
  key_untrusted: 'The image is signed by a key we do not trust',
  key_outside_boundary: "The signing key is outside the tenant's boundary",
  key_expired: 'The signing key was outside its validity window',
  key_revoked: 'The signing key was revoked',
  attestation_missing: 'A required attestation is missing',
  attestation_stale:
    'A required attestation is too old, or cannot prove its age',
  attestation_invalid: 'An attestation did not verify',
  subject_mismatch: 'An attestation is for a different image',
  malformed_statement: 'An attestation is not a well-formed in-toto statement',
  region_mismatch: 'The attested region differs from the signing key region',
  provenance_external_reference:
    'The build provenance points to hosts outside the boundary',
  tenant_unknown: 'The tenant is not defined',
  tenant_missing: 'No tenant is set',
  declared_region_outside_boundary:
    "The declared region is outside the tenant's boundary",
  too_many_images: 'Too many images are listed',
  no_images: 'No images are listed',
  custom_rule: 'A tenant rule failed',
};

/** The predicate type and file cosign needs for each attestation kind. */
const ATTEST: Record<string, { type: string; predicate: string }> =
  COSIGN_ATTEST_TYPES;

function imageByDigest(image?: ImageResult): string {
  if (!image) {
    return '<image>@<digest>';
  }
  const repo =
    image.registry && image.repository && !image.registry.startsWith('oci:')
      ? `${image.registry}/${image.repository}`
      : image.reference.replace(/[:@][^/]*$/, '');
  return `${repo}@${image.digest ?? '<digest>'}`;
}

/** The problem, the fix and (when there is one) the command, for one reason. */
export function helpFor(reason: Reason, ctx: ReasonContext = {}): ReasonHelp {
  const base = baseReasonCode(reason.code);
  const problem = PROBLEMS[base] ?? 'The check failed';
  const target = imageByDigest(ctx.image);
  const details = reason.details ?? {};
  switch (base) {
    case 'signature_missing':
    case 'signature_invalid':
    case 'key_untrusted':
    case 'key_outside_boundary':
    case 'key_expired':
    case 'key_revoked':
    case 'digest_mismatch':
      return {
        problem,
        fix: "Sign the image by digest with a current key from residency.keys whose region is inside the tenant's boundary.",
        command: `cosign sign --key <in-boundary-key> ${target}`,
      };
    case 'attestation_missing': {
      const kind = reason.code.slice('attestation_missing:'.length);
      const attest = ATTEST[kind];
      if (!attest) {
        return {
          problem: `${problem}${kind ? ` (${kind})` : ''}`,
          fix: 'Attach a signed attestation of the required type with an in-boundary key.',
        };
      }
      return {
        problem: `The ${
          kind === 'sbom' ? 'SBOM' : kind
        } attestation is missing`,
        fix: `Attach a signed ${
          kind === 'sbom' ? 'SBOM (CycloneDX)' : kind
        } attestation made with an in-boundary key.`,
        command: `cosign attest --key <in-boundary-key> --type ${attest.type} --predicate ${attest.predicate} ${target}`,
      };
    }
    case 'attestation_invalid':
    case 'subject_mismatch':
    case 'malformed_statement':
    case 'region_mismatch':
      return {
        problem,
        fix: 'Re-create the attestation for this exact digest with an in-boundary key.',
      };
    case 'registry_unreachable':
      if (details.sourceCode === 'not_found') {
        return {
          problem: 'The image (tag or digest) does not exist in the registry',
          fix: 'Push the image, or correct the tag or digest in the residency.dev/images annotation.',
        };
      }
      return {
        problem,
        fix: 'Nothing was decided; the last good evidence is kept. Check the registry, then refresh.',
      };
    case 'registry_not_allowed':
    case 'registry_outside_boundary':
      return {
        problem,
        fix: "Push the image to a configured registry whose region is inside the tenant's boundary, then update the annotation.",
        command: `skopeo copy docker://${target} docker://<in-boundary-registry>/${
          ctx.image?.repository ?? '<repository>'
        }@${ctx.image?.digest ?? '<digest>'}`,
      };
    case 'tenant_unknown': {
      const valid = ctx.tenants ?? [];
      return {
        problem: `The tenant${
          typeof details.tenant === 'string' ? ` "${details.tenant}"` : ''
        } is not defined`,
        fix:
          valid.length > 0
            ? `Set residency.dev/tenant to one of the defined tenants: ${valid.join(
                ', ',
              )}.`
            : 'Set residency.dev/tenant to a tenant defined in residency.tenants.',
      };
    }
    case 'tenant_missing':
      return {
        problem,
        fix: 'Add the residency.dev/tenant annotation to catalog-info.yaml.',
      };
    case 'declared_region_outside_boundary':
      return {
        problem,
        fix: "Correct the residency.dev/region annotation to a region inside the tenant's boundary.",
      };
    default:
      return { problem, fix: adviceText(base) };
  }
}

function adviceText(base: BaseReasonCode): string {
  switch (base) {
    case 'bad_reference':
      return 'Fix the reference in the residency.dev/images annotation (lowercase repository, a tag or a sha256 digest).';
    case 'registry_auth':
      return 'Ask the platform team to check the registry credentials in residency.registries.';
    case 'rate_limited':
      return 'Nothing to change; the check is retried.';
    case 'too_large':
      return 'Check the image and its signatures for tampering.';
    case 'provenance_external_reference':
      return 'Build from sources inside the boundary.';
    case 'too_many_images':
      return 'Split the entity, or ask to raise residency.limits.imagesPerEntity.';
    case 'no_images':
      return 'List at least one image in the residency.dev/images annotation.';
    default:
      return 'See the message for what the rule requires.';
  }
}

/** A reason code in plain words (the problem only), for lists of codes. */
export function problemFor(code: string): string {
  return helpFor({ code: code as Reason['code'], message: '' }).problem;
}

/**
 * Why a status is stale, in plain words: the latest attempt's time and the
 * distinct problems of its reasons (no codes). Shared by the summary card and
 * the evidence history, which both show the last good result of a stale status.
 */
export function staleBecause(attempt: {
  checkedAt: string;
  reasons: Reason[];
}): string {
  const problems = [...new Set(attempt.reasons.map(r => helpFor(r).problem))];
  return `Stale: the check at ${formatTime(
    attempt.checkedAt,
  )} could not decide${
    problems.length ? ` (${problems.join('; ')})` : ''
  }, so the last good result is shown.`;
}
