/*
 * `residency verify-bundle`: one Sigstore bundle, offline, like `cosign verify-blob
 * (-attestation) --bundle`. Parsing (strict JSON, media-type allow-list), keyless
 * verification (per-root thresholds, identity matching), error messages, digests,
 * fingerprints and prehashed checks are the engine's own (residency-node `verify/`):
 * one code path for what `residency verify` accepts.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { resolve } from 'node:path';
import type { Bundle } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import {
  Verifier,
  toSignedEntity,
  toTrustMaterial,
  type SignedEntity,
} from '@sigstore/verify';
import {
  parseStatement as engineParseStatement,
  parseBundle,
  MAX_BUNDLE_BYTES,
  IN_TOTO_PAYLOAD_TYPE,
  publicGoodTrustedRoot as publicGoodTrustedRootBytes,
  verifierMessage,
  verifyCertificateEntity,
  trustedRootProblem,
  parseArtifactDigest,
  isArtifactDigestAlgorithm,
  keyFingerprint,
  verifyPrehashed,
  PrehashUnsupportedError,
  readRegularFile,
} from '@residency-dev/plugin-residency-node';
import type { Reason } from '@residency-dev/plugin-residency-common';
import { CliError, EXIT, errorMessage, type ExitCode } from '../errors';
import type { CliIo } from '../io';
import { safe } from '../format/text';

export { MAX_BUNDLE_BYTES };
/** Largest artifact hashed, in bytes. */
export const MAX_ARTIFACT_BYTES = 1024 * 1024 * 1024;

export interface VerifyBundleOptions {
  bundle: string;
  artifact?: string;
  digest?: string;
  key?: string;
  trustedRoot?: string;
  certificateIdentity?: string;
  /** Whole-string regular expression for the identity (cosign's flag). */
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  /** Whole-string regular expression for the OIDC issuer (cosign's flag). */
  certificateOidcIssuerRegexp?: string;
  requireTlog?: boolean;
  /** Keyless without a certificate transparency log (private CAs), like cosign's flag. */
  insecureIgnoreSct?: boolean;
  json?: boolean;
}

/** Why a bundle did not verify (stable codes, see README). */
export type BundleFailureCode =
  | 'bundle_invalid'
  | 'digest_mismatch'
  | 'subject_mismatch'
  | 'payload_type'
  | 'malformed_statement'
  | 'signature_invalid'
  | 'identity_mismatch'
  | 'tlog_invalid'
  | 'certificate_invalid'
  | 'timestamp_invalid'
  | 'key_invalid';

class BundleFailure extends Error {
  constructor(readonly code: BundleFailureCode, message: string) {
    super(message);
  }
}

interface Report {
  bundle: {
    file: string;
    mediaType?: string;
    content?: 'messageSignature' | 'dsseEnvelope';
  };
  verified: boolean;
  exitCode: ExitCode;
  signer?:
    | { type: 'key'; fingerprint: string; algorithm: string; source: string }
    | { type: 'certificate'; identity?: string; issuer?: string };
  artifact?: { digest: string; source: 'artifact' | 'digest' };
  tlogEntries?: number;
  statement?: {
    type: string;
    predicateType: string;
    subjects: { name: string; digest: Record<string, string> }[];
  };
  checks: { name: string; ok: boolean }[];
  error?: { code: BundleFailureCode; message: string };
}

function readBounded(file: string, what: string, cap: number): Buffer {
  try {
    // Regular files only, at most the cap, even if the file changes after a stat.
    return readRegularFile(file, cap);
  } catch (e) {
    throw new CliError(`cannot read ${what} ${file}: ${errorMessage(e)}`, {
      code: 'file_unreadable',
    });
  }
}

function parseJsonFile(file: string, what: string): unknown {
  const bytes = readBounded(file, what, MAX_BUNDLE_BYTES);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new CliError(`${what} ${file} is not JSON: ${errorMessage(e)}`, {
      code: 'file_unreadable',
    });
  }
}

/** Parses `alg:hex` (sha256, sha384, sha512; lowercase hex of the right length). */
export function parseDigest(value: string): { algorithm: string; hex: string } {
  const d = parseArtifactDigest(value);
  if (!d) {
    throw new CliError(`--digest '${safe(value, 80)}' is not a digest`, {
      hint: 'Write it as sha256:<64 lowercase hex> (or sha384:, sha512:).',
    });
  }
  return d;
}

