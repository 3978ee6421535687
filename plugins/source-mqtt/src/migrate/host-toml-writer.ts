import type { MigratedConnector } from './migrate-config.js';
import { EnvReference, type TomlValue } from './toml-value.js';

/**
 * A TOML basic string the host reads back as `text`: JSON's escapes are TOML's, and `${` is written `$${` so the
 * host does not expand it (README "host.toml": `$${` is a literal `${`).
 */
const literal = (text: string) => JSON.stringify(text.replaceAll('${', () => '$${')); // a function: in a replacement string "$$" is one "$"

function value(v: TomlValue): string {
  if (v instanceof EnvReference) return `"\${${v.variable}}"`;
  if (typeof v === 'string') return literal(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return `{ ${Object.entries(v)
    .map(([k, inner]) => `${k} = ${value(inner)}`)
    .join(', ')} }`;
}

const lines = (table: Record<string, TomlValue>) => Object.entries(table).map(([k, v]) => `${k} = ${value(v)}`);

/** The host.toml text of one migrated connector: `[danube]`, then its `[[connectors]]` entry with config and routes. */
export function writeHostToml(migrated: MigratedConnector, plugin: string, source: string): string {
  const { connector } = migrated;
  const out = [
    `# Migrated from ${source} (the Rust source-mqtt) by danube-source-mqtt-migrate; what changed is on its stderr.`,
    '',
    '[danube]',
    `service_url = ${literal(migrated.serviceUrl)}`,
    '',
    '[[connectors]]',
    `name = ${literal(connector.name)}`,
    `plugin = ${literal(plugin)}`,
    ...(connector.log_level === undefined ? [] : [`log_level = ${literal(connector.log_level)}`]),
    '',
    '[connectors.config]',
    ...lines(migrated.config),
  ];
  for (const route of migrated.routes) out.push('', '[[connectors.config.routes]]', ...lines(route));
  return `${out.join('\n')}\n`;
}
