/*
 * RFC 8785 canonical JSON and SHA-256 helpers. Hashes of evidence, policy and
 * trust are always taken over canonical JSON so they are stable across replicas.
 */
import { hash } from 'node:crypto';
import canonicalizeImport from 'canonicalize';

const canonicalize = ((canonicalizeImport as unknown as { default?: unknown })
  .default ?? canonicalizeImport) as (v: unknown) => string | undefined;

/** RFC 8785 (JCS) canonical JSON text of a JSON value. @public */
export function canonicalJson(value: unknown): string {
  const out = canonicalize(value);
  if (out === undefined)
    throw new TypeError('value is not representable as JSON');
  return out;
}

/** Hex SHA-256 of bytes or a UTF-8 string. @public */
export function sha256Hex(data: Uint8Array | string): string {
  // The one-shot form: no Hash object per call (it is called for every manifest).
  return hash('sha256', data, 'hex');
}

/** Hex SHA-256 of the canonical JSON of a value. @public */
export function canonicalHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
