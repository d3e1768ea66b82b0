/*
 * What a KMS key id says about its region, and how a public key is named.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

/** AWS partitions and the region prefix each one requires (undefined: the commercial rest). */
const AWS_PARTITIONS: Record<string, string | undefined> = {
  aws: undefined,
  'aws-eusc': 'eusc-',
  'aws-us-gov': 'us-gov-',
  'aws-cn': 'cn-',
};
const PARTITION_PREFIXES = ['eusc-', 'us-gov-', 'cn-'];

/** Result of reading a key id: the region it pins, if any. */
export type KeyIdRegion =
  | { pinned: true; region: string }
  | {
      pinned: false;
      why: string;
      /** The id contradicts itself (partition vs region, endpoint vs ARN): refuse it. */
      contradiction?: true;
    };

/** Splits `scheme://rest`, the scheme compared case-insensitively (RFC 3986 3.1). */
function splitScheme(id: string): { scheme?: string; rest: string } {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(id);
  return m ? { scheme: m[1].toLowerCase(), rest: m[2] } : { rest: id };
}

function partitionContradiction(
  partition: string,
  region: string,
): string | undefined {
  const prefix = AWS_PARTITIONS[partition];
  if (prefix !== undefined && !region.startsWith(prefix)) {
    return `AWS partition "${partition}" has no region "${region}"`;
  }
  if (
    prefix === undefined &&
    PARTITION_PREFIXES.some(p => region.startsWith(p))
  ) {
    return `region "${region}" is not in the AWS partition "${partition}"`;
  }
  return undefined;
}

/** An awskms endpoint host naming a region (`kms.<region>.…`) must name the ARN's region. */
function endpointContradiction(
  endpoint: string,
  region: string,
): string | undefined {
  const m = /^kms(?:-fips)?\.([a-z0-9-]+)\./i.exec(endpoint);
  if (m && m[1].toLowerCase() !== region) {
    return `endpoint ${endpoint} is in region "${m[1]}", the ARN in "${region}"`;
  }
  return undefined;
}

function regionFromAwsArn(arn: string, endpoint: string): KeyIdRegion {
  if (!/^arn:/i.test(arn)) {
    return {
      pinned: false,
      why: 'an AWS KMS alias or key id without an ARN does not pin a region',
    };
  }
  const m =
    /^arn:([a-z0-9-]+):kms:([a-z0-9-]+):([0-9]{12}):(key|alias)\/[A-Za-z0-9/_+=,.@:-]+$/.exec(
      arn,
    );
  if (!m)
    return { pinned: false, why: 'not a well-formed AWS KMS key or alias ARN' };
  const [, partition, region] = m;
  if (!Object.hasOwn(AWS_PARTITIONS, partition)) {
    return { pinned: false, why: `unknown AWS partition "${partition}"` };
  }
  const why =
    partitionContradiction(partition, region) ??
    endpointContradiction(endpoint, region);
  if (why) return { pinned: false, why, contradiction: true };
  return { pinned: true, region };
}

function regionFromGcpKms(rest: string): KeyIdRegion {
  const m =
    /^projects\/[^/]+\/locations\/([^/]+)\/keyRings\/[^/]+\/cryptoKeys\/[^/]+(?:\/cryptoKeyVersions\/[^/]+)?$/.exec(
      rest,
    );
  if (!m) return { pinned: false, why: 'not a well-formed gcpkms URI' };
  if (m[1] === 'global') {
    return {
      pinned: false,
      why: 'GCP KMS location "global" does not pin a region',
    };
  }
  return { pinned: true, region: m[1] };
}

/**
 * The region a KMS key id pins, or why it does not pin one.
 * AWS key/alias ARNs in the partitions aws, aws-eusc, aws-us-gov and aws-cn pin
 * their region (`awskms:///arn:...` and `awskms://<endpoint>/arn:...`), as does a
 * GCP KMS location other than `global`. Aliases without an ARN, bare key ids,
 * Azure Key Vault, HashiCorp Vault and plain keys do not. Schemes are compared
 * case-insensitively; an ARN whose partition and region disagree, or whose
 * endpoint names another region, is a contradiction.
 *
 * @public
 */
export function regionFromKeyId(id: string): KeyIdRegion {
  const { scheme, rest } = splitScheme(id);
  if (scheme === 'awskms') {
    const slash = rest.indexOf('/');
    if (slash === -1) return { pinned: false, why: 'awskms URI without a key' };
    return regionFromAwsArn(rest.slice(slash + 1), rest.slice(0, slash));
  }
  if (scheme === undefined && /^arn:/i.test(id))
    return regionFromAwsArn(id, '');
  if (scheme === 'gcpkms') return regionFromGcpKms(rest);
  if (scheme === 'azurekms') {
    return { pinned: false, why: 'Azure Key Vault URIs do not pin a region' };
  }
  if (scheme === 'hashivault') {
    return { pinned: false, why: 'HashiCorp Vault URIs do not pin a region' };
  }
  return { pinned: false, why: 'a plain key id does not pin a region' };
}

/**
 * Describes a public key: algorithm name and the SHA-256 fingerprint of its
 * canonical DER SubjectPublicKeyInfo (see canonicalPublicKey), so one key has one
 * fingerprint whatever encoding it was configured in.
 *
 * @public
 */
export function describePublicKey(key: KeyObject): {
  algorithm: string;
  fingerprint: string;
} {
  const der = canonicalPublicKey(key).export({ type: 'spki', format: 'der' });
  const fingerprint = createHash('sha256').update(der).digest('hex');
  return { algorithm: algorithmOf(key), fingerprint };
}

function algorithmOf(key: KeyObject): string {
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ecdsa-p256';
    if (curve === 'secp384r1') return 'ecdsa-p384';
    if (curve === 'secp521r1') return 'ecdsa-p521';
    throw new Error(`unsupported EC curve ${curve}`);
  }
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw new Error(`RSA key of ${bits} bits is too small`);
    return `rsa-${bits}`;
  }
  if (type === 'ed25519') return 'ed25519';
  throw new Error(`unsupported key type ${type}`);
}

/**
 * The key re-encoded canonically. Node keeps an EC point in the form it was given
 * (a compressed point exports compressed), so EC keys go through JWK and back,
 * which always yields the uncompressed point. Other key types have one DER form.
 *
 * @public
 */
export function canonicalPublicKey(key: KeyObject): KeyObject {
  if (key.asymmetricKeyType !== 'ec') return key;
  return createPublicKey({ key: key.export({ format: 'jwk' }), format: 'jwk' });
}
