import {
  Command,
  CommanderError,
  InvalidArgumentError,
  Option,
} from 'commander';
import { CliError, EXIT, errorMessage, type ExitCode } from './errors';
import { processIo, type CliIo } from './io';
import { defaultEngineApi, type EngineApi } from './engine';
import { verifyCommand } from './commands/verify';
import { verifyEvidenceCommand } from './commands/verifyEvidence';
import { verifyBundleCommand } from './commands/verifyBundle';
import { configCheckCommand } from './commands/configCheck';
import { registerVsaCommands } from './commands/vsaCli';

const EXIT_CODES_HELP = `
Exit codes:
  0  resident / verified
  1  not resident / does not verify
  2  could not decide (registry fault, missing trust material)
  3  usage or configuration error (nothing was verified)`;

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0) || n > 86400) {
    throw new InvalidArgumentError(
      'give a number of seconds between 0 and 86400, e.g. 120',
    );
  }
  return n;
}

function packageVersion(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('../package.json').version;
  } catch {
    return '0.0.0';
  }
}

export interface RunOptions {
  io?: CliIo;
  /** The engine; the real one unless a test injects another. */
  engine?: EngineApi;
}

/**
 * Runs the CLI with user arguments (without `node` and the script) and returns the
 * exit code. Never throws and never prints a stack trace for user errors.
 */