function keyAlgorithm(key: KeyObject): string {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec')
    return `ecdsa-${d?.namedCurve ?? 'unknown'}`;
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') {
    return `${key.asymmetricKeyType}-${d?.modulusLength ?? ''}`;
  }
  return key.asymmetricKeyType ?? 'unknown';
}

/** The public-good Sigstore trusted root document embedded offline (engine's copy). */
function publicGoodRootJson(): unknown {
  try {
    return JSON.parse(publicGoodTrustedRootBytes().toString('utf8'));
  } catch {
    throw new CliError('the embedded public-good trusted root is missing', {
      exitCode: EXIT.UNKNOWN,
      code: 'trusted_root_unavailable',
      hint: 'Pass --trusted-root <trusted_root.json>.',
    });
  }
}

/** The public-good Sigstore trusted root embedded in @sigstore/tuf's seed (no network). */
export function publicGoodTrustedRoot(): TrustedRoot {
  return TrustedRoot.fromJSON(publicGoodRootJson());
}

/** Our bundle failure code for a verifier error code (message: the engine's plain one). */
function failureCode(verifier: string | undefined): BundleFailureCode {
  if (verifier === 'CERTIFICATE_ERROR') return 'certificate_invalid';
  if (verifier === 'TIMESTAMP_ERROR') return 'timestamp_invalid';
  if (verifier === 'PUBLIC_KEY_ERROR') return 'key_invalid';
  if (verifier === 'UNTRUSTED_SIGNER_ERROR') return 'identity_mismatch';
  if (verifier?.startsWith('TLOG')) return 'tlog_invalid';
  return 'signature_invalid';
}

function mapVerifierError(e: unknown): BundleFailure {
  const m = verifierMessage(e);
  return new BundleFailure(failureCode(m.code), m.message);
}

/** A keyless failure reason of the engine as a bundle failure. */
function fromReason(r: Reason): BundleFailure {
  const verifier = r.details?.verifier as string | undefined;
  if (r.code === 'key_untrusted' && r.details?.subject !== undefined)
    return new BundleFailure('identity_mismatch', r.message);
  if (r.code === 'key_untrusted' && !verifier)
    return new BundleFailure('certificate_invalid', r.message);
  return new BundleFailure(failureCode(verifier), r.message);
}

function validateOptions(o: VerifyBundleOptions) {
  if (Boolean(o.artifact) === Boolean(o.digest)) {
    throw new CliError(
      'give exactly one of --artifact <file> or --digest <alg:hex>',
      {
        hint: 'The artifact (or its digest) is what the signature or attestation must cover.',
      },
    );
  }
  if (o.certificateIdentity && o.certificateIdentityRegexp) {
    throw new CliError(
      'give --certificate-identity or --certificate-identity-regexp, not both',
    );
  }
  if (o.certificateOidcIssuer && o.certificateOidcIssuerRegexp) {
    throw new CliError(
      'give --certificate-oidc-issuer or --certificate-oidc-issuer-regexp, not both',
    );
  }
  const identity = Boolean(
    o.certificateIdentity || o.certificateIdentityRegexp,
  );
  const issuer = Boolean(
    o.certificateOidcIssuer || o.certificateOidcIssuerRegexp,
  );
  if (identity !== issuer) {
    throw new CliError(
      '--certificate-identity(-regexp) and --certificate-oidc-issuer(-regexp) must be given together',
      {
        hint: 'Keyless bundles are trusted only for a given identity and issuer.',
      },
    );
  }
  for (const [flag, pattern] of [
    ['--certificate-identity-regexp', o.certificateIdentityRegexp],
    ['--certificate-oidc-issuer-regexp', o.certificateOidcIssuerRegexp],
  ] as const) {
    if (pattern === undefined) continue;
    try {
      new RegExp(pattern); // eslint-disable-line no-new
    } catch {
      throw new CliError(`${flag} is not a valid regular expression`);
    }
  }
  if (o.key && identity) {
    throw new CliError(
      'give either --key or --certificate-identity/--certificate-oidc-issuer, not both',
    );
  }
  if (!o.key && !identity) {
    throw new CliError('no trust given: nothing to verify the bundle against', {
      hint: 'Pass --key <public.pem> for key-signed bundles, or --certificate-identity and --certificate-oidc-issuer for keyless ones.',
    });
  }
}

