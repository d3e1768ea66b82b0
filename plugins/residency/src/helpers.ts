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

/**
 * True for entities that Residency can apply to: those with the images
 * annotation, and every Component (those without the annotations get the
 * onboarding steps instead of a 404).
 *
 * @public
 */
export function isResidencyApplicable(entity: Entity): boolean {
  return (
    isResidencyAvailable(entity) ||
    entity.kind.toLocaleLowerCase('en-US') === 'component'
  );
}
