/*
 * @residency-dev/signing-kit: test and demo tooling. Generates keys and writes images,
 * cosign signatures, in-toto attestations and Sigstore bundles, in exactly cosign's
 * formats, into a real OCI registry or an OCI image layout on disk.
 */
export * from './testing/registry';
export * from './testing/faultProxy';
export * from './keys';
export * from './oci';
export * from './targets';
export * from './image';
export * from './cosign';
export * from './predicates';
export * from './bundles';
export * from './publish';
export * from './demo';
export * from './config';
export * from './keyless';
