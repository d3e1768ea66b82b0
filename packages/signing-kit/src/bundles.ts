/*
 * Key-based Sigstore bundles v0.3 (`application/vnd.dev.sigstore.bundle.v0.3+json`),
 * assembled by @sigstore/sign's bundle builders with a Signer over a local key and
 * no witnesses (no Rekor, no TSA: everything offline). `publicKey.hint` is the key
 * fingerprint unless a hint is given: a lookup aid for the verifier, never trust.
 */
import { bundleToJSON, type SerializedBundle } from '@sigstore/bundle';
import {
  DSSEBundleBuilder,
  MessageSignatureBundleBuilder,
  type Signer,
} from '@sigstore/sign';
import { createHash } from 'node:crypto';
import { signBytes, SigningKey } from './keys';
import { MEDIA_IN_TOTO, jsonBytes } from './oci';

/** Bundle media types by version (v0.1 and v0.2 use the `;version=` form). */
export const BUNDLE_MEDIA_TYPES = {
  '0.1': 'application/vnd.dev.sigstore.bundle+json;version=0.1',
  '0.2': 'application/vnd.dev.sigstore.bundle+json;version=0.2',
  '0.3': 'application/vnd.dev.sigstore.bundle.v0.3+json',
} as const;

/** A bundle version. Key-based bundles have the same shape in all three. */
export type BundleVersion = keyof typeof BUNDLE_MEDIA_TYPES;

function withVersion(
  bundle: SerializedBundle,
  version: BundleVersion | undefined,
): SerializedBundle {
  if (!version || version === '0.3') return bundle;
  return { ...bundle, mediaType: BUNDLE_MEDIA_TYPES[version] };
}

/** Forgeries for negative tests of bundle verification. */
export interface BundleForgery {
  /** Sign with this key while the bundle names `hint` (e.g. a trusted key's fingerprint). */
  signingKey?: SigningKey;
  /** DSSE: sign the raw payload instead of PAE. */
  signRawPayload?: boolean;
}

/** A Signer over a local key (the only piece @sigstore/sign needs from us). */
export function localSigner(
  key: SigningKey,
  options: {
    hint?: string;
    transform?: (data: Buffer) => Buffer;
    signingKey?: SigningKey;
  } = {},
): Signer {
  return {
    sign: async (data: Buffer) => ({
      signature: signBytes(
        options.signingKey ?? key,
        options.transform ? options.transform(data) : data,
      ),
      key: {
        $case: 'publicKey',
        publicKey: key.publicKeyPem,
        hint: options.hint ?? key.fingerprint,
      },
    }),
  };
}

/** A DSSE bundle over a payload (default payloadType: in-toto). */
export async function makeDsseBundle(
  key: SigningKey,
  payload: Uint8Array,
  options: {
    payloadType?: string;
    hint?: string;
    version?: BundleVersion;
    forge?: BundleForgery;
  } = {},
): Promise<SerializedBundle> {
  const raw = options.forge?.signRawPayload ? Buffer.from(payload) : undefined;
  const builder = new DSSEBundleBuilder({
    signer: localSigner(key, {
      hint: options.hint,
      signingKey: options.forge?.signingKey,
      transform: raw ? () => raw : undefined,
    }),
    witnesses: [],
  });
  const bundle = await builder.create({
    data: Buffer.from(payload),
    type: options.payloadType ?? MEDIA_IN_TOTO,
  });
  return withVersion(bundleToJSON(bundle), options.version);
}

/** A DSSE bundle over an in-toto Statement object. */
export function makeStatementBundle(
  key: SigningKey,
  statement: Record<string, unknown>,
  options: {
    payloadType?: string;
    hint?: string;
    version?: BundleVersion;
    forge?: BundleForgery;
  } = {},
): Promise<SerializedBundle> {
  return makeDsseBundle(key, jsonBytes(statement), options);
}

/**
 * A message-signature bundle over an artifact: messageDigest is the SHA-256 of the
 * artifact, the signature is over the artifact bytes. For a container image the
 * artifact is the manifest, so messageDigest equals the image digest.
 */
export async function makeMessageBundle(
  key: SigningKey,
  artifact: Uint8Array,
  options: {
    hint?: string;
    version?: BundleVersion;
    forge?: BundleForgery;
  } = {},
): Promise<SerializedBundle> {
  const builder = new MessageSignatureBundleBuilder({
    signer: localSigner(key, {
      hint: options.hint,
      signingKey: options.forge?.signingKey,
    }),
    witnesses: [],
  });
  const bundle = await builder.create({ data: Buffer.from(artifact) });
  return withVersion(bundleToJSON(bundle), options.version);
}

/** Hex SHA-256, for tests comparing messageDigest values. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
