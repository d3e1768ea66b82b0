import { parseAllDocuments } from 'yaml';
import {
  parseEntityRef,
  stringifyEntityRef,
  type CompoundEntityRef,
} from '@backstage/catalog-model';
import {
  ANNOTATION_IMAGES,
  declaresResidency,
  readResidencyAnnotations,
  residencyEntityRef,
  type EntityResidencyInputs,
  type ResidencyEntity,
} from '@residency-dev/plugin-residency-common';
import { readRegularFile } from '@residency-dev/plugin-residency-node';
import { CliError, errorMessage } from '../errors';
import { safe } from '../format/text';

/** What a catalog entity says about residency (the backend's reading of it). */
export type EntityAnnotations = EntityResidencyInputs;

const MAX_CATALOG_BYTES = 4 * 1024 * 1024;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A YAML document that is a catalog entity (kind and metadata.name). */
function asEntity(doc: Record<string, unknown>): ResidencyEntity | undefined {
  const meta = doc.metadata;
  if (
    typeof doc.kind !== 'string' ||
    !isObject(meta) ||
    typeof meta.name !== 'string'
  ) {
    return undefined;
  }
  return {
    kind: doc.kind,
    metadata: {
      name: meta.name,
      ...(typeof meta.namespace === 'string'
        ? { namespace: meta.namespace }
        : {}),
      ...(typeof meta.title === 'string' ? { title: meta.title } : {}),
      annotations: (isObject(meta.annotations)
        ? meta.annotations
        : {}) as Record<string, string>,
    },
  };
}

/** `--entity` as a compound ref (kind required, namespace defaults to `default`). */
function wantedRef(wanted: string): CompoundEntityRef {
  try {
    return parseEntityRef(wanted);
  } catch (e) {
    throw new CliError(`--entity ${safe(wanted)}: ${errorMessage(e)}`, {
      hint: 'Write the entity ref as kind:namespace/name, e.g. component:default/shop.',
    });
  }
}

function sameRef(a: CompoundEntityRef, b: CompoundEntityRef): boolean {
  return (
    stringifyEntityRef(a).toLocaleLowerCase('en-US') ===
    stringifyEntityRef(b).toLocaleLowerCase('en-US')
  );
}

/**
 * Reads the residency annotations of one entity from a catalog-info.yaml (several
 * YAML documents allowed). `wanted` selects the entity by ref (`kind:namespace/name`);
 * without it the file must hold exactly one entity with `residency.dev/images`.
 */
export function readEntityFile(
  file: string,
  wanted?: string,
): EntityAnnotations {
  let text: string;
  try {
    text = readRegularFile(file, MAX_CATALOG_BYTES).toString('utf8');
  } catch (e) {
    throw new CliError(`cannot read entity file ${file}: ${errorMessage(e)}`, {
      code: 'file_unreadable',
      hint: 'Pass the catalog-info.yaml that describes the service.',
    });
  }
  const docs = parseAllDocuments(text, { uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const entities: ResidencyEntity[] = [];
  for (const doc of list) {
    if (doc.errors.length > 0) {
      throw new CliError(
        `${file} is not valid YAML: ${doc.errors[0].message.split('\n')[0]}`,
        {
          code: 'file_unreadable',
        },
      );
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (!isObject(value)) continue;
    const entity = asEntity(value);
    if (entity) entities.push(entity);
  }
  const want = wanted ? wantedRef(wanted) : undefined;
  const candidates = want
    ? entities.filter(e => sameRef(parseEntityRef(residencyEntityRef(e)), want))
    : entities.filter(declaresResidency);
  if (candidates.length !== 1) {
    const listed =
      entities.map(e => residencyEntityRef(e)).join(', ') || '(none)';
    throw new CliError(
      want
        ? `${file} has no entity ${safe(wanted)} (entities: ${listed})`
        : `${file} has ${candidates.length} entities with ${ANNOTATION_IMAGES} (entities: ${listed})`,
      { hint: 'Select one with --entity <kind:namespace/name>.' },
    );
  }
  const entity = candidates[0];
  for (const [key, v] of Object.entries(entity.metadata.annotations ?? {})) {
    if (key.startsWith('residency.dev/') && typeof v !== 'string') {
      throw new CliError(
        `annotation ${key} of ${residencyEntityRef(
          entity,
        )} in ${file} is not a string`,
      );
    }
  }
  return readResidencyAnnotations(entity);
}
