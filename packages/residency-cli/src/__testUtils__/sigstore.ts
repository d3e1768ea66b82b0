/*
 * Builds Sigstore bundles (v0.3, key-based) with Node's crypto, in the JSON form the
 * bundle protobuf spec defines, so tests can verify real signatures offline.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

export interface TestKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicPem: string;
}

export function testKey(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKey,
    publicKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export function fingerprint(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

const MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

export function messageSignatureBundle(key: TestKey, artifact: Buffer, hint = 'test-key') {
  const signature = sign('sha256', artifact, key.privateKey);
  return {
    mediaType: MEDIA_TYPE,
    verificationMaterial: {
      publicKey: { hint },
      tlogEntries: [],
      timestampVerificationData: { rfc3161Timestamps: [] },
    },
    messageSignature: {
      messageDigest: {
        algorithm: 'SHA2_256',
        digest: createHash('sha256').update(artifact).digest('base64'),
      },
      signature: signature.toString('base64'),
    },
  };
}

/** DSSE pre-authentication encoding (lengths in bytes). */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `),
    type,
    Buffer.from(` ${payload.length} `),
    payload,
  ]);
}

export function statement(
  subjects: { name: string; digest: Record<string, string> }[],
  predicateType = 'https://slsa.dev/provenance/v1',
) {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: subjects,
    predicateType,
    predicate: { buildDefinition: { buildType: 'https://example.com/build' } },
  };
}

export function dsseBundle(
  key: TestKey,
  payloadDoc: unknown,
  payloadType = 'application/vnd.in-toto+json',
) {
  const payload = Buffer.from(JSON.stringify(payloadDoc), 'utf8');
  const sig = sign('sha256', pae(payloadType, payload), key.privateKey);
  return {
    mediaType: MEDIA_TYPE,
    verificationMaterial: {
      publicKey: { hint: 'test-key' },
      tlogEntries: [],
      timestampVerificationData: { rfc3161Timestamps: [] },
    },
    dsseEnvelope: {
      payload: payload.toString('base64'),
      payloadType,
      signatures: [{ sig: sig.toString('base64'), keyid: '' }],
    },
  };
}
