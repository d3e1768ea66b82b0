import { dsse } from '@sigstore/core';
import { canonicalJson } from '../canonical';
import { describePublicKey } from '../config';
import { IN_TOTO_PAYLOAD_TYPE } from '../verify/statement';
import type { VsaSigner } from '../vsa/sign';
import type { ExceptionStatement } from './statement';

/** A signed exception: a DSSE envelope as cosign writes it. @public */
export interface SignedException {
  /** The DSSE envelope JSON. */
  envelope: string;
  /** SHA-256 fingerprint of the signing public key. */
  keyFingerprint: string;
  /** The signing public key (SPKI PEM), recorded beside the envelope in evidence. */
  publicKeyPem: string;
}

/**
 * Signs an exception statement with the portal's signer (the VSA key): one DSSE
 * signature over PAE(payloadType, canonical JSON of the statement).
 *
 * @public
 */
export async function signException(
  statement: ExceptionStatement,
  signer: VsaSigner,
): Promise<SignedException> {
  const payload = Buffer.from(canonicalJson(statement), 'utf8');
  const sig = await signer.sign(
    dsse.preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload),
  );
  const publicKey = await signer.publicKey();
  const { fingerprint } = describePublicKey(publicKey);
  return {
    envelope: JSON.stringify({
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      payload: payload.toString('base64'),
      signatures: [{ keyid: '', sig: sig.toString('base64') }],
    }),
    keyFingerprint: fingerprint,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
