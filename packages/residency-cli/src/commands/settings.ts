import { CliError, EXIT, errorMessage } from '../errors';
import type { CliIo } from '../io';
import type { EngineApi, ResidencySettings } from '../engine';
import { loadConfigFiles, type LoadedConfig } from '../config/loadConfig';

/**
 * Loads app-config files and builds the engine's settings from their `residency:`
 * section, exactly as the backend does. Every failure is a CliError with exit 3
 * that names the offending entry.
 */
export async function loadSettingsFromFiles(
  paths: string[],
  io: CliIo,
  engine: EngineApi,
): Promise<{ settings: ResidencySettings; loaded: LoadedConfig }> {
  const loaded = await loadConfigFiles(paths, { cwd: io.cwd, env: io.env });
  const where = loaded.files.join(', ');
  if (loaded.data.residency === undefined) {
    throw new CliError(`no 'residency:' section in ${where}`, {
      code: 'config_invalid',
      hint: 'Point --config at the app-config.yaml the Residency backend uses.',
    });
  }
  const reader = loaded.config;
  try {
    const settings = await engine.loadResidencySettings(reader, {
      baseDir: loaded.baseDir,
    });
    return { settings, loaded };
  } catch (e) {
    if (e instanceof CliError) throw e;
    if (engine.isConfigError(e)) {
      throw new CliError(`invalid configuration in ${where}: ${e.message}`, {
        exitCode: EXIT.USAGE,
        code: e.code,
        hint: 'Fix the entry named above and run again; `residency config check <file>` shows what loads.',
      });
    }
    throw new CliError(
      `could not load the configuration in ${where}: ${errorMessage(e)}`,
      { code: 'config_invalid' },
    );
  }
}
