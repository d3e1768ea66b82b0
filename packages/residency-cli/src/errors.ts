/**
 * Exit codes of every `residency` command. They are part of the CLI's contract:
 * CI gates key on them, so they never change meaning.
 */
export const EXIT = {
  /** Resident / verified. */
  OK: 0,
  /** Not resident / does not verify. */
  FAILED: 1,
  /** Could not decide (registry fault, missing trust material). */
  UNKNOWN: 2,
  /** Usage or configuration error; nothing was verified. */
  USAGE: 3,
} as const;

/** @public */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * A user-facing error: printed as `error: <message>` plus an optional hint,
 * never with a stack trace, and mapped onto an exit code.
 */
export class CliError extends Error {
  readonly name = 'CliError';
  constructor(
    message: string,
    readonly options: {
      exitCode?: ExitCode;
      /** How to fix it, one sentence. */
      hint?: string;
      /** A stable machine-readable code, used in --json output. */
      code?: string;
    } = {},
  ) {
    super(message);
  }

  get exitCode(): ExitCode {
    return this.options.exitCode ?? EXIT.USAGE;
  }

  get code(): string {
    return this.options.code ?? 'usage';
  }
}

/** Message of anything thrown, without a stack. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