/** Everything read from the flags and files before any verification. */
interface Inputs {
  bundleFile: string;
  bundleBytes: Buffer;
  key?: KeyObject;
  root: TrustedRoot;
  rootJson: unknown;
  expected?: { algorithm: string; hex: string };
  artifact?: Buffer;
}

type Check = (name: string, ok: boolean) => void;

/**
 * `residency verify-bundle`: one Sigstore bundle, offline, trust only from flags.
 * Shaped like sigstore-js's `Verifier.verify`: named steps, each throwing a typed
 * `BundleFailure` that becomes the report's error.
 */
export async function verifyBundleCommand(
  options: VerifyBundleOptions,
  io: CliIo,
): Promise<ExitCode> {
  validateOptions(options);
  const inputs = readInputs(options, io);
  const report: Report = {
    bundle: { file: inputs.bundleFile },
    verified: false,
    exitCode: EXIT.FAILED,
    checks: [],
  };
  const check: Check = (name, ok) => report.checks.push({ name, ok });
  try {
    const bundle = parseAndDescribe(inputs, report, check);
    const entity = checkMessageDigest(
      bundle,
      signedEntityOf(bundle, inputs),
      inputs,
      check,
    );
    if (inputs.key) verifyWithKey(entity, inputs, options, report, check);
    else verifyKeyless(bundle, entity, inputs, options, report, check);
    checkStatement(bundle, inputs, report, check);
    report.verified = true;
    report.exitCode = EXIT.OK;
  } catch (e) {
    if (!(e instanceof BundleFailure)) throw e;
    report.error = { code: e.code, message: e.message };
  }
  io.stdout(
    options.json
      ? `${JSON.stringify(report, null, 2)}\n`
      : formatReport(report),
  );
  return report.exitCode;
}

/** Step 0: the bundle bytes, the key, the trusted root and the artifact (or its digest). */
function readInputs(options: VerifyBundleOptions, io: CliIo): Inputs {
  const bundleFile = resolve(io.cwd, options.bundle);
  // Not JSON at all is a usage error (wrong file); anything else is judged later.
  parseJsonFile(bundleFile, 'Sigstore bundle');
  const bundleBytes = readBounded(
    bundleFile,
    'Sigstore bundle',
    MAX_BUNDLE_BYTES,
  );
  const { root, rootJson } = readTrustedRoot(options, io);
  return {
    bundleFile,
    bundleBytes,
    ...(options.key ? { key: readKey(resolve(io.cwd, options.key)) } : {}),
    root,
    rootJson,
    ...(options.digest ? { expected: parseDigest(options.digest) } : {}),
    ...(options.artifact
      ? {
          artifact: readBounded(
            resolve(io.cwd, options.artifact),
            'artifact',
            MAX_ARTIFACT_BYTES,
          ),
        }
      : {}),
  };
}

/** Trust, only from flags: the PEM public key of `--key`. */
function readKey(keyFile: string): KeyObject {
  const pem = readBounded(keyFile, 'public key', 1024 * 1024);
  try {
    return createPublicKey(pem);
  } catch (e) {
    throw new CliError(
      `${keyFile} is not a PEM public key: ${errorMessage(e)}`,
      {
        code: 'key_unreadable',
        hint: 'Pass the PEM SubjectPublicKeyInfo (-----BEGIN PUBLIC KEY-----), e.g. cosign.pub.',
      },
    );
  }
}

/**
 * `--trusted-root`, else the public-good root embedded offline (also needed with
 * `--key`: a tlog entry in the bundle is verified against the root's logs).
 */
