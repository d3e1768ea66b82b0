/*
 * cosign's storage formats, written by hand from cosign's SIGNATURE_SPEC, the DSSE
 * protocol and the in-toto attestation framework:
 *  - simple-signing payloads and their `.sig` manifests at tag `sha256-<hex>.sig`;
 *  - in-toto Statements in DSSE envelopes (signature over PAE) at `sha256-<hex>.att`;
 *  - OCI 1.1 referrer manifests (e.g. Sigstore bundles), plus the referrers tag-schema
 *    fallback index at `sha256-<hex>` for registries without the referrers API.
 * Each writer can be told to forge something, for negative tests of the verifier.
 */
import {
  ANNOTATION_COSIGN_SIGNATURE,
  Blob,
  blobOf,
  cosignTag,
  Descriptor,
  EMPTY_JSON,
  jsonBytes,
  MEDIA_COSIGN_SIMPLESIGNING,
  MEDIA_DSSE_ENVELOPE,
  MEDIA_IN_TOTO,
  MEDIA_OCI_CONFIG,
  MEDIA_OCI_EMPTY,
  MEDIA_OCI_INDEX,
  MEDIA_OCI_MANIFEST,
} from './oci';
import { signBytes, SigningKey, SigningKitError } from './keys';
import type { OciTarget } from './targets';

// ---------------------------------------------------------------- simple signing

/** Inputs of a cosign simple-signing payload. */
export interface SimpleSigningInput {
  /** `critical.identity.docker-reference`: the repository, e.g. `registry/repo`. */
  dockerReference: string;
  /** `critical.image.docker-manifest-digest`. */
  digest: string;
  /** `optional` claims (cosign `-a key=value`); null when absent, as cosign writes. */
  optional?: Record<string, unknown> | null;
}

/** The exact payload cosign signs (field order as cosign's Go structs emit it). */
export function simpleSigningPayload(input: SimpleSigningInput): Uint8Array {
  return jsonBytes({
    critical: {
      identity: { 'docker-reference': input.dockerReference },
      image: { 'docker-manifest-digest': input.digest },
      type: 'cosign container image signature',
    },
    optional: input.optional ?? null,
  });
}

/** One signature to put in a `.sig` manifest. */
export interface SimpleSignature {
  payload: Uint8Array;
  /** base64 signature over the payload bytes. */
  signature: string;
  /** Extra layer annotations (e.g. `dev.sigstore.cosign/certificate`). */
  annotations?: Record<string, string>;
}

/** Signs a simple-signing payload: base64 of the signature over the payload bytes. */
export function signSimpleSigning(
  key: SigningKey,
  payload: Uint8Array,
): SimpleSignature {
  return { payload, signature: signBytes(key, payload).toString('base64') };
}

/**
 * The image config cosign attaches to `.sig`/`.att` manifests: go-containerregistry's
 * empty image config after appending layers (zero times, empty os/architecture,
 * rootfs.diff_ids = the layer digests, since the layers are not compressed).
 */
export function cosignConfig(layers: Blob[]): Blob {
  return blobOf(
    jsonBytes({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: layers.map(() => ({ created: '0001-01-01T00:00:00Z' })),
      os: '',
      rootfs: {
        type: 'layers',
        diff_ids: layers.map(l => l.descriptor.digest),
      },
      config: {},
    }),
    MEDIA_OCI_CONFIG,
  );
}

/** A cosign signature/attestation manifest (OCI image manifest over the given layers). */
export function cosignManifest(layers: Blob[]): {
  manifest: Blob;
  config: Blob;
} {
  const config = cosignConfig(layers);
  const manifest = blobOf(
    jsonBytes({
      schemaVersion: 2,
      mediaType: MEDIA_OCI_MANIFEST,
      config: config.descriptor,
      layers: layers.map(l => l.descriptor),
    }),
    MEDIA_OCI_MANIFEST,
  );
  return { manifest, config };
}

async function readLayers(target: OciTarget, tag: string): Promise<Blob[]> {
  const existing = await target.getManifest(tag);
  if (!existing) return [];
  const parsed = JSON.parse(new TextDecoder().decode(existing.bytes)) as {
    layers?: Descriptor[];
  };
  const out: Blob[] = [];
  for (const d of parsed.layers ?? []) {
    const bytes = await target.getBlob(d.digest);
    if (!bytes) {
      throw new SigningKitError(
        `${target.name}:${tag} misses layer ${d.digest}`,
        'not_found',
      );
    }
    out.push({ bytes, descriptor: d });
  }
  return out;
}

