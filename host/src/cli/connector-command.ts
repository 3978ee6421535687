import type { ConnectorAction } from '../supervisor/connector-state.js';
import { type CliCommand, EXIT_CODES, parseCommandLine, UsageError } from './cli-command.js';
import { CONTROL_OPTIONS, CONTROL_TIMEOUT_MS, controlTimeoutMs, hostAddress, postControl } from './host-control.js';

const DONE: Record<ConnectorAction, string> = { restart: 'restarted', pause: 'paused', resume: 'resumed' };

/** `danube-connect restart|pause|resume <connector>`: POST /connectors/<connector>/<action> on the running host. */
function connectorCommand(action: ConnectorAction, summary: string, what: string[]): CliCommand {
  return {
    summary,
    usage: [
      `danube-connect ${action} <connector> <host.toml> | --http <host:port> [--timeout-ms <ms>]`,
      '',
      '  Finds the running host through [host] http of host.toml (or --http) and asks it to',
      ...what,
      '  The other connectors are not touched. Prints the connector\'s state afterwards; exit 1 when the host does',
      `  not answer (within --timeout-ms, default ${CONTROL_TIMEOUT_MS} ms) or has no such connector.`,
    ].join('\n'),
    async run(args, io) {
      const { values, positionals } = parseCommandLine(args, CONTROL_OPTIONS, 2);
      const [name, file] = positionals;
      if (name === undefined) throw new UsageError(`${action} needs the connector's name`);
      const timeoutMs = controlTimeoutMs(values['timeout-ms']);
      const address = hostAddress(file, values.http, io, `${action} needs host.toml or --http host:port after the connector's name`);
      if (typeof address === 'number') return address;
      const answer = await postControl(address, `/connectors/${encodeURIComponent(name)}/${action}`, timeoutMs);
      if ('error' in answer) {
        io.err(answer.error);
        return EXIT_CODES.failure;
      }
      let body: { state?: string; error?: string } = {};
      try {
        body = JSON.parse(answer.text) as typeof body;
      } catch {
        // Not a danube-connect host: reported below with the status.
      }
      if (answer.status === 404) {
        io.err(body.error !== undefined ? `no connector "${name}" on the host at ${address}` : `${address} does not look like a danube-connect host (HTTP 404)`);
        return EXIT_CODES.failure;
      }
      if (answer.status < 200 || answer.status > 299 || body.state === undefined) {
        io.err(`${action} ${name} failed on ${address}: ${body.error ?? `HTTP ${answer.status}`}`);
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
