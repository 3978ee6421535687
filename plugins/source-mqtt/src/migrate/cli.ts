#!/usr/bin/env node
// danube-source-mqtt-migrate <connector.toml> [--name <name>]: prints the host.toml equivalent of a Rust
// source-mqtt connector.toml (README "Coming from the Rust source-mqtt"). This entry owns stdout, stderr and the
// exit code: 0 = printed (warnings and notes on stderr), 2 = not equivalent (nothing printed), 64 = usage.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { formatMessage, migrateReference } from './migrate-reference.js';

const USAGE = `usage: danube-source-mqtt-migrate [<connector.toml>] [--name <connector name>]

Reads a connector.toml of the Rust source-mqtt (default: $CONNECTOR_CONFIG_PATH), applies the environment
overrides the reference applies (DANUBE_SERVICE_URL, CONNECTOR_NAME, MQTT_BROKER_HOST, MQTT_BROKER_PORT,
MQTT_CLIENT_ID, MQTT_USERNAME, MQTT_PASSWORD, MQTT_USE_TLS, RUST_LOG) and prints the equivalent host.toml
([danube] and one [[connectors]] entry) on stdout; what changed goes to stderr. Exit 0 when printed, 2 when the
result would not be equivalent (nothing printed), 64 on a bad command line.`;

function run(argv: string[]): number {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { name: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 64;
  }
  if (parsed.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const file = parsed.positionals[0] ?? process.env['CONNECTOR_CONFIG_PATH'];
  if (file === undefined || parsed.positionals.length > 1) {
    process.stderr.write(`${file === undefined ? 'give the connector.toml (or set CONNECTOR_CONFIG_PATH)' : 'one connector.toml at a time'}\n${USAGE}\n`);
    return 64;
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    process.stderr.write(`${file}: error: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})\n`);
    return 2;
  }
  const result = migrateReference(text, { source: basename(file), env: process.env, ...(parsed.values.name === undefined ? {} : { name: parsed.values.name }) });
  for (const message of result.messages) process.stderr.write(`${formatMessage(file, message)}\n`);
  if (result.toml === undefined) {
    const errors = result.messages.filter((m) => m.level === 'error').length;
    process.stderr.write(`${file}: ${errors} error${errors === 1 ? '' : 's'}: nothing printed, the result would not be equivalent\n`);
    return 2;
  }
  process.stdout.write(result.toml);
  return 0;
}

process.exitCode = run(process.argv.slice(2));
