/**
 * The `residency` command-line tool: a CI/CD residency gate on the same engine as the
 * Backstage backend, and offline re-verification of evidence and Sigstore bundles.
 *
 * @packageDocumentation
 */
export { run, type RunOptions } from './cli';
export { EXIT, CliError, type ExitCode } from './errors';
export { memoryIo, processIo, type CliIo } from './io';
export type { EngineApi } from './engine';
export { loadConfigFiles, mergeConfig } from './config/loadConfig';
