import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { startDevBrokers, type DevBroker } from '../dev/dev-brokers.js';
import { runHost } from '../run/run-host.js';
import { type CliCommand, parseCommandLine, UsageError } from './cli-command.js';

const USAGE = [
  'danube-connect dev [<host.toml>]',
  '',
  '  `run` for development: first probes every Danube broker and MQTT broker the connectors of host.toml use',
  '  (a TCP connect), and where nothing answers starts one at that address in this process: TestBroker (from',
  '  @danube-connect/testing, with the namespaces of the connectors\' topics) or aedes (MQTT 3.1.1, in memory).',
  '  What answers is used as it is. Prints what it found and what it started, then runs the connectors as',
  '  `run` does; SIGTERM or SIGINT drains them, then stops the brokers it started.',
  '  Without <host.toml>: host.toml in the current folder.',
  '',
  '  Needs the optional packages it embeds, when it embeds them: npm i -D @danube-connect/testing aedes@1',
  '  Brokers are started only on loopback addresses and without TLS; any other missing broker is an error.',
].join('\n');

/** One line per broker: what the connectors are configured with, and what dev did about it. */
function describe(broker: DevBroker): string {
  const what = `${broker.kind === 'danube' ? 'Danube' : 'MQTT'} ${broker.configured}${broker.connectors.length > 0 ? ` (${broker.connectors.join(', ')})` : ''}`;
  if (broker.state === 'found') return `dev: ${what}: answered, using it as it is`;
  if (broker.kind === 'danube') {
    const namespaces = ['default', ...(broker.namespaces ?? [])].join(', ');
    return `dev: ${what}: nothing answered, started TestBroker: service ${broker.serviceUrl}, admin ${broker.adminUrl}, namespaces ${namespaces}`;
  }
  return `dev: ${what}: nothing answered, started an embedded MQTT 3.1.1 broker (aedes, in memory) at ${broker.url}`;
}

/** `danube-connect dev`: `run` with embedded brokers wherever none answers (docs/architecture.md §5.13). */
export const devCommand: CliCommand = {
  summary: 'run host.toml with a TestBroker and an MQTT broker started wherever none answers (development)',
  usage: USAGE,
  async run(args, io) {
    const { positional } = parseCommandLine(args, {});
    let file = positional;
    if (file === undefined) {
      file = resolve(io.cwd, 'host.toml');
      if (!existsSync(file)) throw new UsageError(`dev needs host.toml: there is none in ${io.cwd}; give its path (in this repository: examples/iot/host.toml)`);
    }
    return runHost(file, {
      env: io.env,
      cwd: io.cwd,
      err: io.err,
      ...(io.hostDir === undefined ? {} : { hostDir: io.hostDir }),
      prepare: async (host, logger) => {
        const { brokers, stop } = await startDevBrokers(host);
        for (const broker of brokers) io.err(describe(broker));
        logger.info({ brokers }, 'danube-connect dev: brokers');
        return async () => {
          await stop();
          if (brokers.some((b) => b.state === 'started')) logger.info('danube-connect dev: stopped the brokers it started');
        };
      },
    });
  },
};
