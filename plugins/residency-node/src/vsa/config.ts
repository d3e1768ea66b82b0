/*
 * `residency.vsa.*`: who the verifier is, and the region-bound key it signs VSAs
 * with (a PKCS#8 PEM file with an explicit region, or an AWS KMS key ARN whose region
 * is derived). Read beside the main settings so the rest of the configuration
 * loader stays untouched.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { ConfigReader, ResidencySettings } from '../api';
import { regionFromKeyId } from '../config';
import { AwsKmsVsaSigner, type AwsCredentials } from './kms';
import { FileVsaSigner, type VsaSigner } from './sign';
import { VsaError } from './types';

/** The loaded `residency.vsa` block. @public */
export interface VsaSettings {
  verifierId: string;
  /** Base URL of evidence records (`<base>/<id>`), e.g. the portal's evidence API. */
  evidenceBaseUrl?: string;
  publish: boolean;
  signingKey:
    | { kind: 'file'; id: string; path: string; region: string }
    | { kind: 'awsKms'; id: string; region: string; endpoint?: string };
}

const MAX_PEM_BYTES = 64 * 1024;

function bad(path: string, message: string): never {
  throw new VsaError('vsa_config_invalid', `${path}: ${message}`);
}

/**
 * Reads `residency.vsa`; undefined when absent. The signing key's region must lie in
 * at least one configured boundary (per tenant it is checked again when signing).
 *
 * @public
 */
export function loadVsaSettings(
  config: ConfigReader,
  settings: Pick<ResidencySettings, 'boundaries'>,
  opts: { baseDir?: string } = {},
): VsaSettings | undefined {
  const vsa = config.getOptionalConfig('residency')?.getOptionalConfig('vsa');
  if (!vsa) return undefined;
  const str = (c: ConfigReader, key: string, path: string) => {
    try {
      return c.getOptionalString(key);
    } catch {
      return bad(`${path}.${key}`, 'must be a string');
    }
  };
  const verifierId = str(vsa, 'verifierId', 'residency.vsa');
  if (!verifierId || !/^[a-z][a-z0-9+.-]*:\S+$/i.test(verifierId))
    bad('residency.vsa.verifierId', 'a URI is required (e.g. the portal URL)');
  const evidenceBaseUrl = str(vsa, 'evidenceBaseUrl', 'residency.vsa');
  let publish: boolean;
  try {
    publish = vsa.getOptionalBoolean('publish') ?? false;
  } catch {
    return bad('residency.vsa.publish', 'must be a boolean');
  }
  const keyConf = vsa.getOptionalConfig('signingKey');
  if (!keyConf) bad('residency.vsa.signingKey', 'is required');
  const path = 'residency.vsa.signingKey';
  const file = str(keyConf, 'file', path);
  const awsKms = str(keyConf, 'awsKms', path);
  const region = str(keyConf, 'region', path);
  const endpoint = str(keyConf, 'endpoint', path);
  if ((file === undefined) === (awsKms === undefined))
    bad(path, 'give exactly one of file or awsKms');
  let signingKey: VsaSettings['signingKey'];
  if (file !== undefined) {
    if (!region)
      bad(path, 'a key file does not pin a region; give an explicit region');
    signingKey = {
      kind: 'file',
      id: file,
      path:
        isAbsolute(file) || !opts.baseDir ? file : resolve(opts.baseDir, file),
      region,
    };
  } else {
    const pinned = regionFromKeyId(awsKms!);
    if (!pinned.pinned)
      throw new VsaError(
        'vsa_key_region_unpinned',
        `${path}.awsKms: ${pinned.why}`,
      );
    if (region !== undefined && region !== pinned.region)
      bad(
        path,
        `region "${region}" contradicts "${pinned.region}" in the key ARN`,
      );
    signingKey = {
      kind: 'awsKms',
      id: awsKms!,
      region: pinned.region,
      ...(endpoint ? { endpoint } : {}),
    };
  }
  if (
    !Object.values(settings.boundaries).some(rs =>
      rs.includes(signingKey.region),
    )
  ) {
    throw new VsaError(
      'vsa_key_outside_boundary',
      `${path}: region ${signingKey.region} is in no configured boundary`,
    );
  }
  return {
    verifierId: verifierId!,
    ...(evidenceBaseUrl ? { evidenceBaseUrl } : {}),
    publish,
    signingKey,
  };
}

/**
 * The signer for loaded settings. AWS credentials come from `credentials` or the
 * standard variables `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`.
 *
 * @public
 */
export function createVsaSigner(
  settings: VsaSettings,
  opts: {
    env?: Record<string, string | undefined>;
    credentials?: AwsCredentials;
    fetch?: typeof fetch;
  } = {},
): VsaSigner {
  const k = settings.signingKey;
  if (k.kind === 'file') {
    let pem: string;
    try {
      const buf = readFileSync(k.path);
      if (buf.length > MAX_PEM_BYTES) throw new Error('file too large');
      pem = buf.toString('utf8');
    } catch (e) {
      throw new VsaError(
        'vsa_key_unreadable',
        `cannot read VSA signing key ${k.id}: ${(e as Error).message}`,
      );
    }
    return FileVsaSigner.fromPem(pem, { keyId: k.id, region: k.region });
  }
  const env = opts.env ?? process.env;
  const credentials = opts.credentials ?? {
    accessKeyId: env.AWS_ACCESS_KEY_ID ?? '',
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '',
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
  };
  return AwsKmsVsaSigner.create({
    keyId: k.id,
    credentials,
    ...(k.endpoint ? { endpoint: k.endpoint } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
}
