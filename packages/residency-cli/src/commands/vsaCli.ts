/*
 * Registers `residency verify-vsa` (kept out of cli.ts so the command table there
 * stays one line per command).
 */
import type { Command, Option } from 'commander';
import type { CliIo } from '../io';
import type { EngineApi } from '../engine';
import type { ExitCode } from '../errors';
import { loadSettingsFromFiles } from './settings';
import { verifyVsaCommand } from './vsa';

export function registerVsaCommands(
  program: Command,
  ctx: {
    io: CliIo;
    getEngine: () => EngineApi;
    configOption: () => Option;
    setJson: (json: boolean) => void;
    setExitCode: (code: ExitCode) => void;
  },
) {
  program
    .command('verify-vsa')
    .description(
      'Fast CD gate: pass only if the image digest carries a PASSED, fresh SLSA VSA signed by the given key (found as a cosign .att entry or OCI referrer).',
    )
    .argument(
      '<image-ref>',
      'registry/repo[:tag][@sha256:<hex>] or oci:<layout-dir>[:tag|@digest]',
    )
    .requiredOption(
      '--key <pem>',
      "the verifier's public key (PEM); key hints inside the VSA are ignored",
    )
    .option(
      '--max-age <duration>',
      'oldest acceptable timeVerified, e.g. 24h, 90m, 30s',
      '24h',
    )
    .option(
      '--boundary <name>',
      'require this boundary in verifiedLevels (eu-sovereign or RESIDENCY_BOUNDARY_EU_SOVEREIGN)',
    )
    .option('--verifier-id <uri>', 'require this verifier.id')
    .addOption(ctx.configOption())
    .option(
      '--plain-http',
      'without --config: talk plain http to the registry (local registries only)',
    )
    .option('--json', 'print the verification as JSON')
    .addHelpText(
      'after',
      `
Exit codes:
  0  a PASSED VSA over this digest, from this key, younger than --max-age
  1  no such VSA: missing, FAILED (newest wins), expired, other key or boundary, revoked key
  2  could not decide (registry fault)
  3  usage or configuration error`,
    )
    .action(async (reference: string, o) => {
      ctx.setJson(Boolean(o.json));
      const config =
        o.config && o.config.length > 0
          ? await loadSettingsFromFiles(o.config, ctx.io, ctx.getEngine())
          : undefined;
      ctx.setExitCode(
        await verifyVsaCommand(
          {
            reference,
            key: o.key,
            maxAge: o.maxAge,
            boundary: o.boundary,
            verifierId: o.verifierId,
            config: config
              ? { ...config.loaded, settings: config.settings }
              : undefined,
            plainHttp: o.plainHttp,
            json: o.json,
          },
          ctx.io,
        ),
      );
    });
}
