/*
 * SLSA Verification Summary Attestations in the CLI:
 * - `residency verify ... --vsa <file>` signs one VSA per decided image with the key of
 *   `residency.vsa.signingKey` and writes the DSSE envelopes (in-toto JSON Lines, one
 *   per image; what `cosign attach attestation` takes) and, with `--vsa-bundle`, the
 *   Sigstore bundles v0.3;
 * - `residency verify-vsa <image-ref> --key <pub>` is the fast CD gate: exit 0 only for
 *   a PASSED, fresh VSA over that digest signed by that key.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { EvidenceRecord } from '@residency-dev/plugin-residency-common';
import {
  SourceError,
  VsaError,
  buildVsaStatements,
  chainRecord,
  createArtifactSource,
  createVsaSigner,
  loadVsaSettings,
  parseImageReference,
  readRegularFile,
  signVsa,
  verifyVsaForImage,
  type ResidencySettings,
  type VsaVerification,
} from '@residency-dev/plugin-residency-node';
import { CliError, EXIT, errorMessage, type ExitCode } from '../errors';
import type { CliIo } from '../io';
import type { LoadedConfig } from '../config/loadConfig';
import { safe } from '../format/text';

function vsaConfigError(e: unknown): CliError {
  return new CliError(`VSA: ${errorMessage(e)}`, {
    exitCode: EXIT.USAGE,
    code: e instanceof VsaError ? e.code : 'vsa_config_invalid',
    hint: 'Configure residency.vsa.verifierId and residency.vsa.signingKey (see README, "Verification summaries").',
  });
}

function write(path: string, text: string, flag: string) {
  try {
    writeFileSync(path, text, { mode: 0o644 });
  } catch (e) {
    throw new CliError(`cannot write ${path}: ${errorMessage(e)}`, {
      code: 'file_unwritable',
      hint: `Choose a writable path for ${flag}.`,
    });
  }
}

/** Signs and writes the VSAs of one evaluation. Returns how many were written. */
export async function writeVsaFiles(options: {
  record: EvidenceRecord;
  settings: ResidencySettings;
  loaded: LoadedConfig;
  vsa: string;
  vsaBundle?: string;
  io: CliIo;
  quiet?: boolean;
}): Promise<number> {
  const { record, settings, loaded, io } = options;
  let signer;
  let vsaSettings;
  try {
    vsaSettings = loadVsaSettings(loaded.config, settings, {
      baseDir: loaded.baseDir,
    });
    if (!vsaSettings) {
      throw new VsaError(
        'vsa_config_invalid',
        'residency.vsa is not configured',
      );
    }
    signer = createVsaSigner(vsaSettings, { env: io.env });
  } catch (e) {
    throw vsaConfigError(e);
  }
  const chained = chainRecord(record, null);
  const statements = buildVsaStatements({
    evidence: chained,
    verifierId: vsaSettings.verifierId,
    ...(vsaSettings.evidenceBaseUrl
      ? {
          evidenceUri: `${vsaSettings.evidenceBaseUrl.replace(/\/+$/, '')}/${
            chained.id
          }`,
        }
      : {}),
  });
  const regions = record.result.boundary?.regions ?? [];
  const envelopes: string[] = [];
  const bundles: string[] = [];
  for (const s of statements) {
    try {
      const signed = await signVsa(s, signer, regions);
      envelopes.push(signed.envelope);
      bundles.push(JSON.stringify(signed.bundle));
    } catch (e) {
      throw new CliError(`cannot sign the VSA: ${errorMessage(e)}`, {
        exitCode:
          e instanceof VsaError && e.code === 'vsa_kms_error'
            ? EXIT.UNKNOWN
            : EXIT.USAGE,
        code: e instanceof VsaError ? e.code : 'vsa_signing_failed',
        hint: 'The VSA key must be readable and lie inside the tenant boundary.',
      });
    }
  }
  const target = resolve(io.cwd, options.vsa);
  write(target, envelopes.map(e => `${e}\n`).join(''), '--vsa');
  if (options.vsaBundle) {
    write(
      resolve(io.cwd, options.vsaBundle),
      bundles.map(b => `${b}\n`).join(''),
      '--vsa-bundle',
    );
  }
  if (!options.quiet) {
    io.stderr(
      statements.length === 0
        ? `no VSA written to ${target}: no image was decided\n`
        : `${statements.length} VSA(s) written to ${target} (${statements
            .map(s => s.predicate.verificationResult)
            .join(', ')})\n`,
    );
  }
  return statements.length;
}

