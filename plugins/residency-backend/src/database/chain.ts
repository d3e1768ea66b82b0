/*
 * The evidence chain as the store uses it. Every rule lives once in the engine
 * (residency-node `evidence/`): canonical JSON, the record hash, the evidence id
 * and the link rules of ChainVerifier. This module only names them for the store.
 */
export {
  canonicalJson,
  sha256Hex,
  recordHashOf,
  computeEvidenceId,
  ChainVerifier,
} from '@residency-dev/plugin-residency-node';
