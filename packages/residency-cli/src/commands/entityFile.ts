import { readFileSync, statSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import {
  ANNOTATION_IMAGES,
  ANNOTATION_REGION,
  ANNOTATION_TENANT,
} from '@residency-dev/plugin-residency-common';
import { CliError, errorMessage } from '../errors';
import { safe } from '../format/text';

/** What a catalog entity says about residency. */
export interface EntityAnnotations {
  entityRef: string;
  images?: string;
  tenant?: string;
  region?: string;
}

const MAX_CATALOG_BYTES = 4 * 1024 * 1024;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function refOf(doc: Record<string, unknown>): string | undefined {
  const meta = doc.metadata;
  if (
    typeof doc.kind !== 'string' ||
    !isObject(meta) ||
    typeof meta.name !== 'string'
  ) {
    return undefined;
  }
  const ns = typeof meta.namespace === 'string' ? meta.namespace : 'default';
  return `${doc.kind.toLocaleLowerCase('en-US')}:${ns}/${meta.name}`;
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
    const st = statSync(file);
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.size > MAX_CATALOG_BYTES)
      throw new Error(`larger than ${MAX_CATALOG_BYTES} bytes`);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read entity file ${file}: ${errorMessage(e)}`, {
      code: 'file_unreadable',
      hint: 'Pass the catalog-info.yaml that describes the service.',
    });
  }
  const docs = parseAllDocuments(text, { uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const entities: { ref: string; annotations: Record<string, unknown> }[] = [];
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
    const ref = refOf(value);
    if (!ref) continue;
    const meta = value.metadata as Record<string, unknown>;
    entities.push({
      ref,
      annotations: isObject(meta.annotations) ? meta.annotations : {},
    });
  }
  const wantedRef = wanted?.toLocaleLowerCase('en-US');
  const candidates = wantedRef
    ? entities.filter(e => e.ref.toLocaleLowerCase('en-US') === wantedRef)
    : entities.filter(e => e.annotations[ANNOTATION_IMAGES] !== undefined);
  if (candidates.length !== 1) {
    const listed = entities.map(e => e.ref).join(', ') || '(none)';
    throw new CliError(
      wantedRef
        ? `${file} has no entity ${safe(wanted)} (entities: ${listed})`
        : `${file} has ${candidates.length} entities with ${ANNOTATION_IMAGES} (entities: ${listed})`,
      { hint: 'Select one with --entity <kind:namespace/name>.' },
    );
  }
  const { ref, annotations } = candidates[0];
  const str = (key: string): string | undefined => {
    const v = annotations[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') {
      throw new CliError(
        `annotation ${key} of ${ref} in ${file} is not a string`,
      );
    }
    return v;
  };
  return {
    entityRef: ref,
    images: str(ANNOTATION_IMAGES),
    tenant: str(ANNOTATION_TENANT),
    region: str(ANNOTATION_REGION),
  };
}
