import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Exit codes of the danube-connect CLI. */
export const EXIT_CODES = {
  ok: 0,
  /** Something failed at run time. */
  failure: 1,
  /** host.toml, a connector or a plugin is invalid: every problem was printed, nothing was started. */
  invalid: 2,
  /** Bad command line (unknown command or option, missing argument). */
  usage: 64,
} as const;

/** Where a command writes, and the process facts it may read (injected so commands run in tests). */
export interface CliIo {
  /** One line (or several) to stdout. */
  out(text: string): void;
  /** One line (or several) to stderr. */
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The host's installation folder, searched for plugins after host.toml's folder. Default: this package's folder. */
  hostDir?: string;
}

/** One `danube-connect <command>`. `run` (the supervisor's) and `reload` plug in here through the commands map. */
export interface CliCommand {
  /** One line for --help. */
  summary: string;
  /** Usage and options, printed by `danube-connect <command> --help`. */
  usage: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(args: string[], io: CliIo): Promise<number>;
}

/** Thrown by commands for a bad command line: printed with the command's usage, exit code 64. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * The command line of one command: its options and at most `maxPositionals` positional arguments (default one:
 * host.toml). Anything else (an unknown option, one argument too many) is a UsageError, printed with the
 * command's usage.
 */
export function parseCommandLine<const O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O, maxPositionals = 1) {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, options });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { positionals } = parsed;
  if (positionals.length > maxPositionals) throw new UsageError(`unexpected argument "${positionals[maxPositionals]}"`);
  return { values: parsed.values, positional: positionals[0], positionals };
}