export async function run(
  argv: string[],
  options: RunOptions = {},
): Promise<number> {
  const io = options.io ?? processIo();
  let engine = options.engine;
  const getEngine = () => (engine ??= defaultEngineApi());
  let exitCode: ExitCode = EXIT.OK;
  let json = false;

  const program = new Command('residency');
  program
    .description(
      'Prove with signatures and attestations that container images stay inside a residency boundary.',
    )
    .version(
      packageVersion(),
      '-V, --version',
      'print the version of residency',
    )
    .helpOption('-h, --help', 'show help for a command')
    .addHelpCommand('help [command]', 'show help for a command')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: s => io.stdout(s),
      writeErr: s => io.stderr(s),
    })
    .addHelpText('after', EXIT_CODES_HELP);

  const configOption = () =>
    new Option(
      '-c, --config <file>',
      'app-config file with the residency: section (repeat to merge; later files win)',
    ).argParser(collect);

  const verify = program.command('verify');
  verify
    .description(
      'Verify images exactly as the Residency backend does and decide residency for a tenant (a CI/CD gate).',
    )
    .argument(
      '[image-ref...]',
      'image references: registry/repo[:tag][@sha256:<hex>] or oci:<layout-dir>[:tag|@digest] (commas allowed, as in the annotation)',
    )
    // Required, but checked in the action: Commander checks mandatory options before
    // unknown ones, and `verify --bogus` must name --bogus, not a missing --config.
    .addOption(configOption())
    .option(
      '-t, --tenant <id>',
      'tenant whose boundary and requirements apply (residency.tenants.<id>); required unless --entity-file has residency.dev/tenant',
    )
    .option(
      '-r, --region <region>',
      'the region the service declares (like the residency.dev/region annotation)',
    )
    .option(
      '-f, --entity-file <catalog-info.yaml>',
      "take images, tenant and region from the entity's residency.dev/* annotations (flags and arguments add to or override them)",
    )
    .option(
      '--entity <ref>',
      'entity ref recorded in the result and evidence, or the entity to pick from --entity-file (default: component:default/residency-cli)',
    )
    .option(
      '--timeout <seconds>',
      'overall deadline; when it passes the result is "could not decide" (exit 2)',
      parseSeconds,
    )
    .option(
      '--json',
      'print the EntityResult document as JSON, with the verification report of every image (see README)',
    )
    .option(
      '--explain',
      'print every check performed per image (failing checks first, expected vs found)',
    )
    .option(
      '--evidence <file>',
      'write the evidence bundle (same format the portal serves) to <file>',
    )
    .option(
      '--vsa <file>',
      'sign a SLSA VSA per decided image with residency.vsa.signingKey; write the DSSE envelopes (JSON Lines) to <file>',
    )
    .option(
      '--vsa-bundle <file>',
      'with --vsa: also write the VSAs as Sigstore bundles v0.3 (JSON Lines)',
    )
    .option(
      '--exception <file>',
      'honour a signed residency exception (exported from the portal) when signed by a key in residency.exceptions.keys, unexpired, and covering the failing digests and codes: exit 0, shown as RESIDENT BY EXCEPTION',
    )
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (images: string[], o) => {
      json = Boolean(o.json);
      if (!o.config?.length) {
        verify.error(
          "error: required option '-c, --config <file>' not specified",
          {
            code: 'commander.missingMandatoryOptionValue',
            exitCode: EXIT.USAGE,
          },
        );
      }
      exitCode = await verifyCommand(
        {
          images,
          config: o.config ?? [],
          tenant: o.tenant,
          region: o.region,
          entity: o.entity,
          entityFile: o.entityFile,
          timeoutSeconds: o.timeout,
          json: o.json,
          explain: o.explain,
          evidence: o.evidence,
          vsa: o.vsa,
          vsaBundle: o.vsaBundle,
          exception: o.exception,
        },
        io,
        getEngine(),
      );
    });

  program
    .command('verify-evidence')
    .description(
      'Re-verify a downloaded evidence bundle offline: signatures, attestations, hashes, chain link and decision.',
    )
    .argument(
      '<bundle.json>',
      'evidence bundle from the portal or residency verify --evidence',
    )
    .addOption(configOption())
    .option('--json', 'print the checks and problems as JSON (see README)')
    .option(
      '--require-compliant',
      'also fail (exit 1, or 2 if unknown) when the recorded decision is not compliant; without --config exit 2 (only internal consistency can be checked)',
    )
    .option(
      '--previous <bundle.json>',
      'the bundle of the previous record of the same entity: check the chain link between the two',
    )
    .option(
      '--trusted-keys <file>',
      'your own trust instead of --config: YAML/JSON with keys (id, pem or path, region, validFrom, validUntil, revoked), boundaries and keyless identities (see README)',
    )
    .option(
      '--trusted-root <trusted_root.json>',
      'a Sigstore trusted root you trust for keyless material (with or instead of --trusted-keys)',
    )
    .option(
      '--exception <file>',
      "a signed residency exception: check its signature (residency.exceptions.keys from --config) and that its window contains the record's check time (exit 1 if not)",
    )
    .addHelpText(
      'after',
      `
Exit codes:
  0  the bundle verifies (with --require-compliant: and its decision is compliant)
  1  the bundle does not verify (tampered, duplicate keys, hash or chain mismatch,
     decision differs, or your trust differs from the recorded one)
  2  could not decide (material that cannot be checked offline, or
     --require-compliant without --config / --trusted-keys / --trusted-root:
     a bundle's own keys are not trust)
  3  usage error, or the file is unreadable or not an evidence bundle

Without --config, --trusted-keys or --trusted-root only the bundle's internal
consistency is checked; its keys and regions are the bundle's own claims, never
shown as a verified RESIDENT.

--trusted-keys file (YAML or JSON; paths relative to the file):
  keys:
    - id: eu-signing-2026        # the key id as recorded in the bundle
      pem: "-----BEGIN PUBLIC KEY-----..."   # or path: eu.pub
      region: eu-central-1       # unless the id pins one (KMS ARN)
      validFrom: 2026-01-01T00:00:00Z        # optional, also validUntil, revoked
  boundaries:
    eu-sovereign: [eu-central-1]
  identities:                    # optional, keyless: issuer, subject|subjectRegExp, region
    - { issuer: https://issuer.example, subject: ci@example.com, region: eu-central-1 }`,
    )
    .action(async (file: string, o) => {
      json = Boolean(o.json);
      exitCode = await verifyEvidenceCommand(
        {
          file,
          config: o.config ?? [],
          json: o.json,
          requireCompliant: o.requireCompliant,
          previous: o.previous,
          trustedKeys: o.trustedKeys,
          trustedRoot: o.trustedRoot,
          exception: o.exception,
        },
        io,
        getEngine(),
      );
    });

  program
    .command('verify-bundle')
    .description(
      'Verify one Sigstore bundle offline (message signature or DSSE attestation), like cosign verify-blob --bundle.',
    )
    .argument('<sigstore-bundle.json>', 'Sigstore bundle (v0.1 to v0.3)')
    .option(
      '--artifact <file>',
      'the artifact the bundle signs or attests (its digest is computed here)',
    )
    .option(
      '--digest <alg:hex>',
      "the artifact's digest instead of the file, e.g. sha256:<hex> (DSSE; message signatures with ECDSA or RSA keys)",
    )
    .option(
      '--key <pem>',
      "trusted public key (PEM); the bundle's own key hint is ignored",
    )
    .option(
      '--trusted-root <trusted_root.json>',
      'trusted root for keyless bundles (default: public-good root embedded offline)',
    )
    .option(
      '--certificate-identity <id>',
      'required certificate identity (SAN) for keyless bundles',
    )
    .option(
      '--certificate-identity-regexp <re>',
      'keyless: certificate identity must match this regular expression (whole string)',
    )
    .option(
      '--certificate-oidc-issuer <url>',
      'required OIDC issuer for keyless bundles',
    )
    .option(
      '--certificate-oidc-issuer-regexp <re>',
      'keyless: OIDC issuer must match this regular expression (whole string)',
    )
    .option(
      '--require-tlog',
      'require a verified transparency log entry (keyless: required when the trusted root lists logs)',
    )
    .option(
      '--insecure-ignore-sct',
      'keyless: do not require a certificate transparency SCT (private CA without a CT log)',
    )
    .option('--json', 'print the verification report as JSON (see README)')
    .addHelpText(
      'after',
      `
Exit codes:
  0  verified
  1  does not verify (signature, digest, subject, identity, tlog)
  3  usage error, or a file is unreadable`,
    )
    .action(async (bundle: string, o) => {
      json = Boolean(o.json);
      exitCode = await verifyBundleCommand({ bundle, ...o }, io);
    });

  registerVsaCommands(program, {
    io,
    getEngine,
    configOption,
    setJson: v => (json = v),
    setExitCode: c => (exitCode = c),
  });

  const config = program
    .command('config')
    .description('Work with the residency: configuration')
    .addHelpCommand(false);
  config
    .command('check')
    .description(
      'Load and validate a configuration; list keys with their derived regions and tenants with their boundaries.',
    )
    .argument(
      '<file...>',
      'app-config files (merged in order, later files win)',
    )
    .option('--json', 'print what was loaded as JSON (see README)')
    .addHelpText(
      'after',
      '\nExit codes:\n  0  the configuration loads\n  3  it does not; the offending entry is named',
    )
    .action(async (files: string[], o) => {
      json = Boolean(o.json);
      exitCode = await configCheckCommand(
        { files, json: o.json },
        io,
        getEngine(),
      );
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.version'
      ) {
        return EXIT.OK;
      }
      // Help shown because no command was given is a usage error; `help <cmd>` is not.
      if (e.code === 'commander.help')
        return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
      if (e.code === 'commander.executeSubCommandAsync') return e.exitCode;
      // Commander already printed what was wrong.
      io.stderr(
        "Run 'residency --help' or 'residency <command> --help' for usage.\n",
      );
      return EXIT.USAGE;
    }
    if (e instanceof CliError) {
      report(io, json, e.code, e.message, e.options.hint);
      return e.exitCode;
    }
    // A bug or an unexpected fault: never a pass, never a stack trace unless asked.
    report(
      io,
      json,
      'internal_error',
      `unexpected error: ${errorMessage(e)}`,
      'Set RESIDENCY_DEBUG=1 for details and report it.',
    );
    if (io.env.RESIDENCY_DEBUG && e instanceof Error && e.stack)
      io.stderr(`${e.stack}\n`);
    return EXIT.UNKNOWN;
  }
}

function report(
  io: CliIo,
  json: boolean,
  code: string,
  message: string,
  hint?: string,
) {
  io.stderr(`error: ${message}\n`);
  if (hint) io.stderr(`hint: ${hint}\n`);
  if (json) {
    io.stdout(
      `${JSON.stringify({ error: { code, message, hint } }, null, 2)}\n`,
    );
  }
}
