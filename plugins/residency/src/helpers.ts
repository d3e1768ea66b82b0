import type { Entity } from '@backstage/catalog-model';
import { declaresResidency } from '@residency-dev/plugin-residency-common';

/**
 * True when the entity declares images for Residency to check
 * (the `residency.dev/images` annotation is present and not blank; the same rule
 * the backend uses to pick entities, from residency-common).
 *
 * @public
 */
export function isResidencyAvailable(entity: Entity): boolean {
  return declaresResidency(entity);
}
