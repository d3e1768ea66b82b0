import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { bundleFromJSON, type Bundle } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import {
  Verifier,
  toSignedEntity,
  toTrustMaterial,
  type SignedEntity,
  type VerificationPolicy,
} from '@sigstore/verify';
import { parseStatement as engineParseStatement } from '@residency-dev/plugin-residency-node';
import { CliError, EXIT, errorMessage, type ExitCode } from '../errors';
import type { CliIo } from '../io';
import { safe } from '../format/text';
import { PrehashUnsupportedError, verifyPrehashed } from '../crypto/prehash';

/** Largest Sigstore bundle or trusted root read, in bytes. */
export const MAX_BUNDLE_BYTES = 16 * 1024 * 1024;
/** Largest artifact hashed, in bytes. */
export const MAX_ARTIFACT_BYTES = 1024 * 1024 * 1024;

const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const DIGEST_HEX_LENGTH: Record<string, number> = {
  sha256: 64,
  sha384: 96,
  sha512: 128,
};

export interface VerifyBundleOptions {
  bundle: string;
  artifact?: string;
  digest?: string;
  key?: string;
  trustedRoot?: string;
  certificateIdentity?: string;
  certificateOidcIssuer?: string;
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
    const st = statSync(file);
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.size > cap)
      throw new Error(`${st.size} bytes is more than the ${cap}-byte cap`);
    return readFileSync(file);
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
  const m = /^(sha256|sha384|sha512):([0-9a-f]+)$/.exec(value);
  if (!m || m[2].length !== DIGEST_HEX_LENGTH[m[1]]) {
    throw new CliError(`--digest '${safe(value, 80)}' is not a digest`, {
      hint: 'Write it as sha256:<64 lowercase hex> (or sha384:, sha512:).',
    });
  }
  return { algorithm: m[1], hex: m[2] };
}

