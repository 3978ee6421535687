import { type CliCommand, EXIT_CODES, parseCommandLine } from './cli-command.js';
import { CONTROL_OPTIONS, CONTROL_TIMEOUT_MS, controlTimeoutMs, hostAddress, postControl } from './host-control.js';

export const reloadCommand: CliCommand = {
  summary: 'ask a running host to re-read host.toml, over its loopback HTTP address',
  usage: [
    'danube-connect reload <host.toml> | --http <host:port> [--timeout-ms <ms>]',
    '',
    '  Finds the running host through [host] http of host.toml (or --http) and asks it to reload. The host',
    '  validates the new host.toml first: when it is invalid, the errors are printed (exit 2) and the running',
    '  connectors are kept; otherwise only the connectors whose config or plugin version changed restart.',
    `  Gives up (exit 1) when the host has not answered within --timeout-ms (default ${CONTROL_TIMEOUT_MS} ms).`,
  ].join('\n'),
  async run(args, io) {
    const { values, positional: file } = parseCommandLine(args, CONTROL_OPTIONS);
    const timeoutMs = controlTimeoutMs(values['timeout-ms']);
    const address = hostAddress(file, values.http, io, 'reload needs host.toml or --http host:port');
    if (typeof address === 'number') return address;
    const answer = await postControl(address, '/-/reload', timeoutMs);
    if ('error' in answer) {
      io.err(answer.error);
      return EXIT_CODES.failure;
    }
    const { status, type } = answer;
    let body: { reloaded?: unknown; error?: string; restarted?: string[]; started?: string[]; stopped?: string[]; updated?: string[]; needsRestart?: string[] } | undefined;
    try {
      body = type.startsWith('application/json') ? (JSON.parse(answer.text) as typeof body) : undefined;
    } catch {
      body = undefined;
    }
    if (typeof body?.reloaded !== 'boolean') {
      io.err(`http://${address}/-/reload answered HTTP ${status} (${type.split(';')[0]}), not a danube-connect host's JSON: is ${address} the host's [host] http?`);
      return EXIT_CODES.failure;
    }
    if (!body.reloaded) {
      io.err(body.error ?? `reload failed with HTTP ${status}`);
      io.err('the running connectors are kept');
      return EXIT_CODES.invalid;
    }
    const list = (names: string[] | undefined) => (names && names.length > 0 ? names.join(', ') : 'none');
    io.out(`reloaded: restarted ${list(body.restarted)}; started ${list(body.started)}; stopped ${list(body.stopped)}; updated live ${list(body.updated)}`);
    for (const line of body.needsRestart ?? []) io.out(`needs a restart: ${line}`);
    return EXIT_CODES.ok;
  },
};
