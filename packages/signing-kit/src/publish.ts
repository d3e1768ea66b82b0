/*
 * One call that writes a whole test/demo scenario: an image, its cosign signatures
 * (`.sig`), attestations (`.att`) and Sigstore bundles (OCI 1.1 referrers plus the
 * tag-schema fallback index), to a registry repository or an OCI image layout.
 */
import type { SerializedBundle } from '@sigstore/bundle';
import {
  attachAttestations,
  attachReferrer,
  attachSignatures,
  DsseEnvelope,
  imageSubject,
  makeStatement,
  signSimpleSigning,
  signStatement,
  simpleSigningPayload,
  SimpleSignature,
} from './cosign';
import {
  BUNDLE_MEDIA_TYPES,
  BundleForgery,
  BundleVersion,
  makeMessageBundle,
  makeStatementBundle,
} from './bundles';
import { BuiltImage, ImageSpec, makeImage, writeImage } from './image';
import { SigningKey, SigningKitError } from './keys';
import { cosignTag, Descriptor, jsonBytes } from './oci';
import { PREDICATE_COSIGN_SIGN } from './predicates';
import {
  KeylessTrust,
  keylessSimpleSignature,
  makeKeylessDsseBundle,
  makeKeylessMessageBundle,
  SigningCertificate,
} from './keyless';
import { openTarget, TargetSpec } from './targets';

/** A cosign simple-signing signature to attach. */
export interface SignatureSpec {
  /** Keyless: sign with this certificate's key and attach certificate, chain and Rekor bundle. */
  keyless?: { trust: KeylessTrust; certificate: SigningCertificate };
  /** Signing key; defaults to the publish call's `key`. */
  key?: SigningKey;
  /** `critical.identity.docker-reference`; default the image's repository. */
  dockerReference?: string;
  optional?: Record<string, unknown>;
  /** Extra layer annotations. */
  annotations?: Record<string, string>;
  forge?: {
    /** Sign this digest (A) while storing under the image's `.sig` tag (B). */
    payloadDigest?: string;
    /** Replace the signature with this base64 text (garbage, truncated, ...). */
    signature?: string;
  };
}

/** An in-toto attestation to attach under `.att`. */
export interface AttestationSpec {
  predicateType: string;
  predicate: unknown;
  key?: SigningKey;
  /** DSSE `keyid`; cosign writes ''. */
  keyid?: string;
  forge?: {
    /** Attest this digest instead of the image's (attestation for another subject). */
    subjectDigest?: string;
    subjectName?: string;
    /** Envelope payloadType (wrong type), signed as given. */
    payloadType?: string;
    /** PAE signed with the right type, envelope carries this one. */
    envelopePayloadType?: string;
    /** Signature over the raw payload instead of PAE. */
    signRawPayload?: boolean;
    omitType?: boolean;
    omitSubjects?: boolean;
  };
}

/** A Sigstore bundle to attach as an OCI 1.1 referrer. */
export interface BundleSpec {
  /** `dsse`: an in-toto statement (default predicate: cosign's sign/v1); `message`: signature over the manifest bytes. */
  kind: 'dsse' | 'message';
  predicateType?: string;
  predicate?: unknown;
  key?: SigningKey;
  /** `publicKey.hint`; default the key fingerprint. */
  hint?: string;
  /** Keyless: a certificate bundle with a log entry instead of a key hint (v0.3 only). */
  keyless?: { trust: KeylessTrust; certificate: SigningCertificate };
  /** Bundle version (media type); default 0.3. */
  version?: BundleVersion;
  forge?: BundleForgery & {
    subjectDigest?: string;
    payloadType?: string;
    omitType?: boolean;
    omitSubjects?: boolean;
    /** message bundles: sign these bytes instead of the manifest. */
    artifact?: Uint8Array;
  };
}

/** Inputs of {@link publishSignedImage}. */
export interface PublishOptions {
  target: TargetSpec;
  /** Registry repository (`acme/payments`); for layouts, the name used in subjects and docker-reference. */
  repository: string;
  tag: string;
  /** A prebuilt image, or the spec to build one. Default: a deterministic image named after repository:tag. */
  image?: BuiltImage | ImageSpec;
  /** Default signing key. With a key and no `signatures`, one signature by this key is made. */
  key?: SigningKey;
  /** Explicit signatures; `[]` publishes an unsigned image even with `key`. */
  signatures?: SignatureSpec[];
  attestations?: AttestationSpec[];
  bundles?: BundleSpec[];
  /** Name used for `docker-reference` and statement subjects; default `repository` (registry: `host/repository`). */
  dockerReference?: string;
}

/** What was written. */
export interface PublishedImage {
  digest: string;
  /** Tag reference: `host/repo:tag` or `oci:<dir>:<tag>`. */
  reference: string;
  /** Digest reference: `host/repo@sha256:...` or `oci:<dir>@sha256:...`. */
  digestReference: string;
  image: BuiltImage;
  signatureTag?: string;
  signatureManifestDigest?: string;
  attestationTag?: string;
  attestationManifestDigest?: string;
  /** Referrer manifest descriptors (one per bundle). */
  referrers: Descriptor[];
  /** The bundles as written (JSON objects). */
  bundles: SerializedBundle[];
  /** The envelopes as written. */
  envelopes: DsseEnvelope[];
  signatures: SimpleSignature[];
}

function isBuilt(i: BuiltImage | ImageSpec | undefined): i is BuiltImage {
  return !!i && 'manifest' in i && 'digest' in i;
}

