import { parse } from 'smol-toml';
import { ENV_OVERRIDES, REFERENCE_KEYS, QOS_NAMES, type ReferenceKey } from './reference-keys.js';

/** One thing the migration says about a key: `error` = the result would not be equivalent, nothing is printed. */
export interface MigrationMessage {
  level: 'error' | 'warning' | 'note';
  /** The reference's key path (`mqtt.routes[0].qos`), an environment variable, or '' for the file. */
  key: string;
  text: string;
}

export type VersionStrategy = 'latest' | { pinned: number } | { minimum: number };

interface ReferenceRoute {
  from: string;
  to: string;
  qos?: string;
  partitions?: number;
  reliable_dispatch?: boolean;
}

export interface ReferenceSchema {
  topic: string;
  subject: string;
  schema_type: string;
  schema_file: string;
  auto_register?: boolean;
  version_strategy?: VersionStrategy;
}

/** A reference connector.toml that the reference itself would accept, environment overrides applied. */
export interface ReferenceConfig {
  danube_service_url: string;
  connector_name: string;
  retry?: Record<string, number>;
  processing?: Record<string, number | string>;
  schemas?: ReferenceSchema[];
  mqtt: {
    broker_host: string;
    broker_port?: number;
    client_id: string;
    username?: string;
    password?: string;
    use_tls?: boolean;
    keep_alive_secs?: number;
    connection_timeout_secs?: number;
    max_packet_size?: number;
    clean_session?: boolean;
    include_metadata?: boolean;
    tcp_nodelay?: boolean;
    routes: ReferenceRoute[];
  };
}

export interface ReadReference {
  config?: ReferenceConfig;
  /** Keys whose value came from the environment, by key: the variable. */
  fromEnv: Map<string, string>;
  messages: MigrationMessage[];
}

type Table = Record<string, unknown>;

const isTable = (value: unknown): value is Table => value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);

/** Names used before the reference's 0.3 (`[[mqtt.topic_mappings]]` with `mqtt_topic`, `danube_topic`): 0.3 refuses them too. */
const RENAMED: Readonly<Record<string, string>> = {
  'mqtt.topic_mappings': 'the name before the reference\'s 0.3: write [[mqtt.routes]] (mqtt_topic → from, danube_topic → to), as 0.3 requires',
  'mqtt.routes[].mqtt_topic': 'the name before the reference\'s 0.3: write from',
  'mqtt.routes[].danube_topic': 'the name before the reference\'s 0.3: write to',
};

const typeProblem = (spec: ReferenceKey, value: unknown): string | undefined => {
  switch (spec.type) {
    case 'string':
      return typeof value === 'string' ? undefined : 'must be a string';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) return 'must be a whole number ≥ 0';
      return spec.max !== undefined && value > spec.max ? `must be at most ${spec.max}` : undefined;
    case 'table':
      return isTable(value) ? undefined : `must be a table ([${spec.key}])`;
    case 'tables':
      return Array.isArray(value) && value.every(isTable) ? undefined : `must be an array of tables ([[${spec.key.replace(/\[\]/g, '')}]])`;
    case 'qos':
      return typeof value === 'string' && value in QOS_NAMES
        ? undefined
        : `must be one of ${Object.keys(QOS_NAMES).map((n) => `"${n}"`).join(', ')} (the reference's names; here qos = 0, 1, 2)`;
    case 'version_strategy': {
      if (value === 'latest') return undefined;
      const entries = isTable(value) ? Object.entries(value) : [];
      const [name, n] = entries[0] ?? [];
      // Registry versions start at 1: the reference parses 0 and then finds no such version.
      const ok = entries.length === 1 && (name === 'pinned' || name === 'minimum') && typeof n === 'number' && Number.isInteger(n) && n >= 1;
      return ok ? undefined : 'must be "latest", { pinned = N } or { minimum = N } with N ≥ 1';
    }
  }
};

