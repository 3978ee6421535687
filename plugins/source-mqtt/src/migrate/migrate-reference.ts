import pkg from '../../package.json' with { type: 'json' };
import { writeHostToml } from './host-toml-writer.js';
import { migrateConfig } from './migrate-config.js';
import { readReferenceConfig, type MigrationMessage } from './reference-config.js';

export interface MigrationResult {
  /** The host.toml text; absent when an error says the result would not be equivalent. */
  toml?: string;
  messages: MigrationMessage[];
}

export interface MigrateReferenceOptions {
  /** How the file is named in the output's header. */
  source: string;
  /** The environment the reference would read (its overrides, RUST_LOG). */
  env: NodeJS.ProcessEnv;
  /** The connector's name instead of connector_name / CONNECTOR_NAME. */
  name?: string;
}

/** A reference connector.toml → the equivalent host.toml text, with every message about what changed. */
export function migrateReference(text: string, options: MigrateReferenceOptions): MigrationResult {
  const read = readReferenceConfig(text, options.env);
  if (!read.config) return { messages: read.messages };
  const migrated = migrateConfig(read.config, read.fromEnv, { env: options.env, ...(options.name === undefined ? {} : { name: options.name }) });
  const messages = [...read.messages, ...migrated.messages];
  if (!migrated.connector) return { messages };
  return { toml: writeHostToml(migrated.connector, pkg.name, options.source), messages };
}

/** One message as printed on stderr: `connector.toml: warning: mqtt.use_tls = true becomes …`. */
export function formatMessage(file: string, message: MigrationMessage): string {
  const key = message.key === '' ? '' : message.text.startsWith('=') || message.text.startsWith('(') ? `${message.key} ` : `${message.key}: `;
  return `${file}: ${message.level}: ${key}${message.text}`;
}
