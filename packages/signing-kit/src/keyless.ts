/*
 * Keyless (certificate-based) Sigstore material for tests, fully offline: a private
 * Fulcio-like certificate authority, a private Rekor-like transparency log, the
 * `trusted_root.json` naming both, short-lived signing certificates carrying an
 * identity (SAN e-mail or URI) and an OIDC issuer (Fulcio extension OIDs
 * 1.3.6.1.4.1.57264.1.1 and .1.8), and v0.3 bundles whose single tlog entry has
 * both an inclusion promise (SET) and an inclusion proof in a one-leaf tree with a
 * signed checkpoint. The verifier trusts none of this unless its configuration names
 * the trusted root: that is exactly what tests of keyless verification need.
 */
import { bundleToJSON, type SerializedBundle } from '@sigstore/bundle';
import {
  DSSEBundleBuilder,
  MessageSignatureBundleBuilder,
  type Signer,
} from '@sigstore/sign';
import * as x509 from '@peculiar/x509';
import canonicalize from 'canonicalize';
import { createHash, webcrypto } from 'node:crypto';
import { generateKey, signBytes, SigningKey, SigningKitError } from './keys';
import { MEDIA_IN_TOTO } from './oci';

const OID_FULCIO_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
const OID_FULCIO_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';
const OID_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' };

/** A private CA, a private transparency log and the trusted root naming both. */
export interface KeylessTrust {
  ca: { key: SigningKey; certificatePem: string; certificateDer: Buffer };
  log: { key: SigningKey; baseUrl: string; logId: Buffer };
  /** The `trusted_root.json` document (protobuf-specs JSON form). */
  trustedRoot: Record<string, unknown>;
}

/** A short-lived signing certificate and its key. */
export interface SigningCertificate {
  key: SigningKey;
  certificatePem: string;
  certificateDer: Buffer;
  /** SAN value (e-mail address or URI). */
  identity: string;
  issuer: string;
}

function sha256(b: Uint8Array | string): Buffer {
  return createHash('sha256').update(b).digest();
}

async function toWebKeys(key: SigningKey): Promise<CryptoKeyPair> {
  if (key.alg !== 'ecdsa-p256') {
    throw new SigningKitError(
      'keyless test material uses ECDSA P-256 keys',
      'unsupported_key',
    );
  }
  const alg = { name: 'ECDSA', namedCurve: 'P-256' };
  const privateKey = await webcrypto.subtle.importKey(
    'pkcs8',
    key.privateKey.export({ type: 'pkcs8', format: 'der' }),
    alg,
    true,
    ['sign'],
  );
  const publicKey = await webcrypto.subtle.importKey(
    'spki',
    key.publicKey.export({ type: 'spki', format: 'der' }),
    alg,
    true,
    ['verify'],
  );
  return { privateKey, publicKey } as CryptoKeyPair;
}

/** DER UTF8String (tag 0x0c) of a short string, as Fulcio encodes the v2 issuer. */
function derUtf8String(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  if (body.length > 0xffff)
    throw new SigningKitError('issuer too long', 'bad_input');
  let len: Buffer;
  if (body.length < 0x80) len = Buffer.from([body.length]);
  else if (body.length <= 0xff) len = Buffer.from([0x81, body.length]);
  else len = Buffer.from([0x82, body.length >> 8, body.length & 0xff]);
  return Buffer.concat([Buffer.from([0x0c]), len, body]);
}

