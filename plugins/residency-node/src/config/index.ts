export { loadResidencySettings } from './load';
export {
  configReaderFromObject,
  settingsFromYaml,
  findUnsetVariables,
  parseConfigYaml,
  MAX_YAML_ALIASES,
} from './reader';
export {
  regionFromKeyId,
  describePublicKey,
  canonicalPublicKey,
} from './keyIds';
export type { KeyIdRegion } from './keyIds';
export { publicGoodTrustedRoot } from './trustedRoots';
export { DEFAULT_LIMITS } from './limits';
export { identityMatcher } from './identityPattern';
export type { IdentityMatcher } from './identityPattern';
export { readRegularFile } from './files';
export { RESIDENCY_CONFIG_SHAPE, unknownKeys } from './schema';
export type { ConfigShape } from './schema';
