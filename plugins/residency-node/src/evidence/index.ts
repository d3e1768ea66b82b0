export { trustOf, policyOf } from './snapshots';
export {
  recordHashOf,
  chainRecord,
  computeEvidenceId,
  chainLinkProblems,
  ChainVerifier,
} from './chain';
export type { ChainLinkInput, ChainPredecessor } from './chain';
export type { EvidenceTrustScope } from './auditorTrust';
export { verifyEvidenceBundle, EVIDENCE_CAPS } from './verifyBundle';
export { EVIDENCE_CHECKS, UNDECIDABLE_EVIDENCE_CODES } from './problems';
export type {
  EvidenceCheckId,
  EvidenceProblem,
  EvidenceProblemCode,
} from './problems';
export { canonicalJson, canonicalHash, sha256Hex } from '../canonical';