function readTrustedRoot(
  options: VerifyBundleOptions,
  io: CliIo,
): { root: TrustedRoot; rootJson: unknown } {
  if (!options.trustedRoot) {
    const rootJson = publicGoodRootJson();
    return { root: TrustedRoot.fromJSON(rootJson), rootJson };
  }
  const file = resolve(io.cwd, options.trustedRoot);
  const doc = parseJsonFile(file, 'trusted root');
  try {
    const mediaType = (doc as { mediaType?: unknown } | null)?.mediaType;
    if (
      typeof doc !== 'object' ||
      doc === null ||
      Array.isArray(doc) ||
      typeof mediaType !== 'string' ||
      !mediaType.startsWith('application/vnd.dev.sigstore.trustedroot')
    ) {
      throw new Error(
        '$.mediaType is not application/vnd.dev.sigstore.trustedroot+json',
      );
    }
    const problem = trustedRootProblem(doc); // the engine's check at config load
    if (problem) throw new Error(`$.${problem}`);
    return { root: TrustedRoot.fromJSON(doc), rootJson: doc };
  } catch (e) {
    // The library's text (e.g. a TypeError on a missing field) never reaches the user.
    const own =
      e instanceof Error && e.message.startsWith('$.')
        ? e.message.slice(2)
        : 'a required field is missing or malformed';
    throw new CliError(`${file} is not a Sigstore trusted root: ${own}`, {
      code: 'trusted_root_invalid',
    });
  }
}

/**
 * Step 1: the engine's parser (strict JSON, duplicate keys refused, known media
 * types only, @sigstore/bundle validation, non-negative log numbers), and the
 * artifact digest computed here (never taken from the bundle).
 */
function parseAndDescribe(
  inputs: Inputs,
  report: Report,
  check: Check,
): Bundle {
  const parsed = parseBundle(inputs.bundleBytes);
  if ('error' in parsed) {
    throw new BundleFailure(
      'bundle_invalid',
      `not a valid Sigstore bundle: ${parsed.error}`,
    );
  }
  report.bundle.mediaType = parsed.mediaType;
  report.bundle.content = parsed.content.$case;
  report.tlogEntries = parsed.verificationMaterial.tlogEntries.length;
  check('bundle structure', true);
  if (inputs.artifact) {
    report.artifact = {
      digest: `sha256:${createHash('sha256')
        .update(inputs.artifact)
        .digest('hex')}`,
      source: 'artifact',
    };
  } else if (inputs.expected) {
    report.artifact = {
      digest: `${inputs.expected.algorithm}:${inputs.expected.hex}`,
      source: 'digest',
    };
  }
  return parsed;
}

function signedEntityOf(bundle: Bundle, inputs: Inputs): SignedEntity {
  let entity: SignedEntity;
  try {
    entity = toSignedEntity(bundle, inputs.artifact);
  } catch {
    throw new BundleFailure(
      'bundle_invalid',
      "cannot read the bundle's signing material (certificate or key)",
    );
  }
  // The key from --key is the only key; the bundle's hint or certificate is ignored.
  return inputs.key
    ? { ...entity, key: { $case: 'public-key', hint: 'residency-cli --key' } }
    : entity;
}

/** protobuf-specs HashAlgorithm: 0 unspecified (SHA2-256), 1..3 SHA2, 4..5 SHA3. */
const HASH_ALGORITHMS: Record<number, string> = {
  0: 'sha256',
  1: 'sha256',
  2: 'sha384',
  3: 'sha512',
  4: 'sha3-256',
  5: 'sha3-384',
};

/**
 * Step 2 (message signatures): our digest of the artifact must equal the bundle's
 * messageDigest. With only `--digest`, the signature is checked over the digest
 * itself (prehashed), so the entity's signature check is swapped for that.
 */
function checkMessageDigest(
  bundle: Bundle,
  entity: SignedEntity,
  inputs: Inputs,
  check: Check,
): SignedEntity {
  if (bundle.content.$case !== 'messageSignature') return entity;
  const md = bundle.content.messageSignature.messageDigest;
  const bundleAlg = HASH_ALGORITHMS[(md?.algorithm ?? 0) as unknown as number];
  if (!bundleAlg) {
    throw new BundleFailure(
      'bundle_invalid',
      `unknown messageDigest algorithm ${String(md?.algorithm)}`,
    );
  }
  let actual: Buffer;
  let out = entity;
  if (inputs.artifact) {
    actual = createHash(bundleAlg).update(inputs.artifact).digest();
  } else {
    actual = digestOnly(inputs, bundleAlg);
    out = prehashed(entity, bundleAlg, actual);
  }
  if (md && md.digest.length > 0) {
    if (!actual.equals(md.digest)) {
      check('artifact digest matches the bundle message digest', false);
      throw new BundleFailure(
        'digest_mismatch',
        `the artifact's ${bundleAlg} is ${actual.toString(
          'hex',
        )}, the bundle's messageDigest says ${md.digest.toString('hex')}`,
      );
    }
    check('artifact digest matches the bundle message digest', true);
  }
  return out;
}

