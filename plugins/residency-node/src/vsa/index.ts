/*
 * SLSA Verification Summary Attestations issued and checked by Residency.
 */
export * from './types';
export { buildVsaStatements, verifiedInputs } from './statement';
export type { BuildVsaOptions } from './statement';
export { signVsa, FileVsaSigner, fingerprintOf } from './sign';
export type { VsaSigner, SignedVsa } from './sign';
export { verifyVsa } from './verify';
export type {
  VerifyVsaOptions,
  VsaVerification,
  VsaVerificationCode,
  VsaSummary,
  VsaTrustedKey,
} from './verify';
export { AwsKmsVsaSigner } from './kms';
export type { AwsKmsVsaSignerOptions, AwsCredentials } from './kms';
export { loadVsaSettings, createVsaSigner } from './config';
export type { VsaSettings } from './config';
export { verifyVsaForImage } from './discover';
export type { VerifyVsaForImageOptions } from './discover';
export { publishVsa } from './publish';
export type { VsaPublishTarget, VsaPublication } from './publish';
