import { parseEntityRef } from '@backstage/catalog-model';
import type { ResidencyEntityRef } from './ResidencyApi';

const MAX_NAME = 150;

/**
 * Makes a server- or catalog-provided string safe as a download file name:
 * no directories, no control characters, no leading dots, bounded length.
 */
export function sanitizeFilename(name: string): string | undefined {
  const base = name.split(/[\\/]/).pop() ?? '';
  const cleaned = base
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f<>:"|?*]/g, '_')
    .replace(/^[.\s]+/, '')
    .trim()
    .slice(0, MAX_NAME);
  return cleaned ? cleaned : undefined;
}

/** Reads the file name from a Content-Disposition header (RFC 6266, RFC 5987). */
export function filenameFromContentDisposition(
  header: string | null | undefined,
): string | undefined {
  if (!header) {
    return undefined;
  }
  const extended = /filename\*\s*=\s*([^']*)'[^']*'([^;]+)/i.exec(header);
  if (extended) {
    try {
      const decoded = sanitizeFilename(decodeURIComponent(extended[2].trim()));
      if (decoded) {
        return decoded;
      }
    } catch {
      // fall through to the plain parameter
    }
  }
  const quoted = /filename\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(header);
  if (quoted) {
    return sanitizeFilename(quoted[1].replace(/\\(.)/g, '$1'));
  }
  const plain = /filename\s*=\s*([^;\s]+)/i.exec(header);
  return plain ? sanitizeFilename(plain[1]) : undefined;
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** `residency-evidence-<kind>-<namespace>-<name>-<seq>.json`, the fallback name. */
export function evidenceFilename(options: {
  entityRef?: ResidencyEntityRef;
  sequence?: number;
  id: string;
}): string {
  return recordFilename('residency-evidence', options);
}

/** `residency-vsa-<kind>-<namespace>-<name>-<seq>.json`, the VSA file of a record. */
export function vsaFilename(options: {
  entityRef?: ResidencyEntityRef;
  sequence?: number;
  id: string;
}): string {
  return recordFilename('residency-vsa', options);
}

function recordFilename(
  prefix: string,
  options: {
    entityRef?: ResidencyEntityRef;
    sequence?: number;
    id: string;
  },
): string {
  let entity = 'entity';
  if (options.entityRef) {
    try {
      const ref =
        typeof options.entityRef === 'string'
          ? parseEntityRef(options.entityRef)
          : options.entityRef;
      entity = slug(`${ref.kind}-${ref.namespace}-${ref.name}`) || entity;
    } catch {
      // keep the generic name
    }
  }
  const seq =
    options.sequence !== undefined
      ? String(options.sequence)
      : slug(options.id);
  return (
    sanitizeFilename(`${prefix}-${entity}-${seq || 'record'}.json`) ??
    `${prefix}.json`
  );
}
