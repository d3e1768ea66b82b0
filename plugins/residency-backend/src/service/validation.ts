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
