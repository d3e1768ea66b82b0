/*
 * A private Sigstore deployment made with @sigstore/mock (not our kit): a Fulcio-style
 * CA with a CT log, a Rekor-style transparency log and a TSA, plus the matching
 * `trusted_root.json`. Signs as cosign v1/v2 `sign` does keyless: an ephemeral key,
 * a short-lived certificate naming the workload identity, a hashedrekord entry whose
 * signed entry timestamp becomes the `dev.sigstore.cosign/bundle` annotation.
 */
import {
  createHash,
  generateKeyPairSync,
  sign,
  X509Certificate,
} from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  initializeCA,
  initializeCTLog,
  initializeTLog,
  initializeTSA,
} from '@sigstore/mock';
import { TrustedRoot } from '@sigstore/protobuf-specs';

/** Fulcio's OIDC issuer extension (v2, a DER UTF8String) and its legacy v1 form. */
const ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
const ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';

export interface MockSigstore {
  /** Path of the trusted_root.json describing this deployment. */
  rootFile: string;
  rootJson: unknown;
  /** Keyless cosign `.sig` layer annotations and signature for `payload`. */
  sign(
    payload: Buffer,
    subject: string,
    issuer: string,
    opts?: { log?: boolean; timestampOver?: Buffer },
  ): Promise<{
    signature: string;
    certificate: string;
    rekorBundle?: string;
    rfc3161Timestamp?: string;
  }>;
}

/** Whole seconds: the mock's clocks must not carry milliseconds (see ENVIRONMENT.md). */
function nowSeconds(): Date {
  return new Date(Math.floor(Date.now() / 1000) * 1000);
}

export async function mockSigstore(
  dir: string,
  name: string,
  opts: { tlog?: boolean; ctlog?: boolean; tsa?: boolean; clock?: Date } = {},
): Promise<MockSigstore> {
  // One second ahead: the mock's TSA and root certificates start at the wall clock
  // (truncated to the second when encoded), so a clock taken just before a second
  // boundary would sign timestamps before its own TSA certificate and fail at random.
  const clock = opts.clock ?? new Date(nowSeconds().getTime() + 1000);
  const keyPair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ctLog = await initializeCTLog(keyPair(), clock);
  const useCt = opts.ctlog ?? true;
  const ca = await initializeCA(keyPair(), useCt ? ctLog : undefined, clock);
  const tlogUrl = `https://rekor.${name}.example.com`;
  const tlog = await initializeTLog(tlogUrl, keyPair(), clock);
  const tsa = opts.tsa ? await initializeTSA(keyPair(), clock) : undefined;
  const start = new Date(clock.getTime() - 3600_000);
  const root = TrustedRoot.toJSON({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs:
      opts.tlog === false
        ? []
        : [
            {
              baseUrl: tlogUrl,
              hashAlgorithm: 1,
              publicKey: {
                rawBytes: tlog.publicKey,
                keyDetails: 5, // PKIX_ECDSA_P256_SHA_256
                validFor: { start },
              },
              logId: {
                keyId: createHash('sha256').update(tlog.publicKey).digest(),
              },
            },
          ],
    certificateAuthorities: [
      {
        subject: { organization: `${name}.mock`, commonName: name },
        uri: `https://fulcio.${name}.example.com`,
        certChain: {
          certificates: [{ rawBytes: Buffer.from(ca.rootCertificate.buffer) }],
        },
        validFor: { start },
      },
    ],
    ctlogs: useCt
      ? [
          {
            baseUrl: `https://ctfe.${name}.example.com`,
            hashAlgorithm: 1,
            publicKey: {
              rawBytes: ctLog.publicKey,
              keyDetails: 5,
              validFor: { start },
            },
            logId: { keyId: Buffer.from(ctLog.logID.buffer) },
          },
        ]
      : [],
    timestampAuthorities: tsa
      ? [
          {
            subject: {
              organization: `${name}.mock`,
              commonName: `${name}-tsa`,
            },
            uri: `https://tsa.${name}.example.com`,
            certChain: {
              certificates: [
                { rawBytes: Buffer.from(tsa.intCertificate.buffer) },
                { rawBytes: Buffer.from(tsa.rootCertificate.buffer) },
              ],
            },
            validFor: { start },
          },
        ]
      : [],
  } as never);
  const rootFile = join(dir, `${name}-trusted_root.json`);
  writeFileSync(rootFile, JSON.stringify(root));

  return {
    rootFile,
    rootJson: root,
    async sign(payload, subject, issuer, signOpts = {}) {
      const ephemeral = keyPair();
      const der = await ca.issueCertificate({
        publicKey: ephemeral.publicKey.export({ type: 'spki', format: 'der' }),
        subjectAltName: subject,
        extensions: [
          { oid: ISSUER_V1, value: issuer, legacy: true },
          { oid: ISSUER_V2, value: issuer },
        ],
      });
      const cert = new X509Certificate(Buffer.from(der.buffer));
      const certificate = cert.toString();
      const sig = sign('sha256', payload, ephemeral.privateKey);
      const out: {
        signature: string;
        certificate: string;
        rekorBundle?: string;
        rfc3161Timestamp?: string;
      } = { signature: sig.toString('base64'), certificate };
      if (tsa) {
        // cosign timestamps the signature bytes; the annotation carries the TSA response
        const response = await tsa.timestamp({
          artifactHash: createHash('sha256')
            .update(signOpts.timestampOver ?? sig)
            .digest(),
          hashAlgorithmOID: '2.16.840.1.101.3.4.2.1',
          nonce: 42,
          policyOID: '1.3.6.1.4.1.57264.2',
          certReq: true,
        });
        out.rfc3161Timestamp = JSON.stringify({
          SignedRFC3161Timestamp: Buffer.from(response.buffer).toString(
            'base64',
          ),
        });
      }
      if (signOpts.log ?? opts.tlog !== false) {
        const entry = await tlog.log({
          apiVersion: '0.0.1',
          kind: 'hashedrekord',
          spec: {
            signature: {
              content: sig.toString('base64'),
              publicKey: {
                content: Buffer.from(certificate).toString('base64'),
              },
            },
            data: {
              hash: {
                algorithm: 'sha256',
                value: createHash('sha256').update(payload).digest('hex'),
              },
            },
          },
        });
        const e = Object.values(entry)[0] as {
          body: string;
          integratedTime: number;
          logID: string;
          logIndex: number;
          verification: { signedEntryTimestamp: string };
        };
        // cosign's `dev.sigstore.cosign/bundle` annotation (pkg/cosign/bundle RekorBundle)
        out.rekorBundle = JSON.stringify({
          SignedEntryTimestamp: e.verification.signedEntryTimestamp,
          Payload: {
            body: e.body,
            integratedTime: e.integratedTime,
            logIndex: e.logIndex,
            logID: e.logID,
          },
        });
      }
      return out;
    },
  };
}