/**
 * Writes layers to a cosign tag, appending to what is already there (as cosign does
 * when an image is signed twice); identical layers are not duplicated.
 */
export async function appendCosignLayers(
  target: OciTarget,
  tag: string,
  layers: Blob[],
): Promise<Descriptor> {
  const all = await readLayers(target, tag);
  for (const l of layers) {
    const same = all.some(
      a =>
        a.descriptor.digest === l.descriptor.digest &&
        JSON.stringify(a.descriptor.annotations ?? {}) ===
          JSON.stringify(l.descriptor.annotations ?? {}),
    );
    if (!same) all.push(l);
  }
  const { manifest, config } = cosignManifest(all);
  await target.putBlob(config);
  for (const l of all) await target.putBlob(l);
  return target.putManifest(manifest.bytes, MEDIA_OCI_MANIFEST, tag);
}

/** The `.sig` layer of one signature. */
export function simpleSigningLayer(sig: SimpleSignature): Blob {
  return blobOf(sig.payload, MEDIA_COSIGN_SIMPLESIGNING, {
    annotations: {
      [ANNOTATION_COSIGN_SIGNATURE]: sig.signature,
      ...sig.annotations,
    },
  });
}

/** Stores signatures under `sha256-<hex>.sig` of `storeFor` (the digest they are attached to). */
export function attachSignatures(
  target: OciTarget,
  storeFor: string,
  sigs: SimpleSignature[],
): Promise<Descriptor> {
  return appendCosignLayers(
    target,
    cosignTag(storeFor, '.sig'),
    sigs.map(simpleSigningLayer),
  );
}

// ---------------------------------------------------------------- DSSE and in-toto

/** DSSE pre-authentication encoding: `DSSEv1 <len> <type> <len> <body>`, lengths in bytes. */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'utf8'),
    type,
    Buffer.from(` ${payload.byteLength} `, 'utf8'),
    Buffer.from(payload),
  ]);
}

/** A DSSE envelope as JSON (payload and signatures base64, standard alphabet). */
export interface DsseEnvelope {
  payloadType: string;
  payload: string;
  signatures: { keyid: string; sig: string }[];
}

/** Forgeries for negative tests. */
export interface DsseForgery {
  /** Sign the raw payload instead of PAE(type, payload). */
  signRawPayload?: boolean;
  /** Sign PAE with this payloadType but put another one in the envelope. */
  envelopePayloadType?: string;
}

/** Signs a payload into a DSSE envelope. */
export function signDsse(
  key: SigningKey,
  payloadType: string,
  payload: Uint8Array,
  options: { keyid?: string; forge?: DsseForgery } = {},
): DsseEnvelope {
  const signed = options.forge?.signRawPayload
    ? Buffer.from(payload)
    : pae(payloadType, payload);
  return {
    payloadType: options.forge?.envelopePayloadType ?? payloadType,
    payload: Buffer.from(payload).toString('base64'),
    signatures: [
      {
        keyid: options.keyid ?? '',
        sig: signBytes(key, signed).toString('base64'),
      },
    ],
  };
}

/** An in-toto subject. */
export interface Subject {
  name: string;
  digest: Record<string, string>;
}

/** Inputs of an in-toto Statement v1. */
export interface StatementInput {
  subjects: Subject[];
  predicateType: string;
  predicate: unknown;
  /** Forgeries: leave out `_type` or `subject`. */
  /** Statement version: v1 (default) or the older v0.1 that cosign 1.x wrote. */
  version?: 'v1' | 'v0.1';
  forge?: { omitType?: boolean; omitSubjects?: boolean; type?: string };
}

/** The subject entry for an image digest (`{name, digest: {sha256: hex}}`). */
export function imageSubject(name: string, digest: string): Subject {
  const [alg, hex] = digest.split(':');
  return { name, digest: { [alg]: hex } };
}

