/*
 * What an evidence check reports: each problem names the JSON path that does not
 * verify, a typed code, and the check it belongs to, so callers (the CLI's check
 * list, the backend's chain report) never infer the check from the path.
 */

/** The checks of an evidence bundle, in the order they are shown. @public */
export const EVIDENCE_CHECKS = [
  { id: 'structure', title: 'bundle structure and schema' },
  { id: 'record_hash', title: 'record hash (RFC 8785 canonical JSON)' },
  { id: 'chain', title: 'chain link to the previous record' },
  {
    id: 'material',
    title: 'signatures and attestations against the recorded keys',
  },
  {
    id: 'trust',
    title: 'recorded trust material (keys, fingerprints, regions)',
  },
  {
    id: 'decision',
    title: 'recorded decision recomputed under the recorded policy',
  },
  {
    id: 'exception',
    title: 'exception event: signed statement, its window and what it covers',
  },
] as const;

/** @public */
export type EvidenceCheckId = (typeof EVIDENCE_CHECKS)[number]['id'];

/** Problem codes of evidence verification. @public */
export type EvidenceProblemCode =
  | 'malformed'
  | 'schema_unknown'
  | 'chain_broken'
  | 'hash_mismatch'
  | 'inconsistent'
  | 'too_large'
  | 'key_unreadable'
  | 'fingerprint_mismatch'
  | 'key_region_contradiction'
  | 'key_not_configured'
  | 'key_changed'
  | 'key_revoked'
  | 'policy_changed'
  | 'boundary_changed'
  | 'registry_not_configured'
  | 'registry_changed'
  | 'trusted_root_not_configured'
  | 'trusted_root_unavailable'
  | 'digest_mismatch'
  | 'decision_mismatch'
  | 'material_mismatch'
  | 'previous_invalid'
  | 'cannot_verify'
  | 'exception_signature_invalid'
  | 'exception_key_not_configured'
  | 'exception_outside_window'
  | 'exception_not_covered'
  | 'exception_mismatch';

/** Problem codes meaning "could not check", not "does not verify". @public */
export const UNDECIDABLE_EVIDENCE_CODES: ReadonlySet<EvidenceProblemCode> =
  new Set(['trusted_root_unavailable', 'cannot_verify']);

/** One thing that does not verify. @public */
export interface EvidenceProblem {
  /** JSON path of the field, relative to the bundle (`evidence.recordHash`). */
  path: string;
  code: EvidenceProblemCode;
  message: string;
  check: EvidenceCheckId;
}

/** Most problems reported for one bundle. */
export const MAX_PROBLEMS = 200;

/** Collects problems up to the cap. */
export class Problems {
  readonly list: EvidenceProblem[] = [];
  add(
    check: EvidenceCheckId,
    path: string,
    code: EvidenceProblemCode,
    message: string,
  ): void {
    if (this.list.length < MAX_PROBLEMS) {
      this.list.push({ path, code, message, check });
    }
  }
}
