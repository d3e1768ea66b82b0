/*
 * The interop corpus: signed material made by producers other than our signing kit,
 * laid out exactly as cosign, go-containerregistry and @sigstore/oci write it.
 * - openssl (`openssl dgst -sha256 -sign`) signs cosign simple-signing payloads and
 *   DSSE pre-authentication encodings, as cosign does with a key file;
 * - @sigstore/sign builds Sigstore bundles (DSSE and message signature) with a local
 *   key, as cosign v3 `--new-bundle-format` / sigstore-js do;
 * - @sigstore/oci attaches bundles as referrers (GitHub / npm attestation style);
 * - the OCI layouts are rebuilt from cosign's published formats (pkg/oci/remote
 *   `WriteReferrer`, `WriteSignaturesExperimentalOCI`, `WriteAttestationsReferrer`;
 *   pkg/oci/layout `WriteSignedImage`), read with the search tool; no code copied.
 */
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleToJSON } from '@sigstore/bundle';
import {
  DSSEBundleBuilder,
  MessageSignatureBundleBuilder,
  type Signer,
} from '@sigstore/sign';
import { attachArtifactToImage } from '@sigstore/oci';
import {
  pushBlob,
  pushManifest,
  sha256,
} from '../../source/__testUtils__/registry';

/**
 * Basic credentials sent with every push: the loopback proxies ask for them on upload
 * (as registries with authentication do); the open docker-registry ignores them.
 */
export const PUSH_AUTH = {
  authorization: `Basic ${Buffer.from('ci:residency-test').toString('base64')}`,
};

export const MEDIA_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MEDIA_INDEX = 'application/vnd.oci.image.index.v1+json';
export const MEDIA_EMPTY = 'application/vnd.oci.empty.v1+json';
export const MEDIA_BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';
export const MEDIA_SIMPLESIGNING =
  'application/vnd.dev.cosign.simplesigning.v1+json';
export const MEDIA_DSSE = 'application/vnd.dsse.envelope.v1+json';
export const MEDIA_COSIGN_SIG_ARTIFACT =
  'application/vnd.dev.cosign.artifact.sig.v1+json';
export const IN_TOTO = 'application/vnd.in-toto+json';

/** A P-256 key pair on disk, made with openssl (never with our kit). */
export interface OpensslKey {
  dir: string;
  keyFile: string;
  publicKeyPem: string;
}

export function opensslKey(): OpensslKey {
  const dir = mkdtempSync(join(tmpdir(), 'residency-interop-key-'));
  const keyFile = join(dir, 'key.pem');
  execFileSync('openssl', [
    'genpkey',
    '-algorithm',
    'EC',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-out',
    keyFile,
  ]);
  const publicKeyPem = execFileSync('openssl', [
    'pkey',
    '-in',
    keyFile,
    '-pubout',
  ]).toString();
  return { dir, keyFile, publicKeyPem };
}

/** `openssl dgst -sha256 -sign`: a DER ECDSA signature, base64. */
export function opensslSign(key: OpensslKey, data: Buffer): string {
  const file = join(
    key.dir,
    `data-${createHash('sha256').update(data).digest('hex')}`,
  );
  writeFileSync(file, data);
  return execFileSync('openssl', [
    'dgst',
    '-sha256',
    '-sign',
    key.keyFile,
    file,
  ]).toString('base64');
}

/** cosign's simple-signing payload, in the byte form cosign writes. */
export function cosignPayload(dockerReference: string, digest: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': dockerReference },
        image: { 'docker-manifest-digest': digest },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );
}

/** DSSE v1 pre-authentication encoding (the DSSE spec). */
export function pae(payloadType: string, payload: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(
      `DSSEv1 ${Buffer.byteLength(payloadType)} ${payloadType} ${
        payload.length
      } `,
    ),
    payload,
  ]);
}

/** An in-toto v1 statement about `digest`. */
export function statement(
  digest: string,
  predicateType = 'https://slsa.dev/provenance/v1',
  predicate: unknown = {
    buildDefinition: {
      buildType: 'https://slsa.dev/container-based-build/v0.1',
      externalParameters: {},
      resolvedDependencies: [],
    },
    runDetails: { builder: { id: 'https://builder.eu.example.com/runner' } },
  },
): Buffer {
  const [alg, hex] = digest.split(':');
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'image', digest: { [alg]: hex } }],
      predicateType,
      predicate,
    }),
  );
}

/** A DSSE envelope signed by openssl (what `cosign attest --key` puts in `.att`). */
export function opensslEnvelope(key: OpensslKey, payload: Buffer): string {
  return JSON.stringify({
    payloadType: IN_TOTO,
    payload: payload.toString('base64'),
    signatures: [{ keyid: '', sig: opensslSign(key, pae(IN_TOTO, payload)) }],
  });
}