/** Checks one table against the keys REFERENCE_KEYS lists below `prefix` (`mqtt`, `mqtt.routes[]`), recursing. */
function checkTable(table: Table, prefix: string, at: string, messages: MigrationMessage[]): void {
  const below = REFERENCE_KEYS.filter((spec) => {
    const rest = prefix === '' ? spec.key : spec.key.startsWith(`${prefix}.`) ? spec.key.slice(prefix.length + 1) : undefined;
    return rest !== undefined && !rest.includes('.');
  });
  const path = (name: string) => (at === '' ? name : `${at}.${name}`);
  const nameOf = (spec: ReferenceKey) => spec.key.slice(prefix === '' ? 0 : prefix.length + 1);
  for (const [name, value] of Object.entries(table)) {
    const spec = below.find((s) => nameOf(s) === name);
    if (!spec) {
      const renamed = RENAMED[prefix === '' ? name : `${prefix}.${name}`];
      const known = below.map(nameOf).join(', ');
      messages.push({ level: 'error', key: path(name), text: renamed ?? `is not a key of the reference (which ignored unknown keys): a typo loses a setting; expected one of: ${known}` });
      continue;
    }
    const problem = typeProblem(spec, value);
    if (problem) {
      messages.push({ level: 'error', key: path(name), text: problem });
      continue;
    }
    if (spec.type === 'table') checkTable(value as Table, spec.key, path(name), messages);
    if (spec.type === 'tables') (value as Table[]).forEach((entry, i) => checkTable(entry, `${spec.key}[]`, `${path(name)}[${i}]`, messages));
  }
  for (const spec of below) {
    if (spec.required && !(nameOf(spec) in table)) messages.push({ level: 'error', key: path(nameOf(spec)), text: 'is required (the reference refuses the file without it, whatever the environment says)' });
  }
}

/** Where `key` (`mqtt.broker_port`) lives in the document: its table and its name. */
function slot(doc: Table, key: string): { table: Table; name: string } | undefined {
  const parts = key.split('.');
  let table: unknown = doc;
  for (const part of parts.slice(0, -1)) table = isTable(table) ? table[part] : undefined;
  return isTable(table) ? { table, name: parts.at(-1) as string } : undefined;
}

/**
 * Applies the reference's environment overrides (after parsing, as it does). The reference ignores a port or a
 * boolean it cannot parse and keeps the file's value; here that is an error. Values are never quoted: one may be
 * the password.
 */
function applyEnv(doc: Table, env: NodeJS.ProcessEnv, fromEnv: Map<string, string>, messages: MigrationMessage[]): void {
  for (const override of ENV_OVERRIDES) {
    const raw = env[override.variable];
    if (raw === undefined || override.parse === 'path' || override.parse === 'log_filter') continue; // the file, the log level: read elsewhere
    const target = slot(doc, override.overrides);
    if (!target) continue; // [mqtt] is missing: reported
    let value: string | number | boolean = raw;
    if (override.parse === 'port') {
      // Rust's u16 parse: digits, an optional leading +; 0 parses there and fails to connect.
      const port = /^\+?\d{1,5}$/.test(raw) ? Number(raw) : NaN;
      if (!(port >= 1 && port <= 65535)) {
        messages.push({ level: 'error', key: override.variable, text: `(environment) is not a port 1–65535; the reference would silently keep ${override.overrides} = ${String(target.table[target.name] ?? 1883)}, refused here` });
        continue;
      }
      value = port;
    } else if (override.parse === 'bool') {
      if (raw !== 'true' && raw !== 'false') {
        messages.push({ level: 'error', key: override.variable, text: `(environment) must be true or false; the reference would silently keep ${override.overrides} = ${String(target.table[target.name] ?? false)}, refused here` });
        continue;
      }
      value = raw === 'true';
    } else if (raw === '') {
      messages.push({ level: 'error', key: override.variable, text: `(environment) is set but empty, which the reference takes as ${override.overrides} = ""` });
      continue;
    }
    target.table[target.name] = value;
    fromEnv.set(override.overrides, override.variable);
  }
}

/** Parses and checks a reference connector.toml as the reference reads it: TOML, its keys and types, then the environment. */
export function readReferenceConfig(text: string, env: NodeJS.ProcessEnv): ReadReference {
  const messages: MigrationMessage[] = [];
  const fromEnv = new Map<string, string>();
  let doc: Table;
  try {
    doc = parse(text) as Table;
  } catch (err) {
    const { line, column } = err as { line?: number; column?: number };
    const where = line === undefined ? '' : ` (line ${line}, column ${column ?? '?'})`;
    messages.push({ level: 'error', key: '', text: `is not valid TOML${where}: ${(err as Error).message.split('\n')[0]}` });
    return { fromEnv, messages };
  }
  checkTable(doc, '', '', messages);
  if (messages.length > 0) return { fromEnv, messages };
  applyEnv(doc, env, fromEnv, messages);
  if (messages.length > 0) return { fromEnv, messages };
  return { config: doc as unknown as ReferenceConfig, fromEnv, messages };
}
