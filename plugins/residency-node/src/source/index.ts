/*
 * Artifact sources: OCI registries (allow-listed) and OCI image layouts.
 */
export * from './types';
export {
  createArtifactSource,
  type ArtifactSourceOptions,
  type ClosableArtifactSource,
} from './artifact-source';
export { RegistryClient, type RegistryClientOptions } from './registry';
export {
  faultOf,
  isAvailabilityFault,
  RegistryCircuit,
  type RegistryCircuitState,
  type RegistryFault,
  type RegistryHealth,
} from './health';
export { OciLayout } from './layout';
export { discoverIn, cosignTags } from './discovery';
export type { OciStore, FetchedManifest } from './store';
export {
  DEFAULT_FETCH_OPTIONS,
  DEFAULT_SOURCE_LIMITS,
  resolveFetchOptions,
  resolveLimits,
  type FetchOptions,
  type SourceLimits,
} from './limits';
export {
  ANNOTATION_COSIGN_BUNDLE,
  ANNOTATION_COSIGN_CERTIFICATE,
  ANNOTATION_COSIGN_CHAIN,
  ANNOTATION_COSIGN_SIGNATURE,
  ANNOTATION_COSIGN_TIMESTAMP,
  ANNOTATION_REF_NAME,
  MEDIA_COSIGN_SIMPLESIGNING,
  MEDIA_DSSE_ENVELOPE,
  MEDIA_SIGSTORE_BUNDLE_V03,
  MEDIA_OCI_INDEX,
  MEDIA_OCI_MANIFEST,
  MEDIA_DOCKER_MANIFEST,
  MEDIA_DOCKER_LIST,
  digestOf,
  isSigstoreBundleMediaType,
  parseManifest,
  type Descriptor,
  type ParsedManifest,
} from './oci';
export { parseChallenge, type Challenge } from './auth';
export {
  parseImageReference,
  splitImagesAnnotation,
  formatImageReference,
  isValidDigest,
  MAX_REFERENCE_LENGTH,
} from '../reference';