/** SPKI SHA-256 fingerprint (hex) of a public key. */
export function keyFingerprint(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex');
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

/** The public-good Sigstore trusted root embedded in @sigstore/tuf's seed (no network). */
export function publicGoodTrustedRoot(): TrustedRoot {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const seeds = require('@sigstore/tuf/seeds.json') as Record<
    string,
    { targets: Record<string, string> }
  >;
  const seed = seeds['https://tuf-repo-cdn.sigstore.dev'];
  const b64 = seed?.targets?.['trusted_root.json'];
  if (!b64) {
    throw new CliError('the embedded public-good trusted root is missing', {
      exitCode: EXIT.UNKNOWN,
      code: 'trusted_root_unavailable',
      hint: 'Pass --trusted-root <trusted_root.json>.',
    });
  }
  return TrustedRoot.fromJSON(
    JSON.parse(Buffer.from(b64, 'base64').toString('utf8')),
  );
}

function mapVerifierError(e: unknown): BundleFailure {
  const code = (e as { code?: string }).code;
  const msg = errorMessage(e);
  switch (code) {
    case 'SIGNATURE_ERROR':
      return new BundleFailure(
        'signature_invalid',
        `signature does not verify: ${msg}`,
      );
    case 'UNTRUSTED_SIGNER_ERROR':
      return new BundleFailure('identity_mismatch', msg);
    case 'CERTIFICATE_ERROR':
      return new BundleFailure('certificate_invalid', msg);
    case 'TIMESTAMP_ERROR':
      return new BundleFailure('timestamp_invalid', msg);
    case 'PUBLIC_KEY_ERROR':
      return new BundleFailure('key_invalid', msg);
    default:
      if (code && code.startsWith('TLOG'))
        return new BundleFailure('tlog_invalid', msg);
      return new BundleFailure('signature_invalid', msg);
  }
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
  if (Boolean(o.certificateIdentity) !== Boolean(o.certificateOidcIssuer)) {
    throw new CliError(
      '--certificate-identity and --certificate-oidc-issuer must be given together',
      {
        hint: 'Keyless bundles are trusted only for an exact identity and issuer.',
      },
    );
  }
  if (o.key && o.certificateIdentity) {
    throw new CliError(
      'give either --key or --certificate-identity/--certificate-oidc-issuer, not both',
    );
  }
  if (!o.key && !o.certificateIdentity) {
    throw new CliError('no trust given: nothing to verify the bundle against', {
      hint: 'Pass --key <public.pem> for key-signed bundles, or --certificate-identity and --certificate-oidc-issuer for keyless ones.',
    });
  }
}

/** `residency verify-bundle`: one Sigstore bundle, offline, trust only from flags. */
export async function verifyBundleCommand(
  options: VerifyBundleOptions,
  io: CliIo,
): Promise<ExitCode> {
  validateOptions(options);
  const bundleFile = resolve(io.cwd, options.bundle);
  const json = parseJsonFile(bundleFile, 'Sigstore bundle');

  // Trust, only from flags.
  let key: KeyObject | undefined;
  if (options.key) {
    const keyFile = resolve(io.cwd, options.key);
    const pem = readBounded(keyFile, 'public key', 1024 * 1024);
    try {
      key = createPublicKey(pem);
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
  let root: TrustedRoot;
  if (options.trustedRoot) {
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
      root = TrustedRoot.fromJSON(doc);
    } catch (e) {
      throw new CliError(
        `${file} is not a Sigstore trusted root: ${errorMessage(e)}`,
        {
          code: 'trusted_root_invalid',
        },
      );
    }
  } else {
    // Offline copy embedded in @sigstore/tuf. Also needed with --key: a tlog entry in the
    // bundle (cosign uploads to Rekor by default) is verified against the root's logs.
    root = publicGoodTrustedRoot();
  }
  const expected = options.digest ? parseDigest(options.digest) : undefined;
  const artifact = options.artifact
    ? readBounded(
        resolve(io.cwd, options.artifact),
        'artifact',
        MAX_ARTIFACT_BYTES,
      )
    : undefined;

  const report: Report = {
    bundle: { file: bundleFile },
    verified: false,
    exitCode: EXIT.FAILED,
    checks: [],
  };
  const check = (name: string, ok: boolean) => report.checks.push({ name, ok });

  try {
    let bundle: Bundle;
    try {
      bundle = bundleFromJSON(json);
    } catch (e) {
      throw new BundleFailure(
        'bundle_invalid',
        `not a valid Sigstore bundle: ${errorMessage(e)}`,
      );
    }
    report.bundle.mediaType = bundle.mediaType;
    report.bundle.content = bundle.content.$case;
    report.tlogEntries = bundle.verificationMaterial.tlogEntries.length;
    check('bundle structure', true);

    const isDsse = bundle.content.$case === 'dsseEnvelope';

    // The artifact digest, computed here (never taken from the bundle).
    if (artifact) {
      report.artifact = {
        digest: `sha256:${createHash('sha256').update(artifact).digest('hex')}`,
        source: 'artifact',
      };
    } else if (expected) {
      report.artifact = {
        digest: `${expected.algorithm}:${expected.hex}`,
        source: 'digest',
      };
    }

    let entity: SignedEntity;
    try {
      entity = toSignedEntity(bundle, artifact);
    } catch (e) {
      throw new BundleFailure(
        'bundle_invalid',
        `cannot read the bundle's signing material: ${errorMessage(e)}`,
      );
    }

    if (bundle.content.$case === 'messageSignature') {
      const md = bundle.content.messageSignature.messageDigest;
      // protobuf-specs HashAlgorithm: 0 unspecified (SHA2-256), 1..3 SHA2, 4..5 SHA3.
      const bundleAlg = (
        {
          0: 'sha256',
          1: 'sha256',
          2: 'sha384',
          3: 'sha512',
          4: 'sha3-256',
          5: 'sha3-384',
        } as Record<number, string>
      )[(md?.algorithm ?? 0) as unknown as number];
      if (!bundleAlg) {
        throw new BundleFailure(
          'bundle_invalid',
          `unknown messageDigest algorithm ${String(md?.algorithm)}`,
        );
      }
      let actual: Buffer;
      if (artifact) {
        actual = createHash(bundleAlg).update(artifact).digest();
      } else {
        // Only the digest is known: it must be of the algorithm the signature was made
        // over, and the signature is checked over it (prehashed) below.
        if (expected!.algorithm !== bundleAlg) {
          throw new CliError(
            `the bundle signs a ${bundleAlg} digest; --digest gives ${
              expected!.algorithm
            }`,
            { hint: `Pass --digest ${bundleAlg}:<hex>, or --artifact <file>.` },
          );
        }
        actual = Buffer.from(expected!.hex, 'hex');
        if (!key) {
          throw new CliError(
            '--digest with a keyless message signature is not supported',
            {
              hint: 'Pass --artifact <file>.',
            },
          );
        }
        const digestBytes = actual;
        const orig = entity.signature;
        const signatureBytes = orig.signature;
        entity = {
          ...entity,
          signature: {
            signature: signatureBytes,
            compareSignature: b => orig.compareSignature(b),
            compareDigest: b => orig.compareDigest(b),
            compareSignedDigest: b => orig.compareSignedDigest(b),
            verifySignature: k => {
              try {
                return verifyPrehashed(
                  k,
                  bundleAlg,
                  digestBytes,
                  signatureBytes,
                );
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
    }

    if (key) {
      // The key from --key is the only key; the bundle's hint or certificate is ignored.
      entity = {
        ...entity,
        key: { $case: 'public-key', hint: 'residency-cli --key' },
      };
    }
    const trustMaterial = toTrustMaterial(root, () => {
      if (!key) {
        throw new BundleFailure(
          'key_invalid',
          'the bundle names a public key, but no --key was given',
        );
      }
      return { publicKey: key, validFor: () => true };
    });
    const keyless = !key;
    const verifier = new Verifier(trustMaterial, {
      tlogThreshold: keyless || options.requireTlog ? 1 : 0,
      ctlogThreshold: keyless && !options.insecureIgnoreSct ? 1 : 0,
      timestampThreshold: keyless ? 1 : 0,
    });
    const policy: VerificationPolicy | undefined = keyless
      ? {
          subjectAlternativeName: options.certificateIdentity,
          extensions: { issuer: options.certificateOidcIssuer },
        }
      : undefined;
    try {
      const signer = verifier.verify(entity, policy);
      if (key) {
        report.signer = {
          type: 'key',
          fingerprint: keyFingerprint(key),
          algorithm: keyAlgorithm(key),
          source: '--key',
        };
      } else {
        report.signer = {
          type: 'certificate',
          identity: signer.identity?.subjectAlternativeName,
          issuer: signer.identity?.extensions?.issuer,
        };
      }
    } catch (e) {
      if (e instanceof BundleFailure || e instanceof CliError) throw e;
      check('signature', false);
      throw mapVerifierError(e);
    }
    check(
      isDsse
        ? 'signature over the DSSE envelope (PAE)'
        : 'signature over the artifact',
      true,
    );
    if (keyless || options.requireTlog) check('transparency log entry', true);

    if (bundle.content.$case === 'dsseEnvelope') {
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
      const match = statement.subjects.some(s =>
        artifact
          ? Object.entries(s.digest).some(
              ([alg, hex]) =>
                DIGEST_HEX_LENGTH[alg] !== undefined &&
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
    report.verified = true;
    report.exitCode = EXIT.OK;
  } catch (e) {
    if (!(e instanceof BundleFailure)) throw e;
    report.error = { code: e.code, message: e.message };
  }

  if (options.json) {
    io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    io.stdout(formatReport(report));
  }
  return report.exitCode;
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
