import { formatProblem } from '../config/config-problem.js';
import { loadHostConfig } from '../config/load-host-config.js';
import type { ConnectorAction } from '../supervisor/connector-state.js';
import { type CliCommand, type CliIo, EXIT_CODES, parseCommandLine, UsageError } from './cli-command.js';

/** The running host's address: --http, or [host] http of host.toml; an exit code when host.toml is invalid. */
function hostAddress(file: string | undefined, http: string | undefined, io: CliIo, action: ConnectorAction): string | number {
  if (http !== undefined) {
    if (file !== undefined) throw new UsageError('give either <host.toml> or --http, not both');
    return http;
  }
  if (file === undefined) throw new UsageError(`${action} needs host.toml or --http host:port after the connector's name`);
  const loaded = loadHostConfig(file, { env: io.env, cwd: io.cwd });
  if (!loaded.ok) {
    for (const problem of loaded.problems) io.err(formatProblem(problem));
    return EXIT_CODES.invalid;
  }
  const { host, port } = loaded.config.host.http;
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

const DONE: Record<ConnectorAction, string> = { restart: 'restarted', pause: 'paused', resume: 'resumed' };

/** `danube-connect restart|pause|resume <connector>`: POST /connectors/<connector>/<action> on the running host. */
function connectorCommand(action: ConnectorAction, summary: string, what: string[]): CliCommand {
  return {
    summary,
    usage: [
      `danube-connect ${action} <connector> <host.toml> | --http <host:port>`,
      '',
      '  Finds the running host through [host] http of host.toml (or --http) and asks it to',
      ...what,
      '  The other connectors are not touched. Prints the connector\'s state afterwards; exit 1 when the host does',
      '  not answer or has no such connector.',
    ].join('\n'),
    async run(args, io) {
      const { values, positionals } = parseCommandLine(args, { http: { type: 'string' } }, 2);
      const [name, file] = positionals;
      if (name === undefined) throw new UsageError(`${action} needs the connector's name`);
      const address = hostAddress(file, values.http, io, action);
      if (typeof address === 'number') return address;
      let response: Response;
      let text: string;
      try {
        response = await fetch(`http://${address}/connectors/${encodeURIComponent(name)}/${action}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        text = await response.text();
      } catch (err) {
        io.err(`no danube-connect host answers on ${address}: ${(err as Error).message}`);
        return EXIT_CODES.failure;
      }
      let body: { state?: string; error?: string } = {};
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        // Not a danube-connect host: reported below with the status.
      }
      if (response.status === 404) {
        io.err(body.error !== undefined ? `no connector "${name}" on the host at ${address}` : `${address} does not look like a danube-connect host (HTTP 404)`);
        return EXIT_CODES.failure;
      }
      if (!response.ok || body.state === undefined) {
        io.err(`${action} ${name} failed on ${address}: ${body.error ?? `HTTP ${response.status}`}`);
        return EXIT_CODES.failure;
      }
      io.out(`${name}: ${DONE[action]}${body.state === DONE[action] ? '' : ` (${body.state})`}`);
      return EXIT_CODES.ok;
    },
  };
}

export const restartCommand = connectorCommand('restart', 'restart one connector of a running host (clears failed)', [
  '  restart one connector: a graceful stop, then a start with its crash history forgotten (a failed connector',
  '  runs again).',
]);

export const pauseCommand = connectorCommand('pause', 'pause one connector of a running host until resume or reload', [
  '  pause one connector: a graceful stop (drain, commit), then state paused; it is not restarted until',
  '  `danube-connect resume`, a restart or a reload.',
]);

export const resumeCommand = connectorCommand('resume', 'resume a paused connector of a running host', ['  start a paused connector again (another state is left as it is).']);
