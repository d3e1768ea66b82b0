/*
 * The shape of the `residency:` block, one definition shared by the backend and
 * the CLI (both load through loadResidencySettings). Unknown keys are errors: a
 * typo such as `revokd: true` must not leave a key trusted. The backend's
 * config.d.ts is checked against this shape by a test in residency-backend.
 */
import type { ConfigReader } from '../api';
import { ResidencyConfigError } from '../errors';
import { isObject } from '../verify/json';

/** A node of the configuration shape. @public */
export type ConfigShape =
  | { kind: 'value' }
  | { kind: 'object'; keys: Record<string, ConfigShape> }
  | { kind: 'map'; values: ConfigShape }
  | { kind: 'array'; items: ConfigShape }
  /** Validated by another schema (Backstage's scheduler, durations). */
  | { kind: 'opaque' };

const value: ConfigShape = { kind: 'value' };
const opaque: ConfigShape = { kind: 'opaque' };
const object = (keys: Record<string, ConfigShape>): ConfigShape => ({
  kind: 'object',
  keys,
});
const array = (items: ConfigShape): ConfigShape => ({ kind: 'array', items });
const map = (values: ConfigShape): ConfigShape => ({ kind: 'map', values });

/**
 * Every key of `residency:`, the engine's and the backend's.
 *
 * @public
 */
export const RESIDENCY_CONFIG_SHAPE: ConfigShape = object({
  schedule: opaque,
  deltaSchedule: opaque,
  revalidateAfter: opaque,
  retention: object({ keepRecordsPerEntity: value }),
  roles: object({
    developers: array(value),
    auditors: array(value),
    platformOwners: array(value),
    dataProtectionOfficers: array(value),
  }),
  limits: object({
    imagesPerEntity: value,
    concurrencyPerRegistry: value,
    imageTimeoutSeconds: value,
    refreshBatchSize: value,
    leaseSeconds: value,
    entityConcurrency: value,
  }),
  boundaries: map(array(value)),
  exceptions: object({
    maxDays: value,
    tenants: map(object({ maxDays: value })),
    keys: array(object({ publicKey: value, publicKeyFile: value })),
    schedule: opaque,
  }),
  alerts: object({
    baseUrl: value,
    recipients: map(array(value)),
  }),
  vsa: object({
    verifierId: value,
    evidenceBaseUrl: value,
    publish: value,
    signingKey: object({
      file: value,
      awsKms: value,
      region: value,
      endpoint: value,
    }),
  }),
  registries: array(
    object({
      host: value,
      region: value,
      insecure: value,
      tokenRealms: array(value),
      blobHosts: array(value),
      credentials: object({ token: value, username: value, password: value }),
    }),
  ),
  layouts: array(object({ path: value, region: value })),
  keys: array(
    object({
      id: value,
      region: value,
      publicKey: value,
      publicKeyFile: value,
      validFrom: value,
      validUntil: value,
      revoked: value,
    }),
  ),
  trustedRoots: array(object({ name: value, path: value, publicGood: value })),
  tenants: map(
    object({
      boundary: value,
      require: array(value),
      allowedHosts: array(value),
      rules: array(object({ id: value, expression: value, message: value })),
      identities: array(
        object({
          subject: value,
          subjectRegExp: value,
          issuer: value,
          region: value,
        }),
      ),
      minSignatures: value,
      maxAge: object({ provenance: value, sbom: value, residency: value }),
    }),
  ),
});

/** The paths of every key the shape does not know (types are checked by the section readers). */
export function unknownKeys(
  data: unknown,
  shape: ConfigShape,
  path: string,
): string[] {
  if (shape.kind === 'array' && Array.isArray(data)) {
    return data.flatMap((d, i) => unknownKeys(d, shape.items, `${path}[${i}]`));
  }
  if (shape.kind === 'map' && isObject(data)) {
    return Object.entries(data).flatMap(([k, v]) =>
      unknownKeys(v, shape.values, `${path}.${k}`),
    );
  }
  if (shape.kind === 'object' && isObject(data)) {
    return Object.entries(data).flatMap(([k, v]) =>
      Object.hasOwn(shape.keys, k)
        ? unknownKeys(v, shape.keys[k], `${path}.${k}`)
        : [`${path}.${k}`],
    );
  }
  return [];
}

/** Refuses a `residency:` block with keys the schema does not know, naming every one. */
export function checkKnownKeys(root: ConfigReader): void {
  let data: unknown;
  try {
    data = root.get();
  } catch {
    return; // type errors are reported by the section readers
  }
  const unknown = unknownKeys(data, RESIDENCY_CONFIG_SHAPE, 'residency');
  if (unknown.length > 0) {
    throw new ResidencyConfigError(
      'config_invalid',
      `unknown configuration key${
        unknown.length > 1 ? 's' : ''
      }: ${unknown.join(', ')}`,
      unknown[0],
    );
  }
}
