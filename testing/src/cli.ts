#!/usr/bin/env node
// Command-line TestBroker for benchmarks and manual runs. Unlike package source, a CLI may write to
// stdout/stderr: one "listening" line on start, errors on stderr.
import { parseArgs } from 'node:util';
import { TestBroker } from './test-broker.js';

const USAGE =
  'usage: danube-test-broker [--port 6650] [--admin-port 50051] [--host 127.0.0.1] [--max-message-size BYTES] [--live-tail-capacity N] [--drop-consumed]';

function integer(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new Error(`--${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      'admin-port': { type: 'string' },
      host: { type: 'string' },
      'max-message-size': { type: 'string' },
      // Emulates the broker's live-tail skip (docs/danube-protocol.md §9.4); off unless given.
      'live-tail-capacity': { type: 'string' },
      // Frees what every subscription has acked (TestBrokerOptions.dropConsumed); for long runs and benchmarks.
      'drop-consumed': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  // Standalone broker defaults (docs/danube-protocol.md §1).
  const broker = await TestBroker.start({
    host: values.host ?? '127.0.0.1',
    port: integer('port', values.port, 6650),
    adminPort: integer('admin-port', values['admin-port'], 50051),
    maxMessageSize: integer('max-message-size', values['max-message-size'], 0),
    dropConsumed: values['drop-consumed'] ?? false,
    ...(values['live-tail-capacity'] === undefined ? {} : { liveTailCapacity: integer('live-tail-capacity', values['live-tail-capacity'], 0) }),
  });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    broker.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`TestBroker: stop failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  // Handlers go in before the line is printed: whoever reads it may signal at once, and a signal without a
  // listener would kill the process with the default action.
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.stdout.write(`TestBroker listening service_url=${broker.serviceUrl} admin_url=${broker.adminUrl}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`TestBroker: ${(err as Error).message}\n${USAGE}\n`);
  process.exit(2);
});
