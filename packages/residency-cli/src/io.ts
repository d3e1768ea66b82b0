/** Where a command writes and what it reads from its environment; injected for tests. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
  /** The clock, for `exportedAt`. */
  now(): Date;
}

/** The process's own streams and environment. */
export function processIo(): CliIo {
  return {
    stdout: text => process.stdout.write(text),
    stderr: text => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    now: () => new Date(),
  };
}

/** Collects output in memory (tests, embedding). */
export function memoryIo(
  options: {
    env?: Record<string, string | undefined>;
    cwd?: string;
    now?: Date;
  } = {},
): CliIo & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout(text: string) {
      io.out += text;
    },
    stderr(text: string) {
      io.err += text;
    },
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    now: () => options.now ?? new Date(),
  };
  return io;
}