/** `24h`, `90m`, `30s`, `2d` or plain seconds -> milliseconds. */
export function parseDuration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!m) throw new Error(`not a duration: ${value} (e.g. 24h, 90m, 30s)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
    (m[2] ?? 's') as 'ms' | 's' | 'm' | 'h' | 'd'
  ];
  const ms = Number(m[1]) * unit;
  if (!(ms > 0)) throw new Error('the maximum age must be positive');
  return ms;
}

export interface VerifyVsaOptions {
  reference: string;
  key: string;
  maxAge?: string;
  boundary?: string;
  verifierId?: string;
  /** Registries (with credentials, insecure flags) and revoked keys from app-config. */
  config?: LoadedConfig & { settings: ResidencySettings };
  plainHttp?: boolean;
  json?: boolean;
}

const EXIT_FOR: Record<VsaVerification['code'], ExitCode> = {
  vsa_passed: EXIT.OK,
  vsa_missing: EXIT.FAILED,
  vsa_failed: EXIT.FAILED,
  vsa_expired: EXIT.FAILED,
  vsa_not_yet_valid: EXIT.FAILED,
  vsa_boundary_mismatch: EXIT.FAILED,
  vsa_verifier_mismatch: EXIT.FAILED,
  vsa_malformed: EXIT.FAILED,
  key_revoked: EXIT.FAILED,
  key_expired: EXIT.FAILED,
};

export async function verifyVsaCommand(
  options: VerifyVsaOptions,
  io: CliIo,
): Promise<ExitCode> {
  let maxAgeMs: number;
  try {
    maxAgeMs = parseDuration(options.maxAge ?? '24h');
  } catch (e) {
    throw new CliError(errorMessage(e), { code: 'usage' });
  }
  let pem: string;
  let fingerprint: string;
  try {
    // A PEM key is small: a regular file of at most 64 KiB (never /dev/zero or a FIFO).
    pem = readRegularFile(resolve(io.cwd, options.key), 64 * 1024).toString(
      'utf8',
    );
    fingerprint = createHash('sha256')
      .update(createPublicKey(pem).export({ type: 'spki', format: 'der' }))
      .digest('hex');
  } catch (e) {
    throw new CliError(`cannot read --key: ${errorMessage(e)}`, {
      code: 'key_unreadable',
      hint: 'Give the PEM public key of the portal that signs VSAs.',
    });
  }
  let ref;
  try {
    ref = parseImageReference(options.reference);
  } catch (e) {
    throw new CliError(`bad image reference: ${errorMessage(e)}`, {
      code: 'bad_reference',
    });
  }
  const settings = options.config?.settings;
  // Without a configuration, the registry named on the command line is the only one
  // contacted (https unless --plain-http); with one, its allow-list and credentials apply.
  let registries: Parameters<typeof createArtifactSource>[0]['registries'] = [];
  if (settings) {
    registries = settings.registries.map(r => ({
      host: r.host,
      region: r.region,
      insecure: r.insecure,
      ...(r.credentials ? { credentials: r.credentials } : {}),
    }));
  } else if (ref.kind === 'registry') {
    registries = [{ host: ref.registry, insecure: options.plainHttp ?? false }];
  }
  const source = createArtifactSource({ registries });
  let result: VsaVerification & { digest: string };
  try {
    // a key the configuration marks revoked invalidates every VSA it signed
    const configured = settings?.keys.find(k => k.fingerprint === fingerprint);
    result = await verifyVsaForImage({
      source,
      reference: options.reference,
      key: {
        publicKeyPem: pem,
        id: configured?.id ?? options.key,
        revoked: configured?.revoked ?? false,
        ...(configured?.validFrom ? { validFrom: configured.validFrom } : {}),
        ...(configured?.validUntil
          ? { validUntil: configured.validUntil }
          : {}),
      },
      maxAgeMs,
      ...(options.boundary ? { boundary: options.boundary } : {}),
      ...(options.verifierId ? { verifierId: options.verifierId } : {}),
      now: io.now(),
    });
  } catch (e) {
    if (e instanceof SourceError) {
      const exitCode =
        e.code === 'bad_reference' || e.code === 'registry_not_allowed'
          ? EXIT.USAGE
          : EXIT.UNKNOWN;
      throw new CliError(
        `could not read ${safe(options.reference)}: ${e.message}`,
        {
          exitCode,
          code: e.code,
          hint:
            exitCode === EXIT.USAGE
              ? 'Pass -c <app-config> listing the registry, or --plain-http for a local http registry.'
              : 'This is not a decision; retry.',
        },
      );
    }
    if (e instanceof VsaError || (e as Error)?.message?.includes('key')) {
      throw new CliError(`--key: ${errorMessage(e)}`, {
        code: 'key_unreadable',
      });
    }
    throw e;
  } finally {
    await source.close();
  }
  if (options.json) {
    io.stdout(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    io.stdout(
      `${result.ok ? 'PASS' : 'FAIL'} ${safe(options.reference)} (${
        result.digest
      }): ${safe(result.message)}\n`,
    );
  }
  return EXIT_FOR[result.code] ?? EXIT.FAILED;
}