/** Creates a private CA and transparency log, and the trusted root for them. */
export async function createKeylessTrust(
  options: { validFrom?: Date; baseUrl?: string; commonName?: string } = {},
): Promise<KeylessTrust> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const validFrom =
    options.validFrom ?? new Date(Date.now() - 24 * 3600 * 1000);
  const caKey = generateKey('ecdsa-p256');
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${options.commonName ?? 'Residency Test CA'}, O=residency.dev`,
    notBefore: validFrom,
    notAfter: new Date(validFrom.getTime() + 10 * 365 * 24 * 3600 * 1000),
    signingAlgorithm: ECDSA_SHA256,
    keys: await toWebKeys(caKey),
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
    ],
  });
  const certificateDer = Buffer.from(caCert.rawData);
  const logKey = generateKey('ecdsa-p256');
  const logSpki = logKey.publicKey.export({ type: 'spki', format: 'der' });
  const logId = sha256(logSpki);
  const baseUrl = options.baseUrl ?? 'https://rekor.residency.test';
  const start = validFrom.toISOString();
  return {
    ca: { key: caKey, certificatePem: caCert.toString('pem'), certificateDer },
    log: { key: logKey, baseUrl, logId },
    trustedRoot: {
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [
        {
          baseUrl,
          hashAlgorithm: 'SHA2_256',
          publicKey: {
            rawBytes: logSpki.toString('base64'),
            keyDetails: 'PKIX_ECDSA_P256_SHA_256',
            validFor: { start },
          },
          logId: { keyId: logId.toString('base64') },
        },
      ],
      certificateAuthorities: [
        {
          subject: {
            organization: 'residency.dev',
            commonName: options.commonName ?? 'Residency Test CA',
          },
          uri: 'https://fulcio.residency.test',
          certChain: {
            certificates: [{ rawBytes: certificateDer.toString('base64') }],
          },
          validFor: { start },
        },
      ],
      ctlogs: [],
      timestampAuthorities: [],
    },
  };
}

/**
 * Issues a Fulcio-style leaf: empty subject, SAN = identity (e-mail, or URI when it
 * contains "://"), code-signing EKU, issuer in both Fulcio extensions.
 */
export async function issueSigningCertificate(
  trust: KeylessTrust,
  options: {
    identity: string;
    issuer: string;
    notBefore?: Date;
    validityMinutes?: number;
    key?: SigningKey;
  },
): Promise<SigningCertificate> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const key = options.key ?? generateKey('ecdsa-p256');
  const notBefore = options.notBefore ?? new Date(Date.now() - 60 * 1000);
  const notAfter = new Date(
    notBefore.getTime() + (options.validityMinutes ?? 10) * 60 * 1000,
  );
  const caKeys = await toWebKeys(trust.ca.key);
  const caCert = new x509.X509Certificate(trust.ca.certificateDer);
  const leafKeys = await toWebKeys(key);
  const san = options.identity.includes('://')
    ? { type: 'url' as const, value: options.identity }
    : { type: 'email' as const, value: options.identity };
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: createHash('sha256')
      .update(`${options.identity}${Date.now()}${Math.random()}`)
      .digest('hex')
      .slice(0, 30)
      .replace(/^[89a-f]/, '1'),
    subject: '',
    issuer: caCert.subject,
    notBefore,
    notAfter,
    signingAlgorithm: ECDSA_SHA256,
    publicKey: leafKeys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([OID_CODE_SIGNING]),
      new x509.SubjectAlternativeNameExtension([san], true),
      await x509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
      new x509.Extension(
        OID_FULCIO_ISSUER_V1,
        false,
        Buffer.from(options.issuer, 'utf8'),
      ),
      new x509.Extension(
        OID_FULCIO_ISSUER_V2,
        false,
        derUtf8String(options.issuer),
      ),
    ],
  });
  return {
    key,
    certificatePem: cert.toString('pem'),
    certificateDer: Buffer.from(cert.rawData),
    identity: options.identity,
    issuer: options.issuer,
  };
}

function certSigner(cert: SigningCertificate): Signer {
  return {
    sign: async (data: Buffer) => ({
      signature: signBytes(cert.key, data),
      key: { $case: 'x509Certificate', certificate: cert.certificatePem },
    }),
  };
}

/** Rekor-style log entry (kind dsse or hashedrekord v0.0.1) in a one-leaf tree. */
function tlogEntry(
  trust: KeylessTrust,
  body: Record<string, unknown>,
  kind: string,
  integratedTime: number,
): Record<string, unknown> {
  const canonicalBody = Buffer.from(canonicalize(body)!, 'utf8');
  const logIndex = 0;
  // Signed entry timestamp: the log's signature over the canonical JSON of
  // {body, integratedTime, logID, logIndex} (what Rekor returns as the SET).
  const setPayload = canonicalize({
    body: canonicalBody.toString('base64'),
    integratedTime,
    logIndex,
    logID: trust.log.logId.toString('hex'),
  })!;
  const set = signBytes(trust.log.key, Buffer.from(setPayload, 'utf8'));
  // RFC 6962 leaf hash; in a tree of one leaf it is the root, and the proof is empty.
  const root = sha256(Buffer.concat([Buffer.from([0]), canonicalBody]));
  const origin = `${new URL(trust.log.baseUrl).host} - 1`;
  const note = `${origin}\n1\n${root.toString('base64')}\n`;
  const noteSig = Buffer.concat([
    trust.log.logId.subarray(0, 4),
    signBytes(trust.log.key, Buffer.from(note, 'utf8')),
  ]);
  const envelope = `${note}\n\u2014 ${
    new URL(trust.log.baseUrl).host
  } ${noteSig.toString('base64')}\n`;
  return {
    logIndex: String(logIndex),
    logId: { keyId: trust.log.logId.toString('base64') },
    kindVersion: { kind, version: '0.0.1' },
    integratedTime: String(integratedTime),
    inclusionPromise: { signedEntryTimestamp: set.toString('base64') },
    inclusionProof: {
      logIndex: String(logIndex),
      rootHash: root.toString('base64'),
      treeSize: '1',
      hashes: [],
      checkpoint: { envelope },
    },
    canonicalizedBody: canonicalBody.toString('base64'),
  };
}

/** A keyless DSSE bundle v0.3: certificate, envelope, and one tlog entry (kind dsse). */
export async function makeKeylessDsseBundle(
  trust: KeylessTrust,
  cert: SigningCertificate,
  payload: Uint8Array,
  options: { payloadType?: string; integratedTime?: number } = {},
): Promise<SerializedBundle> {
  const builder = new DSSEBundleBuilder({
    signer: certSigner(cert),
    witnesses: [],
  });
  const bundle = bundleToJSON(
    await builder.create({
      data: Buffer.from(payload),
      type: options.payloadType ?? MEDIA_IN_TOTO,
    }),
  );
  const env = bundle.dsseEnvelope!;
  const body = {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: {
        algorithm: 'sha256',
        value: sha256(canonicalize(env)!).toString('hex'),
      },
      payloadHash: {
        algorithm: 'sha256',
        value: sha256(payload).toString('hex'),
      },
      signatures: [
        {
          signature: env.signatures[0].sig,
          verifier: Buffer.from(cert.certificatePem).toString('base64'),
        },
      ],
    },
  };
  const t = options.integratedTime ?? Math.floor(Date.now() / 1000);
  return {
    ...bundle,
    verificationMaterial: {
      ...bundle.verificationMaterial,
      tlogEntries: [tlogEntry(trust, body, 'dsse', t) as any],
    },
  };
}

/** A keyless message-signature bundle v0.3 with one tlog entry (kind hashedrekord). */
export async function makeKeylessMessageBundle(
  trust: KeylessTrust,
  cert: SigningCertificate,
  artifact: Uint8Array,
  options: { integratedTime?: number } = {},
): Promise<SerializedBundle> {
  const builder = new MessageSignatureBundleBuilder({
    signer: certSigner(cert),
    witnesses: [],
  });
  const bundle = bundleToJSON(
    await builder.create({ data: Buffer.from(artifact) }),
  );
  const body = hashedRekordBody(
    cert,
    artifact,
    bundle.messageSignature!.signature,
  );
  const t = options.integratedTime ?? Math.floor(Date.now() / 1000);
  return {
    ...bundle,
    verificationMaterial: {
      ...bundle.verificationMaterial,
      tlogEntries: [tlogEntry(trust, body, 'hashedrekord', t) as any],
    },
  };
}

/** A Rekor hashedrekord v0.0.1 body for a signature over `data` by `cert`. */
function hashedRekordBody(
  cert: SigningCertificate,
  data: Uint8Array,
  signatureB64: string,
) {
  return {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: {
        hash: { algorithm: 'sha256', value: sha256(data).toString('hex') },
      },
      signature: {
        content: signatureB64,
        publicKey: {
          content: Buffer.from(cert.certificatePem).toString('base64'),
        },
      },
    },
  };
}

/**
 * A keyless cosign simple-signing signature: the layer annotations cosign writes for
 * certificate-based signing (`dev.sigstore.cosign/certificate`, `/chain` and the
 * Rekor `/bundle` with the log's SignedEntryTimestamp over the hashedrekord entry).
 */
export function keylessSimpleSignature(
  trust: KeylessTrust,
  cert: SigningCertificate,
  payload: Uint8Array,
  options: { integratedTime?: number } = {},
): {
  payload: Uint8Array;
  signature: string;
  annotations: Record<string, string>;
} {
  const signature = signBytes(cert.key, payload).toString('base64');
  const body = Buffer.from(
    canonicalize(hashedRekordBody(cert, payload, signature))!,
    'utf8',
  );
  const integratedTime =
    options.integratedTime ?? Math.floor(Date.now() / 1000);
  const logIndex = 0;
  const inner = {
    body: body.toString('base64'),
    integratedTime,
    logIndex,
    logID: trust.log.logId.toString('hex'),
  };
  const set = signBytes(
    trust.log.key,
    Buffer.from(canonicalize(inner)!, 'utf8'),
  );
  return {
    payload,
    signature,
    annotations: {
      'dev.sigstore.cosign/certificate': cert.certificatePem,
      'dev.sigstore.cosign/chain': trust.ca.certificatePem,
      'dev.sigstore.cosign/bundle': JSON.stringify({
        SignedEntryTimestamp: set.toString('base64'),
        Payload: inner,
      }),
    },
  };
}