/** A @sigstore/sign signer over a local key pair (no network, no witnesses). */
function localSigner() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
  });
  const publicKeyPem = publicKey.export({
    type: 'spki',
    format: 'pem',
  }) as string;
  const signer: Signer = {
    async sign(data: Buffer) {
      return {
        signature: sign('sha256', data, privateKey),
        key: { $case: 'publicKey', publicKey: publicKeyPem, hint: '' },
      };
    },
  };
  return { signer, publicKeyPem };
}

export type SigstoreSigner = ReturnType<typeof localSigner>;
export const sigstoreSigner = localSigner;

/** A key-based v0.3 DSSE bundle made by @sigstore/sign. */
export async function sigstoreDsseBundle(
  s: SigstoreSigner,
  payload: Buffer,
): Promise<string> {
  const b = await new DSSEBundleBuilder({
    signer: s.signer,
    witnesses: [],
  }).create({ data: payload, type: IN_TOTO });
  return JSON.stringify(bundleToJSON(b));
}

/** A key-based v0.3 message-signature bundle over the manifest bytes, by @sigstore/sign. */
export async function sigstoreMessageBundle(
  s: SigstoreSigner,
  manifest: Buffer,
): Promise<string> {
  const b = await new MessageSignatureBundleBuilder({
    signer: s.signer,
    witnesses: [],
  }).create({ data: manifest });
  return JSON.stringify(bundleToJSON(b));
}

interface Subject {
  digest: string;
  size: number;
}

async function emptyConfig(url: string, repo: string) {
  return pushBlob(url, repo, '{}', PUSH_AUTH);
}

/**
 * cosign v3 `--new-bundle-format` on a registry without the referrers API: the
 * referrer manifest of `WriteReferrer` (empty config whose descriptor carries the
 * artifactType, one bundle layer, subject, annotations) pushed by digest, and the
 * `sha256-<hex>` fallback index entry typed with the *config* media type, as
 * measured on Distribution.
 */
export async function pushCosignV3Bundle(
  url: string,
  repo: string,
  subject: Subject,
  bundle: string,
  opts: { predicateType?: string; indexArtifactType?: string | null } = {},
) {
  const config = await emptyConfig(url, repo);
  const layer = await pushBlob(url, repo, bundle, PUSH_AUTH);
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_MANIFEST,
    config: {
      mediaType: MEDIA_EMPTY,
      artifactType: MEDIA_BUNDLE_V03,
      ...config,
    },
    layers: [{ mediaType: MEDIA_BUNDLE_V03, ...layer }],
    subject: { mediaType: MEDIA_MANIFEST, ...subject },
    annotations: {
      'org.opencontainers.image.created': '2026-06-01T10:00:00Z',
      'dev.sigstore.bundle.content': opts.predicateType
        ? 'dsse-envelope'
        : 'message-signature',
      ...(opts.predicateType
        ? { 'dev.sigstore.bundle.predicateType': opts.predicateType }
        : {}),
    },
    artifactType: MEDIA_BUNDLE_V03,
  };
  const bytes = JSON.stringify(manifest);
  const pushed = await pushManifest(
    url,
    repo,
    sha256(bytes),
    bytes,
    undefined,
    PUSH_AUTH,
  );
  const entryType =
    opts.indexArtifactType === undefined ? MEDIA_EMPTY : opts.indexArtifactType;
  return {
    mediaType: MEDIA_MANIFEST,
    digest: pushed.digest,
    size: pushed.size,
    ...(entryType !== null ? { artifactType: entryType } : {}),
  };
}

/**
 * cosign's experimental OCI 1.1 signing (`WriteSignaturesExperimentalOCI`): the `.sig`
 * manifest with its config media type set to the cosign sig artifact type and a
 * subject, pushed by digest; returns the fallback index entry.
 */
export async function pushCosignExperimentalSig(
  url: string,
  repo: string,
  subject: Subject,
  payload: Buffer,
  signature: string,
) {
  const config = await pushBlob(url, repo, '{}', PUSH_AUTH);
  const layer = await pushBlob(url, repo, payload, PUSH_AUTH);
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_MANIFEST,
    config: { mediaType: MEDIA_COSIGN_SIG_ARTIFACT, ...config },
    layers: [
      {
        mediaType: MEDIA_SIMPLESIGNING,
        ...layer,
        annotations: { 'dev.cosignproject.cosign/signature': signature },
      },
    ],
    subject: { mediaType: MEDIA_MANIFEST, ...subject },
    artifactType: MEDIA_COSIGN_SIG_ARTIFACT,
  };
  const bytes = JSON.stringify(manifest);
  const pushed = await pushManifest(
    url,
    repo,
    sha256(bytes),
    bytes,
    undefined,
    PUSH_AUTH,
  );
  return {
    mediaType: MEDIA_MANIFEST,
    digest: pushed.digest,
    size: pushed.size,
    artifactType: MEDIA_COSIGN_SIG_ARTIFACT,
  };
}

