import { InputError } from '@backstage/errors';
import {
  DECISIONS,
  type Decision,
} from '@residency-dev/plugin-residency-common';

// Entity name and namespace per the catalog's rules: alphanumerics separated by
// single `-`, `_` or `.`; no `..`, slashes, percent signs or control characters.
const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9]|[-_.](?=[A-Za-z0-9])){0,252}$/;
const KIND = /^[A-Za-z][A-Za-z0-9-]{0,62}$/;
const TENANT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const EVIDENCE_ID = /^[0-9a-f]{32}$/;
const CURSOR = /^[A-Za-z0-9_-]{1,2048}$/;

function single(value: unknown, name: string): string | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== 'string') {
    throw new InputError(`Parameter ${name} must be given once, as text`);
  }
  return value;
}

/** The entity ref of `/entities/{kind}/{namespace}/{name}`, lowercased as the catalog stores it. */
export function parseEntityPath(params: Record<string, unknown>): {
  entityRef: string;
  kind: string;
  namespace: string;
  name: string;
} {
  const kind = single(params.kind, 'kind') ?? '';
  const namespace = single(params.namespace, 'namespace') ?? '';
  const name = single(params.name, 'name') ?? '';
  if (!KIND.test(kind)) {
    throw new InputError('Malformed entity kind');
  }
  if (!NAME.test(namespace)) {
    throw new InputError('Malformed entity namespace');
  }
  if (!NAME.test(name)) {
    throw new InputError('Malformed entity name');
  }
  const lower = (s: string) => s.toLocaleLowerCase('en-US');
  return {
    entityRef: `${lower(kind)}:${lower(namespace)}/${lower(name)}`,
    kind: lower(kind),
    namespace: lower(namespace),
    name: lower(name),
  };
}

export function parseEvidenceId(value: unknown): string {
  const id = single(value, 'id');
  if (!id || !EVIDENCE_ID.test(id)) {
    throw new InputError('Malformed evidence id');
  }
  return id;
}

export function parseLimit(
  value: unknown,
  options: { fallback: number; max: number },
): number {
  const text = single(value, 'limit');
  if (text === undefined) {
    return options.fallback;
  }
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1) {
    throw new InputError('limit must be a positive integer');
  }
  return Math.min(Number(text), options.max);
}

export function parseCursor(value: unknown): string | undefined {
  const cursor = single(value, 'cursor');
  if (cursor !== undefined && !CURSOR.test(cursor)) {
    throw new InputError('Malformed cursor');
  }
  return cursor;
}

export function parseDecision(value: unknown): Decision | undefined {
  const status = single(value, 'status');
  if (
    status !== undefined &&
    !(DECISIONS as readonly string[]).includes(status)
  ) {
    throw new InputError(`status must be one of ${DECISIONS.join(', ')}`);
  }
  return status as Decision | undefined;
}

export function parseTenant(value: unknown): string | undefined {
  const tenant = single(value, 'tenant');
  if (tenant !== undefined && !TENANT.test(tenant)) {
    throw new InputError('Malformed tenant id');
  }
  return tenant;
}

export function parseQuery(value: unknown): string | undefined {
  const q = single(value, 'q');
  if (q === undefined || q === '') {
    return undefined;
  }
  // eslint-disable-next-line no-control-regex
  if (q.length > 200 || /[\u0000-\u001f\u007f]/.test(q)) {
    throw new InputError('q must be at most 200 printable characters');
  }
  return q;
}

/** A download file name made only of safe characters. */
export function evidenceFileName(options: {
  kind: string;
  namespace: string;
  name: string;
  sequence: number;
}): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');
  return `residency-evidence-${safe(options.kind)}-${safe(
    options.namespace,
  )}-${safe(options.name)}-${options.sequence}.json`;
}
