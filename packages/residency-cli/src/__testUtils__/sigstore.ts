/*
 * Builds Sigstore bundles (v0.3, key-based) with Node's crypto, in the JSON form the
 * bundle protobuf spec defines, so tests can verify real signatures offline.
 */
import {
  createHash,
  generateKeyPairSync,
  sign,
  type KeyObject,
} from 'node:crypto';

export interface TestKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicPem: string;
}

export function testKey(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
  });
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

export function messageSignatureBundle(
  key: TestKey,
  artifact: Buffer,
  hint = 'test-key',
) {
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

/** A private Sigstore trusted root holding one transparency log key (no CAs). */
export function tlogTrustedRoot(
  tlogKey: TestKey,
  start = '2020-01-01T00:00:00Z',
) {
  const der = tlogKey.publicKey.export({ type: 'spki', format: 'der' });
  return {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: 'https://rekor.eu.example.com',
        hashAlgorithm: 'SHA2_256',
        publicKey: {
          rawBytes: der.toString('base64'),
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          validFor: { start },
        },
        logId: { keyId: createHash('sha256').update(der).digest('base64') },
      },
    ],
    certificateAuthorities: [],
    ctlogs: [],
    timestampAuthorities: [],
  };
}

/**
 * Adds a hashedrekord transparency-log entry with an inclusion promise (SET) signed by
 * `tlogKey` to a message-signature bundle, making it a v0.1 bundle (v0.2+ would need a
 * Merkle inclusion proof and checkpoint).
 */
export function withTlogEntry(
  bundle: ReturnType<typeof messageSignatureBundle>,
  signer: { publicPem: string },
  tlogKey: TestKey,
  integratedTime = Math.floor(Date.now() / 1000),
) {
  const body = {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: {
        hash: {
          algorithm: 'sha256',
          value: Buffer.from(
            bundle.messageSignature.messageDigest.digest,
            'base64',
          ).toString('hex'),
        },
      },
      signature: {
        content: bundle.messageSignature.signature,
        publicKey: {
          content: Buffer.from(signer.publicPem).toString('base64'),
        },
      },
    },
  };
  const canonicalizedBody = Buffer.from(JSON.stringify(body)).toString(
    'base64',
  );
  const logId = createHash('sha256')
    .update(tlogKey.publicKey.export({ type: 'spki', format: 'der' }))
    .digest();
  // Keys in sorted order: this is the RFC 8785 form of the SET payload.
  const payload = JSON.stringify({
    body: canonicalizedBody,
    integratedTime,
    logID: logId.toString('hex'),
    logIndex: 7,
  });
  const set = sign('sha256', Buffer.from(payload), tlogKey.privateKey);
  return {
    ...bundle,
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    verificationMaterial: {
      ...bundle.verificationMaterial,
      tlogEntries: [
        {
          logIndex: '7',
          logId: { keyId: logId.toString('base64') },
          kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
          integratedTime: String(integratedTime),
          inclusionPromise: { signedEntryTimestamp: set.toString('base64') },
          canonicalizedBody,
        },
      ],
    },
  };
}