/** cosign's OCI 1.1 attestations (`WriteAttestationsReferrer`): DSSE layers, in-toto artifactType. */
export async function pushCosignAttestationReferrer(
  url: string,
  repo: string,
  subject: Subject,
  envelope: string,
  predicateType: string,
) {
  const config = await emptyConfig(url, repo);
  const layer = await pushBlob(url, repo, envelope, PUSH_AUTH);
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_MANIFEST,
    config: { mediaType: MEDIA_EMPTY, artifactType: IN_TOTO, ...config },
    layers: [
      {
        mediaType: MEDIA_DSSE,
        ...layer,
        annotations: { predicateType },
      },
    ],
    subject: { mediaType: MEDIA_MANIFEST, ...subject },
    annotations: { 'org.opencontainers.image.created': '2026-06-01T10:00:00Z' },
    artifactType: IN_TOTO,
  };
  const bytes = JSON.stringify(manifest);
  const pushed = await pushManifest(
    url,
    repo,
    sha256(bytes),
    bytes,
    undefined,
    PUSH_AUTH,
  );
  return {
    mediaType: MEDIA_MANIFEST,
    digest: pushed.digest,
    size: pushed.size,
    artifactType: IN_TOTO,
  };
}

/** An unrelated referrer (an SPDX document as some SBOM tools attach it): must be ignored. */
export async function pushUnrelatedReferrer(
  url: string,
  repo: string,
  subject: Subject,
) {
  const config = await emptyConfig(url, repo);
  const layer = await pushBlob(
    url,
    repo,
    '{"spdxVersion":"SPDX-2.3"}',
    PUSH_AUTH,
  );
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_MANIFEST,
    artifactType: 'application/spdx+json',
    config: { mediaType: MEDIA_EMPTY, ...config },
    layers: [{ mediaType: 'application/spdx+json', ...layer }],
    subject: { mediaType: MEDIA_MANIFEST, ...subject },
  };
  const bytes = JSON.stringify(manifest);
  const pushed = await pushManifest(
    url,
    repo,
    sha256(bytes),
    bytes,
    undefined,
    PUSH_AUTH,
  );
  return {
    mediaType: MEDIA_MANIFEST,
    digest: pushed.digest,
    size: pushed.size,
    artifactType: 'application/spdx+json',
  };
}

/** The `sha256-<hex>` referrers tag-schema index, as go-containerregistry writes it (sorted). */
export async function pushFallbackIndex(
  url: string,
  repo: string,
  subjectDigest: string,
  entries: { digest: string }[],
) {
  const manifests = [...entries].sort((a, b) => (a.digest < b.digest ? -1 : 1));
  return pushManifest(
    url,
    repo,
    subjectDigest.replace(':', '-'),
    { schemaVersion: 2, mediaType: MEDIA_INDEX, manifests },
    MEDIA_INDEX,
    PUSH_AUTH,
  );
}

/** Attaches a bundle with @sigstore/oci (GitHub/npm attestation style). */
export async function attachWithSigstoreOci(
  host: string,
  repo: string,
  imageDigest: string,
  bundle: string,
) {
  return attachArtifactToImage({
    imageName: `${host}/${repo}`,
    imageDigest,
    artifact: Buffer.from(bundle),
    mediaType: MEDIA_BUNDLE_V03,
    credentials: { username: 'ci', password: 'residency-test' },
    annotations: { 'dev.sigstore.bundle.content': 'dsse-envelope' },
  });
}

/** `skopeo copy` from the registry into an OCI layout directory. */
export function skopeoToLayout(
  registryHost: string,
  repo: string,
  tag: string,
  layoutDir: string,
  layoutTag = tag,
) {
  execFileSync(
    'skopeo',
    [
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      '--preserve-digests',
      `docker://${registryHost}/${repo}${
        tag.startsWith('sha256:') ? '@' : ':'
      }${tag}`,
      `oci:${layoutDir}:${layoutTag}`,
    ],
    { stdio: 'pipe' },
  );
}

/** Reads a layout's index.json. */
export function layoutIndex(dir: string): {
  manifests: { digest: string; annotations?: Record<string, string> }[];
} {
  return JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
}
