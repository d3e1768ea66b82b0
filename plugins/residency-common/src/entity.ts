/*
 * Entity -> residency inputs, once for every caller: the backend's refresher, the
 * CLI's --entity-file and the frontend's isResidencyAvailable read an entity's
 * annotations through these functions, so they agree on what "declared" means.
 */
import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  ANNOTATION_IMAGES,
  ANNOTATION_REGION,
  ANNOTATION_TENANT,
} from './types';

/** The parts of a catalog entity residency reads. @public */
export interface ResidencyEntity {
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    title?: string;
    annotations?: Record<string, string | undefined>;
  };
}

/** What an entity declares for residency. @public */
export interface EntityResidencyInputs {
  entityRef: string;
  title?: string;
  images: string[];
  tenant?: string;
  declaredRegion?: string;
}

/**
 * The entity's ref (`kind:namespace/name`, as the catalog writes it).
 *
 * @public
 */
export function residencyEntityRef(entity: ResidencyEntity): string {
  return stringifyEntityRef({
    kind: entity.kind,
    namespace: entity.metadata.namespace,
    name: entity.metadata.name,
  });
}

/**
 * Splits the `residency.dev/images` annotation: commas and/or newlines separate
 * references; surrounding whitespace is trimmed and empty entries dropped.
 *
 * @public
 */
export function splitImagesAnnotation(
  value: string | undefined | null,
): string[] {
  if (typeof value !== 'string') return [];
  return value
    .split(/[,\r\n]+/)
    .map(s => s.trim())
    .filter(s => s.length > 0);
}

/**
 * True when the entity declares images for residency: the `residency.dev/images`
 * annotation is present and not blank.
 *
 * @public
 */
export function declaresResidency(entity: ResidencyEntity): boolean {
  const value = entity.metadata.annotations?.[ANNOTATION_IMAGES];
  return typeof value === 'string' && value.trim().length > 0;
}

/**
 * The residency annotations of an entity, whether or not it declares images
 * (blank tenant and region annotations count as absent).
 *
 * @public
 */
export function readResidencyAnnotations(
  entity: ResidencyEntity,
): EntityResidencyInputs {
  const annotations = entity.metadata.annotations ?? {};
  const tenant = annotations[ANNOTATION_TENANT]?.trim() || undefined;
  const declaredRegion = annotations[ANNOTATION_REGION]?.trim() || undefined;
  return {
    entityRef: residencyEntityRef(entity),
    ...(entity.metadata.title ? { title: entity.metadata.title } : {}),
    images: splitImagesAnnotation(annotations[ANNOTATION_IMAGES]),
    ...(tenant ? { tenant } : {}),
    ...(declaredRegion ? { declaredRegion } : {}),
  };
}

/**
 * The residency inputs of an entity; undefined when it does not declare images.
 *
 * @public
 */
export function readResidencyInputs(
  entity: ResidencyEntity,
): EntityResidencyInputs | undefined {
  return declaresResidency(entity)
    ? readResidencyAnnotations(entity)
    : undefined;
}
