import { InputError } from '@backstage/errors';

/*
 * What the spec cannot say. Everything else about a request (path segments,
 * evidence ids, cursors, tenants, decisions, the form of q, repeated or unknown
 * query parameters) is checked by the validated router against
 * src/schema/openapi.yaml before a handler runs.
 */

/** The entity ref of `/entities/{kind}/{namespace}/{name}`, lowercased as the catalog stores it. */
export function entityRefOf(params: {
  kind: string;
  namespace: string;
  name: string;
}): string {
  const lower = (s: string) => s.toLocaleLowerCase('en-US');
  return `${lower(params.kind)}:${lower(params.namespace)}/${lower(
    params.name,
  )}`;
}

// The spec's patterns for an entity path segment, for routers the validated
// router does not serve (the exceptions router): a name of at most 253 characters
// separated by single `-`, `_` or `.`; a kind starting with a letter.
const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9]|[-_.](?=[A-Za-z0-9])){0,252}$/;
const KIND = /^[A-Za-z][A-Za-z0-9-]{0,62}$/;

/**
 * The entity ref of a path that no spec validated: each segment is checked as
 * the spec would (an InputError names the segment), then lowercased.
 */
export function parseEntityPath(params: Record<string, unknown>): {
  entityRef: string;
} {
  const segment = (key: 'kind' | 'namespace' | 'name', re: RegExp) => {
    const value = params[key];
    if (typeof value !== 'string' || !re.test(value)) {
      throw new InputError(`Malformed entity ${key}`);
    }
    return value;
  };
  return {
    entityRef: entityRefOf({
      kind: segment('kind', KIND),
      namespace: segment('namespace', NAME),
      name: segment('name', NAME),
    }),
  };
}

/**
 * The page size. The spec says a positive integer and the validator has
 * parsed it; a value above `max` is capped rather than refused (a client
 * asking for everything gets the largest page), which a schema cannot
 * express. The value is checked again as at most nine digits, so a direct
 * caller cannot pass `1e5` or an unbounded number either.
 */
export function parseLimit(
  value: unknown,
  options: { fallback: number; max: number },
): number {
  if (value === undefined) {
    return options.fallback;
  }
  const text = String(value);
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1) {
    throw new InputError('limit must be a positive integer');
  }
  return Math.min(Number(text), options.max);
}

/** The search text; empty means no search. */
export function parseQuery(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
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
