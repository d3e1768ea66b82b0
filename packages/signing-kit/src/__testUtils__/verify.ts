/*
 * Independent verification paths for the signing kit's tests: node:crypto for
 * simple-signing and DSSE PAE (re-implemented here, not imported), and
 * @sigstore/verify for bundles, with trust material built only from a test key.
 */
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { bundleFromJSON } from '@sigstore/bundle';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';

/** PAE written independently of src/cosign.ts, straight from the DSSE spec. */
export function referencePae(type: string, body: Buffer): Buffer {
  const t = Buffer.from(type, 'utf8');
  return Buffer.concat([
    Buffer.from('DSSEv1 '),
    Buffer.from(String(t.length)),
    Buffer.from(' '),
    t,
    Buffer.from(' '),
    Buffer.from(String(body.length)),
    Buffer.from(' '),
    body,
  ]);
}

/** Verifies a signature the way cosign verifies key-based signatures (SHA-256, DER ECDSA). */
export function verifyWithPem(
  pem: string,
  data: Buffer,
  sigB64: string,
): boolean {
  const key = createPublicKey(pem);
  const alg = key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
  return cryptoVerify(alg, data, key, Buffer.from(sigB64, 'base64'));
}

/** Verifies a DSSE envelope's first signature over PAE. */
export function verifyEnvelope(
  pem: string,
  envelope: {
    payloadType: string;
    payload: string;
    signatures: { sig: string }[];
  },
): boolean {
  return verifyWithPem(
    pem,
    referencePae(envelope.payloadType, Buffer.from(envelope.payload, 'base64')),
    envelope.signatures[0].sig,
  );
}

const EMPTY_ROOT = TrustedRoot.fromJSON({
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
});

/**
 * Verifies a serialized bundle offline with @sigstore/verify. Trust: exactly the
 * given keys, looked up by hint. Throws @sigstore/verify's errors.
 */
export function verifyBundle(
  bundleJson: unknown,
  keysByHint: Record<string, string>,
  artifact?: Buffer,
) {
  const bundle = bundleFromJSON(bundleJson);
  const trust = toTrustMaterial(EMPTY_ROOT, (hint: string) => {
    const pem = keysByHint[hint];
    if (!pem) throw new Error(`no trusted key for hint ${hint}`);
    return { publicKey: createPublicKey(pem), validFor: () => true };
  });
  const verifier = new Verifier(trust, {
    tlogThreshold: 0,
    ctlogThreshold: 0,
    timestampThreshold: 0,
  });
  return verifier.verify(toSignedEntity(bundle, artifact));
}

/**
 * Verifies a keyless bundle offline against a trusted root document with one tlog
 * entry required (inclusion promise and proof), optionally with an identity policy.
 */
export function verifyKeylessBundle(
  bundleJson: unknown,
  trustedRootJson: unknown,
  policy?: {
    subjectAlternativeName?: string;
    extensions?: { issuer?: string };
  },
  artifact?: Buffer,
) {
  const bundle = bundleFromJSON(bundleJson);
  const trust = toTrustMaterial(TrustedRoot.fromJSON(trustedRootJson));
  const verifier = new Verifier(trust, {
    tlogThreshold: 1,
    ctlogThreshold: 0,
    timestampThreshold: 1,
  });
  return verifier.verify(toSignedEntity(bundle, artifact), policy);
}
