/*
 * Signing a VSA: a signer interface (local PEM key, AWS KMS), and the two outputs
 * consumers read: a DSSE envelope exactly as `cosign attest` writes it (one
 * signature, empty keyid) and a Sigstore bundle v0.3 with a public-key hint (what
 * `cosign verify-attestation --new-bundle-format` reads). Both carry the SAME
 * signature over PAE(payloadType, payload): the bundle is built once by
 * @sigstore/sign's DSSEBundleBuilder and the envelope is taken from it.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  type KeyObject,
} from 'node:crypto';
import { bundleToJSON, type SerializedBundle } from '@sigstore/bundle';
import { DSSEBundleBuilder, type Signer } from '@sigstore/sign';
import { canonicalJson } from '../canonical';
import { describePublicKey } from '../config';
import { IN_TOTO_PAYLOAD_TYPE } from '../verify/statement';
import { VsaError, type VsaStatement } from './types';

/** A region-bound key the verifier signs VSAs with. @public */
export interface VsaSigner {
  /** Configured id: a file path label or a KMS key ARN. */
  readonly keyId: string;
  /** Region of the key (derived from a KMS ARN, explicit for a file key). */
  readonly region: string;
  /** The public key (SubjectPublicKeyInfo). */
  publicKey(): Promise<KeyObject>;
  /** Signs `data` (hash per key type: SHA-256, SHA-384 for P-384, none for Ed25519). */
  sign(data: Buffer): Promise<Buffer>;
}

/** A signed VSA in both output formats. @public */
export interface SignedVsa {
  statement: VsaStatement;
  /** DSSE envelope JSON (`application/vnd.dsse.envelope.v1+json`), as cosign writes it. */
  envelope: string;
  /** Sigstore bundle v0.3 (`application/vnd.dev.sigstore.bundle.v0.3+json`). */
  bundle: SerializedBundle;
  key: { id: string; region: string; fingerprint: string; algorithm: string };
}

/** The hash node:crypto's sign/verify use for a key (null: the key type fixes it). */
export function hashFor(key: KeyObject): string | null {
  if (key.asymmetricKeyType === 'ed25519') return null;
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'secp384r1') return 'sha384';
    if (curve === 'secp521r1') return 'sha512';
  }
  return 'sha256';
}

/** Signs with a local PKCS#8 (or SEC1/PKCS#1) PEM private key. @public */
export class FileVsaSigner implements VsaSigner {
  private constructor(
    readonly keyId: string,
    readonly region: string,
    private readonly key: KeyObject,
  ) {}

  /** @param pem - the private key PEM (e.g. read from `residency.vsa.signingKey.file`). */
  static fromPem(pem: string, opts: { keyId: string; region: string }) {
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: pem, format: 'pem' });
    } catch (e) {
      throw new VsaError(
        'vsa_key_unreadable',
        `VSA signing key ${opts.keyId} is not a PEM private key: ${
          (e as Error).message
        }`,
      );
    }
    try {
      describePublicKey(createPublicKey(key));
    } catch (e) {
      throw new VsaError(
        'vsa_key_unreadable',
        `VSA signing key ${opts.keyId}: ${(e as Error).message}`,
      );
    }
    return new FileVsaSigner(opts.keyId, opts.region, key);
  }

  async publicKey(): Promise<KeyObject> {
    return createPublicKey(this.key);
  }

  async sign(data: Buffer): Promise<Buffer> {
    return cryptoSign(hashFor(this.key), data, this.key);
  }
}

/** Hex SHA-256 fingerprint of a public key's DER SPKI (the bundle's key hint). */
export function fingerprintOf(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/**
 * Signs a VSA statement with a region-bound key. `boundaryRegions`: the regions of the
 * tenant's boundary; a key outside them refuses to sign (`vsa_key_outside_boundary`).
 *
 * @public
 */
export async function signVsa(
  statement: VsaStatement,
  signer: VsaSigner,
  boundaryRegions: readonly string[],
): Promise<SignedVsa> {
  if (!boundaryRegions.includes(signer.region)) {
    throw new VsaError(
      'vsa_key_outside_boundary',
      `VSA signing key ${signer.keyId} is in ${
        signer.region
      }, outside the boundary (${boundaryRegions.join(', ')})`,
      { region: signer.region, boundary: [...boundaryRegions] },
    );
  }
  const publicKey = await signer.publicKey();
  const { algorithm, fingerprint } = describePublicKey(publicKey);
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const sigstoreSigner: Signer = {
    sign: async (data: Buffer) => {
      let signature: Buffer;
      try {
        signature = await signer.sign(data);
      } catch (e) {
        if (e instanceof VsaError) throw e;
        throw new VsaError(
          'vsa_signing_failed',
          `signing the VSA with ${signer.keyId} failed: ${
            (e as Error).message
          }`,
          undefined,
          { cause: e },
        );
      }
      return {
        signature,
        key: { $case: 'publicKey', publicKey: pem, hint: fingerprint },
      };
    },
  };
  const builder = new DSSEBundleBuilder({
    signer: sigstoreSigner,
    witnesses: [],
  });
  const payload = Buffer.from(canonicalJson(statement), 'utf8');
  let bundle: SerializedBundle;
  try {
    bundle = bundleToJSON(
      await builder.create({ data: payload, type: IN_TOTO_PAYLOAD_TYPE }),
    );
  } catch (e) {
    if (e instanceof VsaError) throw e;
    // @sigstore/sign wraps signer failures in its own error: keep ours visible
    const cause = (e as { cause?: unknown }).cause;
    if (cause instanceof VsaError) throw cause;
    throw new VsaError(
      'vsa_signing_failed',
      `building the VSA bundle failed: ${(e as Error).message}`,
      undefined,
      { cause: e },
    );
  }
  const env = bundle.dsseEnvelope!;
  const envelope = JSON.stringify({
    payloadType: env.payloadType,
    payload: env.payload,
    signatures: env.signatures.map(s => ({ keyid: '', sig: s.sig })),
  });
  return {
    statement,
    envelope,
    bundle,
    key: { id: signer.keyId, region: signer.region, fingerprint, algorithm },
  };
}
