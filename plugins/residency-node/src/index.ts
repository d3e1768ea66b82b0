/**
 * The Residency verification engine as a plain Node library: configuration,
 * cosign / Sigstore verification against region-bound keys, residency decisions
 * and offline-verifiable evidence.
 *
 * @packageDocumentation
 */
export * from './api';
export {
  loadResidencySettings,
  configReaderFromObject,
  settingsFromYaml,
  findUnsetVariables,
  parseConfigYaml,
  regionFromKeyId,
  describePublicKey,
  canonicalPublicKey,
  publicGoodTrustedRoot,
  identityMatcher,
  readRegularFile,
  DEFAULT_LIMITS,
  MAX_YAML_ALIASES,
  RESIDENCY_CONFIG_SHAPE,
} from './config';
export type { KeyIdRegion, IdentityMatcher, ConfigShape } from './config';
export { ResidencyError, ResidencyConfigError, VerifyError } from './errors';
export type { VerifyErrorCode } from './errors';
export { DefaultResidencyEngine } from './engine';
export type { ResidencyEngineOptions, EngineLogger } from './engine';
export { decideEntity } from './decide';
export type { DecisionContext, ImageInput } from './decide';
export {
  canonicalJson,
  canonicalHash,
  sha256Hex,
  trustOf,
  policyOf,
  chainRecord,
  recordHashOf,
  computeEvidenceId,
  chainLinkProblems,
  ChainVerifier,
  verifyEvidenceBundle,
  EVIDENCE_CAPS,
  EVIDENCE_CHECKS,
  UNDECIDABLE_EVIDENCE_CODES,
} from './evidence';
export type {
  ChainLinkInput,
  ChainPredecessor,
  EvidenceCheckId,
  EvidenceProblem,
  EvidenceProblemCode,
  EvidenceTrustScope,
} from './evidence';
export { decideImage, ruleFacts } from './decide';
export {
  verifySimpleSignature,
  parseSimpleSigningPayload,
} from './verify/simplesigning';
export { verifyEnvelope, parseEnvelope } from './verify/dsse';
export { verifyBundle, parseBundle } from './verify/bundle';
export {
  MAX_BUNDLE_BYTES,
  mapVerifierError,
  verifierMessage,
  verifyCertificateEntity,
  trustedRootProblem,
  parseArtifactDigest,
  isArtifactDigestAlgorithm,
  keyFingerprint,
  verifyPrehashed,
  PrehashUnsupportedError,
} from './verify/sigstore';
export {
  parseStatement,
  subjectMatches,
  kindOf,
  residencyPredicate,
  provenanceFacts,
  IN_TOTO_PAYLOAD_TYPE,
  COSIGN_SIGN_PREDICATE,
} from './verify/statement';
export type {
  Statement,
  ResidencyPredicate,
  ProvenanceFacts,
} from './verify/statement';
export type {
  Check,
  FailedStep,
  SignedTime,
  Signer,
  VerifyContext,
} from './verify/types';
export { parseStrictJson, StrictJsonError } from './verify/json';
export { loadTrustedKeys, keyStatus, verifyRaw } from './keys';
export type { TrustedKey, KeyStatus } from './keys';
export { evaluateRule, compileRule } from './cel';
export { ENGINE_VERSION } from './version';
export {
  declaresResidency,
  readResidencyAnnotations,
  readResidencyInputs,
} from './entity';
export type { EntityResidencyInputs, ResidencyEntity } from './entity';
export {
  parseImageReference,
  splitImagesAnnotation,
  formatImageReference,
} from './reference';
export { SourceError } from './source/types';
export {
  createArtifactSource,
  faultOf,
  isAvailabilityFault,
  RegistryCircuit,
} from './source';
export type {
  RegistryCircuitState,
  RegistryFault,
  RegistryHealth,
} from './source';
export type { ArtifactSourceOptions, ClosableArtifactSource } from './source';
export type {
  ArtifactSource,
  ImageReference,
  ResolvedImage,
  Discovery,
  SourceErrorCode,
} from './source/types';
export * from './vsa';
export * from './exception';