/** The `--digest` bytes, when they are of the algorithm the signature was made over. */
function digestOnly(inputs: Inputs, bundleAlg: string): Buffer {
  const expected = inputs.expected!;
  if (expected.algorithm !== bundleAlg) {
    throw new CliError(
      `the bundle signs a ${bundleAlg} digest; --digest gives ${expected.algorithm}`,
      { hint: `Pass --digest ${bundleAlg}:<hex>, or --artifact <file>.` },
    );
  }
  if (!inputs.key) {
    throw new CliError(
      '--digest with a keyless message signature is not supported',
      { hint: 'Pass --artifact <file>.' },
    );
  }
  return Buffer.from(expected.hex, 'hex');
}

function prehashed(
  entity: SignedEntity,
  algorithm: string,
  digest: Buffer,
): SignedEntity {
  const orig = entity.signature;
  const signatureBytes = orig.signature;
  return {
    ...entity,
    signature: {
      signature: signatureBytes,
      compareSignature: b => orig.compareSignature(b),
      compareDigest: b => orig.compareDigest(b),
      compareSignedDigest: b => orig.compareSignedDigest(b),
      verifySignature: k => {
        try {
          return verifyPrehashed(k, algorithm, digest, signatureBytes);
        } catch (e) {
          if (e instanceof PrehashUnsupportedError) {
            throw new CliError(`${e.message}`, {
              hint: 'Pass --artifact <file>.',
            });
          }
          throw e;
        }
      },
    },
  };
}

/** Step 3a: the `--key` is the only key; tlog entries verify against the root's logs. */
function verifyWithKey(
  entity: SignedEntity,
  inputs: Inputs,
  options: VerifyBundleOptions,
  report: Report,
  check: Check,
) {
  const key = inputs.key!;
  const trustMaterial = toTrustMaterial(inputs.root, () => ({
    publicKey: key,
    validFor: () => true,
  }));
  try {
    new Verifier(trustMaterial, {
      tlogThreshold: options.requireTlog ? 1 : 0,
      ctlogThreshold: 0,
      timestampThreshold: 0,
    }).verify(entity);
  } catch (e) {
    check('signature', false);
    if (e instanceof BundleFailure || e instanceof CliError) throw e;
    throw mapVerifierError(e);
  }
  report.signer = {
    type: 'key',
    fingerprint: keyFingerprint(key),
    algorithm: keyAlgorithm(key),
    source: '--key',
  };
  check(signatureCheckName(report), true);
  if (options.requireTlog) check('transparency log entry', true);
}

/**
 * Step 3b: the engine's keyless path — thresholds of the root whose CA issued the
 * certificate (TSA-only roots need no tlog), identity and issuer matched whole.
 */
function verifyKeyless(
  bundle: Bundle,
  entity: SignedEntity,
  inputs: Inputs,
  options: VerifyBundleOptions,
  report: Report,
  check: Check,
) {
  const outcome = verifyCertificateEntity(
    entity,
    {
      trustedRoots: [
        {
          name: options.trustedRoot ? 'trusted-root' : 'public-good',
          sha256: createHash('sha256')
            .update(JSON.stringify(inputs.rootJson))
            .digest('hex'),
          json: inputs.rootJson,
        },
      ],
      identities: [
        {
          ...(options.certificateIdentity !== undefined
            ? { subject: options.certificateIdentity }
            : { subjectRegExp: options.certificateIdentityRegexp }),
          ...(options.certificateOidcIssuer !== undefined
            ? { issuer: options.certificateOidcIssuer }
            : { issuerRegExp: options.certificateOidcIssuerRegexp }),
          region: '-',
        },
      ],
      at: new Date(),
    },
    bundle.content.$case === 'dsseEnvelope' ? 'attestation' : 'signature',
    { ignoreSct: options.insecureIgnoreSct },
  );
  if ('error' in outcome) {
    check('signature', false);
    throw fromReason(outcome.error);
  }
  report.signer = {
    type: 'certificate',
    identity: outcome.signer.identity?.subject,
    issuer: outcome.signer.identity?.issuer,
  };
  check(signatureCheckName(report), true);
  check('certificate chain to the trusted root at the signing time', true);
  check('certificate identity and issuer', true);
  if (report.tlogEntries! > 0) check('transparency log entry', true);
}

