import { runningSdk } from '../discovery/sdk-info.js';
import { hostPackageJson } from '../host-package.js';
import { EXIT_CODES, UsageError, type CliCommand, type CliIo } from './cli-command.js';
import { commands as defaultCommands } from './commands.js';

function help(commands: Readonly<Record<string, CliCommand>>): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  return [
    'Usage: danube-connect <command> [options]',
    '',
    'Commands:',
    ...Object.entries(commands).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`),
    '',
    'Options:',
    '  -h, --help     show this help, or a command\'s with danube-connect <command> --help',
    '  -v, --version  show the host, SDK and Node versions',
    '',
    'Exit codes: 0 ok, 1 failure, 2 invalid config (every problem printed, nothing started), 64 bad usage.',
  ].join('\n');
}

/** The danube-connect CLI: dispatches to a command and resolves to the exit code (never calls process.exit). */
export async function main(argv: readonly string[], io: CliIo, commands: Readonly<Record<string, CliCommand>> = defaultCommands): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    const topic = first === 'help' && rest[0] !== undefined ? commands[rest[0]] : undefined;
    (first === undefined ? io.err : io.out)(topic ? topic.usage : help(commands));
    return first === undefined ? EXIT_CODES.usage : EXIT_CODES.ok;
  }
  if (first === '-v' || first === '--version') {
    io.out(`@danube-connect/host ${hostPackageJson().version} (@danube-connect/sdk ${runningSdk().version}, node ${process.version})`);
    return EXIT_CODES.ok;
  }
  const command = Object.hasOwn(commands, first) ? commands[first] : undefined;
  if (!command) {
    io.err(`danube-connect: unknown command "${first}"\n\n${help(commands)}`);
    return EXIT_CODES.usage;
  }
  if (rest.includes('-h') || rest.includes('--help')) {
    io.out(command.usage);
    return EXIT_CODES.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`danube-connect ${first}: ${err.message}\n\nUsage: ${command.usage}`);
      return EXIT_CODES.usage;
    }
    throw err;
  }
}