/** An in-toto Statement v1 object. */
export function makeStatement(input: StatementInput): Record<string, unknown> {
  const st: Record<string, unknown> = {};
  if (!input.forge?.omitType) {
    st._type =
      input.forge?.type ??
      (input.version === 'v0.1'
        ? 'https://in-toto.io/Statement/v0.1'
        : 'https://in-toto.io/Statement/v1');
  }
  if (!input.forge?.omitSubjects) st.subject = input.subjects;
  st.predicateType = input.predicateType;
  st.predicate = input.predicate;
  return st;
}

/** One `.att` layer: the DSSE envelope JSON, annotated with its predicate type. */
export function attestationLayer(
  envelope: DsseEnvelope,
  predicateType: string,
): Blob {
  return blobOf(jsonBytes(envelope), MEDIA_DSSE_ENVELOPE, {
    annotations: { [ANNOTATION_COSIGN_SIGNATURE]: '', predicateType },
  });
}

/** Stores attestations under `sha256-<hex>.att` of `storeFor`. */
export function attachAttestations(
  target: OciTarget,
  storeFor: string,
  atts: { envelope: DsseEnvelope; predicateType: string }[],
): Promise<Descriptor> {
  return appendCosignLayers(
    target,
    cosignTag(storeFor, '.att'),
    atts.map(a => attestationLayer(a.envelope, a.predicateType)),
  );
}

/** Signs a statement as cosign attest does (payloadType application/vnd.in-toto+json). */
export function signStatement(
  key: SigningKey,
  statement: Record<string, unknown>,
  options: {
    keyid?: string;
    forge?: DsseForgery & { payloadType?: string };
  } = {},
): DsseEnvelope {
  return signDsse(
    key,
    options.forge?.payloadType ?? MEDIA_IN_TOTO,
    jsonBytes(statement),
    options,
  );
}

// ---------------------------------------------------------------- OCI 1.1 referrers

/**
 * Stores an artifact as an OCI 1.1 referrer of `subject`: a manifest with
 * `artifactType`, the empty config, one layer and `subject`. Then adds it to the
 * referrers tag-schema fallback index at `sha256-<hex>` (what clients maintain on
 * registries without the referrers API, such as Distribution 2.8).
 */
export async function attachReferrer(
  target: OciTarget,
  subject: Descriptor,
  artifact: {
    bytes: Uint8Array;
    mediaType: string;
    artifactType?: string;
    annotations?: Record<string, string>;
  },
): Promise<Descriptor> {
  const artifactType = artifact.artifactType ?? artifact.mediaType;
  const layer = blobOf(artifact.bytes, artifact.mediaType);
  const config = blobOf(EMPTY_JSON, MEDIA_OCI_EMPTY);
  const manifest = blobOf(
    jsonBytes({
      schemaVersion: 2,
      mediaType: MEDIA_OCI_MANIFEST,
      artifactType,
      config: config.descriptor,
      layers: [layer.descriptor],
      subject: {
        mediaType: subject.mediaType,
        digest: subject.digest,
        size: subject.size,
      },
      ...(artifact.annotations ? { annotations: artifact.annotations } : {}),
    }),
    MEDIA_OCI_MANIFEST,
  );
  await target.putBlob(config);
  await target.putBlob(layer);
  const desc = await target.putManifest(manifest.bytes, MEDIA_OCI_MANIFEST);
  const entry: Descriptor = {
    mediaType: MEDIA_OCI_MANIFEST,
    digest: desc.digest,
    size: desc.size,
    artifactType,
    ...(artifact.annotations ? { annotations: artifact.annotations } : {}),
  };
  await addToFallbackIndex(target, subject.digest, entry);
  return entry;
}

/** Adds a descriptor to the referrers tag-schema index `sha256-<hex>` of `subjectDigest`. */
export async function addToFallbackIndex(
  target: OciTarget,
  subjectDigest: string,
  entry: Descriptor,
): Promise<Descriptor> {
  const tag = cosignTag(subjectDigest);
  const existing = await target.getManifest(tag);
  let manifests: Descriptor[] = [];
  if (existing) {
    const parsed = JSON.parse(new TextDecoder().decode(existing.bytes)) as {
      manifests?: Descriptor[];
    };
    manifests = parsed.manifests ?? [];
  }
  if (!manifests.some(m => m.digest === entry.digest)) manifests.push(entry);
  const bytes = jsonBytes({
    schemaVersion: 2,
    mediaType: MEDIA_OCI_INDEX,
    manifests,
  });
  return target.putManifest(bytes, MEDIA_OCI_INDEX, tag);
}
