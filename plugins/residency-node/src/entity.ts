/*
 * Entity -> inputs for the engine's callers (backend refresher, CLI). The rules
 * live in residency-common, because the frontend needs the same "declared" rule.
 */
export {
  declaresResidency,
  readResidencyAnnotations,
  readResidencyInputs,
  splitImagesAnnotation,
} from '@residency-dev/plugin-residency-common';
export type {
  EntityResidencyInputs,
  ResidencyEntity,
} from '@residency-dev/plugin-residency-common';
