import { loadHostConfig } from '../config/load-host-config.js';
import { formatProblem } from '../config/config-problem.js';
import { type CliCommand, EXIT_CODES, parseCommandLine, UsageError } from './cli-command.js';

export const reloadCommand: CliCommand = {
  summary: 'ask a running host to re-read host.toml, over its loopback HTTP address',
  usage: [
    'danube-connect reload <host.toml> | --http <host:port>',
    '',
    '  Finds the running host through [host] http of host.toml (or --http) and asks it to reload. The host',
    '  validates the new host.toml first: when it is invalid, the errors are printed (exit 2) and the running',
    '  connectors are kept; otherwise only the connectors whose config or plugin version changed restart.',
  ].join('\n'),
  async run(args, io) {
    const { values, positional: file } = parseCommandLine(args, { http: { type: 'string' } });
    let address = values.http;
    if (address === undefined) {
      if (file === undefined) throw new UsageError('reload needs host.toml or --http host:port');
      const loaded = loadHostConfig(file, { env: io.env, cwd: io.cwd });
      if (!loaded.ok) {
        for (const problem of loaded.problems) io.err(formatProblem(problem));
        return EXIT_CODES.invalid;
      }
      const { host, port } = loaded.config.host.http;
      // A wildcard bind is reached over loopback, which the control guard accepts.
      const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
      address = `${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
    }
    let response: Response;
    try {
      // application/json: the control guard refuses the content types a browser form could send.
      response = await fetch(`http://${address}/-/reload`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    } catch (err) {
      io.err(`no danube-connect host answers on ${address}: ${(err as Error).message}`);
      return EXIT_CODES.failure;
    }
    const type = response.headers.get('content-type') ?? 'no content type';
    let body: { reloaded?: unknown; error?: string; restarted?: string[]; started?: string[]; stopped?: string[]; updated?: string[]; needsRestart?: string[] } | undefined;
    try {
      body = type.startsWith('application/json') ? ((await response.json()) as typeof body) : undefined;
    } catch {
      body = undefined;
    }
    if (typeof body?.reloaded !== 'boolean') {
      io.err(`http://${address}/-/reload answered HTTP ${response.status} (${type.split(';')[0]}), not a danube-connect host's JSON: is ${address} the host's [host] http?`);
      return EXIT_CODES.failure;
    }
    if (!body.reloaded) {
      io.err(body.error ?? `reload failed with HTTP ${response.status}`);
      io.err('the running connectors are kept');
      return EXIT_CODES.invalid;
    }
    const list = (names: string[] | undefined) => (names && names.length > 0 ? names.join(', ') : 'none');
    io.out(`reloaded: restarted ${list(body.restarted)}; started ${list(body.started)}; stopped ${list(body.stopped)}; updated live ${list(body.updated)}`);
    for (const line of body.needsRestart ?? []) io.out(`needs a restart: ${line}`);
    return EXIT_CODES.ok;
  },
};