function requireKey(k: SigningKey | undefined, what: string): SigningKey {
  if (!k)
    throw new SigningKitError(
      `${what} needs a key (none given, no default key)`,
      'bad_input',
    );
  return k;
}

/** Publishes an image with its signatures, attestations and bundles. */
export async function publishSignedImage(
  opts: PublishOptions,
): Promise<PublishedImage> {
  const target = openTarget(opts.target, opts.repository);
  const image = isBuilt(opts.image)
    ? opts.image
    : makeImage(
        opts.image ?? {
          files: { '/app/name.txt': `${opts.repository}:${opts.tag}\n` },
        },
      );
  await writeImage(target, image, opts.tag);

  const name =
    opts.dockerReference ??
    ('registry' in opts.target
      ? `${opts.target.registry}/${opts.repository}`
      : opts.repository);
  const prefix =
    'registry' in opts.target
      ? `${opts.target.registry}/${opts.repository}`
      : `oci:${opts.target.layout}`;
  const out: PublishedImage = {
    digest: image.digest,
    reference: `${prefix}:${opts.tag}`,
    digestReference: `${prefix}@${image.digest}`,
    image,
    referrers: [],
    bundles: [],
    envelopes: [],
    signatures: [],
  };

  const sigSpecs = opts.signatures ?? (opts.key ? [{}] : []);
  if (sigSpecs.length > 0) {
    const sigs = sigSpecs.map(s => {
      const payload = simpleSigningPayload({
        dockerReference: s.dockerReference ?? name,
        digest: s.forge?.payloadDigest ?? image.digest,
        optional: s.optional,
      });
      if (s.keyless) {
        const k = keylessSimpleSignature(
          s.keyless.trust,
          s.keyless.certificate,
          payload,
        );
        return {
          ...k,
          signature: s.forge?.signature ?? k.signature,
          annotations: { ...k.annotations, ...s.annotations },
        };
      }
      const key = requireKey(s.key ?? opts.key, 'signature');
      const sig = signSimpleSigning(key, payload);
      return {
        ...sig,
        signature: s.forge?.signature ?? sig.signature,
        annotations: s.annotations,
      };
    });
    const d = await attachSignatures(target, image.digest, sigs);
    out.signatures = sigs;
    out.signatureTag = cosignTag(image.digest, '.sig');
    out.signatureManifestDigest = d.digest;
  }

  if (opts.attestations && opts.attestations.length > 0) {
    const atts = opts.attestations.map(a => {
      const key = requireKey(a.key ?? opts.key, 'attestation');
      const statement = makeStatement({
        subjects: [
          imageSubject(
            a.forge?.subjectName ?? name,
            a.forge?.subjectDigest ?? image.digest,
          ),
        ],
        predicateType: a.predicateType,
        predicate: a.predicate,
        forge: {
          omitType: a.forge?.omitType,
          omitSubjects: a.forge?.omitSubjects,
        },
      });
      const envelope = signStatement(key, statement, {
        keyid: a.keyid,
        forge: {
          payloadType: a.forge?.payloadType,
          envelopePayloadType: a.forge?.envelopePayloadType,
          signRawPayload: a.forge?.signRawPayload,
        },
      });
      return { envelope, predicateType: a.predicateType };
    });
    const d = await attachAttestations(target, image.digest, atts);
    out.envelopes = atts.map(a => a.envelope);
    out.attestationTag = cosignTag(image.digest, '.att');
    out.attestationManifestDigest = d.digest;
  }

  for (const b of opts.bundles ?? []) {
    const key = b.keyless
      ? b.keyless.certificate.key
      : requireKey(b.key ?? opts.key, 'bundle');
    let bundle: SerializedBundle;
    const annotations: Record<string, string> = {};
    if (b.kind === 'dsse') {
      const predicateType = b.predicateType ?? PREDICATE_COSIGN_SIGN;
      const statement = makeStatement({
        subjects: [imageSubject(name, b.forge?.subjectDigest ?? image.digest)],
        predicateType,
        predicate: b.predicate ?? {},
        forge: {
          omitType: b.forge?.omitType,
          omitSubjects: b.forge?.omitSubjects,
        },
      });
      bundle = b.keyless
        ? await makeKeylessDsseBundle(
            b.keyless.trust,
            b.keyless.certificate,
            jsonBytes(statement),
          )
        : await makeStatementBundle(key, statement, {
            hint: b.hint,
            version: b.version,
            payloadType: b.forge?.payloadType,
            forge: b.forge,
          });
      annotations['dev.sigstore.bundle.content'] = 'dsse-envelope';
      annotations['dev.sigstore.bundle.predicateType'] = predicateType;
    } else {
      bundle = b.keyless
        ? await makeKeylessMessageBundle(
            b.keyless.trust,
            b.keyless.certificate,
            b.forge?.artifact ?? image.manifest.bytes,
          )
        : await makeMessageBundle(
            key,
            b.forge?.artifact ?? image.manifest.bytes,
            {
              hint: b.hint,
              version: b.version,
              forge: b.forge,
            },
          );
      annotations['dev.sigstore.bundle.content'] = 'message-signature';
    }
    const entry = await attachReferrer(target, image.descriptor, {
      bytes: jsonBytes(bundle),
      mediaType: BUNDLE_MEDIA_TYPES[b.version ?? '0.3'],
      annotations,
    });
    out.referrers.push(entry);
    out.bundles.push(bundle);
  }
  return out;
}