function signatureCheckName(report: Report): string {
  return report.bundle.content === 'dsseEnvelope'
    ? 'signature over the DSSE envelope (PAE)'
    : 'signature over the artifact';
}

/** Step 4 (DSSE): an in-toto statement whose subjects include the artifact. */
function checkStatement(
  bundle: Bundle,
  inputs: Inputs,
  report: Report,
  check: Check,
) {
  if (bundle.content.$case !== 'dsseEnvelope') return;
  const env = bundle.content.dsseEnvelope;
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new BundleFailure(
      'payload_type',
      `DSSE payloadType is "${safe(
        env.payloadType,
        100,
      )}", not ${IN_TOTO_PAYLOAD_TYPE}`,
    );
  }
  const statement = parseStatement(env.payload);
  report.statement = statement;
  check('in-toto statement', true);
  const { artifact, expected } = inputs;
  const match = statement.subjects.some(s =>
    artifact
      ? Object.entries(s.digest).some(
          ([alg, hex]) =>
            isArtifactDigestAlgorithm(alg) &&
            createHash(alg).update(artifact).digest('hex') ===
              hex.toLowerCase(),
        )
      : s.digest[expected!.algorithm]?.toLowerCase() === expected!.hex,
  );
  if (!match) {
    check('artifact is a subject of the statement', false);
    throw new BundleFailure(
      'subject_mismatch',
      `${report.artifact?.digest} is not among the statement's subjects`,
    );
  }
  check('artifact is a subject of the statement', true);
}

/** The engine's own in-toto statement parser: strict JSON (no duplicate keys), caps, subjects. */
function parseStatement(payload: Buffer): NonNullable<Report['statement']> {
  try {
    const st = engineParseStatement(payload);
    return {
      type: st.type,
      predicateType: st.predicateType,
      subjects: st.subjects.map(x => ({
        name: x.name ?? '',
        digest: x.digest,
      })),
    };
  } catch (e) {
    throw new BundleFailure('malformed_statement', errorMessage(e));
  }
}

function formatReport(r: Report): string {
  const out: string[] = [];
  out.push(`Sigstore bundle ${r.bundle.file}`);
  if (r.bundle.mediaType) {
    out.push(`  media type    ${safe(r.bundle.mediaType)}`);
    out.push(
      `  content       ${
        r.bundle.content === 'dsseEnvelope'
          ? 'DSSE envelope (attestation)'
          : 'message signature'
      }`,
    );
  }
  if (r.artifact)
    out.push(
      `  artifact      ${r.artifact.digest} (from --${r.artifact.source})`,
    );
  if (r.tlogEntries !== undefined) out.push(`  tlog entries  ${r.tlogEntries}`);
  if (r.signer?.type === 'key') {
    out.push(
      `  signer        key ${r.signer.algorithm}, SPKI SHA-256 ${r.signer.fingerprint} (from --key)`,
    );
  } else if (r.signer?.type === 'certificate') {
    out.push(
      `  signer        ${safe(r.signer.identity ?? '?')} (issuer ${safe(
        r.signer.issuer ?? '?',
      )})`,
    );
  }
  if (r.statement) {
    out.push(`  _type         ${safe(r.statement.type)}`);
    out.push(`  predicateType ${safe(r.statement.predicateType)}`);
    for (const [i, s] of r.statement.subjects.entries()) {
      const d = Object.entries(s.digest)
        .map(([a, h]) => `${safe(a, 20)}:${safe(h, 140)}`)
        .join(' ');
      out.push(
        `  ${i === 0 ? 'subjects     ' : '             '} ${safe(
          s.name || '(unnamed)',
          200,
        )} ${d}`,
      );
    }
  }
  out.push('');
  for (const c of r.checks) out.push(`  ${c.ok ? 'PASS' : 'FAIL'}  ${c.name}`);
  out.push('');
  out.push(
    r.verified
      ? 'RESULT: Verified OK'
      : `RESULT: does NOT verify: ${r.error?.code}: ${safe(
          r.error?.message ?? '',
          600,
        )}`,
  );
  return `${out.join('\n')}\n`;
}
