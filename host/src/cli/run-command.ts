import { runHost } from '../run/run-host.js';
import { type CliCommand, parseCommandLine, UsageError } from './cli-command.js';

export const runCommand: CliCommand = {
  summary: 'run every connector of host.toml as a supervised child process, until SIGTERM or SIGINT',
  usage: [
    'danube-connect run <host.toml>',
    '',
    '  Validates host.toml, its plugins and every connector config (every problem printed, exit 2, nothing',
    '  started); serves /metrics, /healthz, /readyz, /connectors and POST /-/reload on [host] http',
    '  (127.0.0.1:9464 by default); runs one child process per connector with restarts and backoff.',
    '  SIGHUP (or `danube-connect reload`) re-reads host.toml and restarts only the connectors that changed.',
    '  SIGTERM or SIGINT drains every connector, then exits 0 (1 when one had to be killed).',
  ].join('\n'),
  async run(args, io) {
    const { positional: file } = parseCommandLine(args, {});
    if (file === undefined) throw new UsageError('run needs the path of host.toml');
    return runHost(file, { env: io.env, cwd: io.cwd, err: io.err, ...(io.hostDir === undefined ? {} : { hostDir: io.hostDir }) });
  },
};
