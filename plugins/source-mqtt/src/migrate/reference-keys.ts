// The keys of the Rust reference's connector.toml (source-mqtt 0.3 on danube-connect-core 0.5) and where each goes
// here: the one list the migration reads a file by (known keys, types, required keys) and the README's migration
// table is rendered from (test/readme.test.ts). The facts are in README.md "Coming from the Rust source-mqtt".

/** How the reference's serde reads a value; anything else is a parse error there. */
type ReferenceType = 'string' | 'integer' | 'boolean' | 'table' | 'tables' | 'qos' | 'version_strategy';

export interface ReferenceKey {
  /** Path in connector.toml: `mqtt.broker_port`, `mqtt.routes[].qos`. */
  readonly key: string;
  readonly type: ReferenceType;
  /** The reference refuses the file without it (serde reads the file before the environment overrides). */
  readonly required?: boolean;
  /** Largest value (u16 keys); integers are never negative there. */
  readonly max?: number;
  /** The reference's default, as TOML. */
  readonly default?: string;
  /** Where it goes in host.toml (Markdown). */
  readonly here: string;
  /** What differs, and why (Markdown). */
  readonly note: string;
}

const ROOT = '`[[connectors]]`';
const CONFIG = '`[connectors.config]`';

export const REFERENCE_KEYS: readonly ReferenceKey[] = [
  { key: 'danube_service_url', type: 'string', required: true, here: '`[danube] service_url`', note: 'host-wide: one per host.toml (or `[connectors.danube] service_url` for one connector)' },
  { key: 'connector_name', type: 'string', required: true, here: `${ROOT} \`name\``, note: 'letters, digits, `_` and `-` only; `--name` replaces it' },
  { key: 'retry', type: 'table', here: '—', note: 'see its keys' },
  { key: 'retry.max_retries', type: 'integer', default: '3', here: '—', note: "the reference's source never retried (its sinks did); here a failed Danube send is retried per `[connectors.processing]` `max_retries` (5)" },
  { key: 'retry.retry_backoff_ms', type: 'integer', default: '1000', here: '—', note: 'as `retry.max_retries`; here `[connectors.processing]` `retry_initial_delay_ms` (200)' },
  { key: 'retry.max_backoff_ms', type: 'integer', default: '30000', here: '—', note: 'as `retry.max_retries`; here `[connectors.processing]` `retry_max_delay_ms` (30000)' },
  { key: 'processing', type: 'table', here: '—', note: 'see its keys' },
  { key: 'processing.batch_size', type: 'integer', default: '1000', here: '—', note: "the reference's source used it as its channel size; here `receive_maximum` (64) bounds what is in flight" },
  { key: 'processing.batch_timeout_ms', type: 'integer', default: '1000', here: '—', note: 'sinks only' },
  { key: 'processing.poll_interval_ms', type: 'integer', default: '100', here: '—', note: 'the broker pushes to this source; nothing polls' },
  { key: 'processing.metrics_port', type: 'integer', max: 65535, default: '9090', here: '`[host] http`', note: 'host-wide: `/metrics` of every connector on `127.0.0.1:9464` by default (the reference bound `0.0.0.0`); not printed, set it yourself' },
  { key: 'processing.log_level', type: 'string', default: '"info"', here: `${ROOT} \`log_level\``, note: 'the reference ignored it (`RUST_LOG` decided); applied here' },
  { key: 'processing.health_check_interval_ms', type: 'integer', default: '30000', here: '—', note: "the host supervises each connector (`[host] ping_interval_ms`, `[host.restart]`); health follows the MQTT connection" },
  { key: 'processing.health_check_failure_threshold', type: 'integer', default: '3', here: '—', note: 'as `processing.health_check_interval_ms`' },
  { key: 'schemas', type: 'tables', here: '`routes[].schema` of each route whose `to` is the topic', note: 'a topic no route writes to is an error (the reference warned and went on without it)' },
  { key: 'schemas[].topic', type: 'string', required: true, here: 'the routes with `to` = topic', note: 'two entries for one topic are an error' },
  { key: 'schemas[].subject', type: 'string', required: true, here: '`routes[].schema.subject`', note: '' },
  { key: 'schemas[].schema_type', type: 'string', required: true, here: '`routes[].schema.type`', note: 'see the schema types below' },
  { key: 'schemas[].schema_file', type: 'string', required: true, here: '`routes[].schema.file`', note: '`""` = none (string, number, bytes only); a relative path (read from the working directory there, from the host.toml folder here) is a warning' },
  { key: 'schemas[].auto_register', type: 'boolean', default: 'true', here: '`routes[].schema.auto_register`', note: '' },
  { key: 'schemas[].version_strategy', type: 'version_strategy', default: '"latest"', here: '`routes[].schema.version`', note: '`"latest"`, `{ pinned = N }`, `{ minimum = N }` as there' },
  { key: 'mqtt', type: 'table', required: true, here: CONFIG, note: 'unknown keys are errors here (the reference ignored them)' },
  { key: 'mqtt.broker_host', type: 'string', required: true, here: '`url = "mqtt://<host>:<port>"`', note: 'or `servers = [...]` for failover' },
  { key: 'mqtt.broker_port', type: 'integer', max: 65535, default: '1883', here: 'the port of `url`', note: '' },
  { key: 'mqtt.client_id', type: 'string', required: true, here: '`client_id`', note: 'optional here (default `danube-<name>`); carried so the broker sees the same client' },
  { key: 'mqtt.username', type: 'string', here: '`username = "${MQTT_USERNAME}"`', note: 'never printed in clear: the host reads it from its environment; without `password` it is an error (the reference connected anonymously)' },
  { key: 'mqtt.password', type: 'string', here: '`password = "${MQTT_PASSWORD}"`', note: 'as `mqtt.username`' },
  { key: 'mqtt.use_tls', type: 'boolean', default: 'false', here: '`url = "mqtts://…"`', note: 'the reference never applied it (it connected without TLS); here TLS is used, with the system\'s CAs unless `tls.ca` is set' },
  { key: 'mqtt.keep_alive_secs', type: 'integer', default: '60', here: '`keepalive_s`', note: '' },
  { key: 'mqtt.connection_timeout_secs', type: 'integer', default: '30', here: '`connect_timeout_ms` (× 1000)', note: 'the reference never applied it; applied here' },
  { key: 'mqtt.max_packet_size', type: 'integer', default: '10485760', here: '`max_packet_size`', note: 'the largest packet the broker may send us (MQTT 5)' },
  { key: 'mqtt.clean_session', type: 'boolean', default: 'true', here: '`clean_session`', note: '**default false here**, so the broker keeps the session and queues QoS ≥ 1 messages while the connector is away; `true` loses them' },
  { key: 'mqtt.include_metadata', type: 'boolean', default: 'true', here: '`include_metadata`', note: 'the same attributes' },
  { key: 'mqtt.tcp_nodelay', type: 'boolean', default: 'true', here: '—', note: 'always on; `false` is an error' },
  { key: 'mqtt.routes', type: 'tables', required: true, here: '`[[connectors.config.routes]]`', note: 'at least one; first match wins, as there' },
  { key: 'mqtt.routes[].from', type: 'string', required: true, here: '`routes[].from`', note: '`a/#` also matches `a`; `$share/<group>/…` is delivered (the reference dropped it)' },
  { key: 'mqtt.routes[].to', type: 'string', required: true, here: '`routes[].to`', note: 'checked: `/<namespace>/<topic>`' },
  { key: 'mqtt.routes[].qos', type: 'qos', default: '"AtLeastOnce"', here: '`routes[].qos` = 0, 1, 2', note: 'numbers, see below; PUBACK (PUBREC) only once Danube has the message (the reference acknowledged on receipt)' },
  { key: 'mqtt.routes[].partitions', type: 'integer', default: '0', here: '`routes[].partitions`', note: 'the key (the MQTT topic) picks the partition (the reference: round robin)' },
  { key: 'mqtt.routes[].reliable_dispatch', type: 'boolean', here: '`routes[].reliable`', note: 'the same default, from the QoS: 0 → false, 1 and 2 → true' },
];

/** How the reference parses an environment variable; `'bool'` and `'port'` values it cannot parse it ignores silently. */
type EnvParse = 'string' | 'port' | 'bool' | 'path' | 'log_filter';

export interface EnvOverride {
  readonly variable: string;
  /** The key it overrides (REFERENCE_KEYS), or what it is. */
  readonly overrides: string;
  readonly parse: EnvParse;
  readonly note: string;
}

export const ENV_OVERRIDES: readonly EnvOverride[] = [
  { variable: 'CONNECTOR_CONFIG_PATH', overrides: 'the file', parse: 'path', note: 'read when no file is given' },
  { variable: 'DANUBE_SERVICE_URL', overrides: 'danube_service_url', parse: 'string', note: 'the host applies the same variable over `[danube] service_url` at start' },
  { variable: 'CONNECTOR_NAME', overrides: 'connector_name', parse: 'string', note: '' },
  { variable: 'MQTT_BROKER_HOST', overrides: 'mqtt.broker_host', parse: 'string', note: '' },
  { variable: 'MQTT_BROKER_PORT', overrides: 'mqtt.broker_port', parse: 'port', note: 'the reference ignores a value that is not a port silently; refused here' },
  { variable: 'MQTT_CLIENT_ID', overrides: 'mqtt.client_id', parse: 'string', note: '' },
  { variable: 'MQTT_USERNAME', overrides: 'mqtt.username', parse: 'string', note: 'the printed `${MQTT_USERNAME}` reads it when the host starts' },
  { variable: 'MQTT_PASSWORD', overrides: 'mqtt.password', parse: 'string', note: 'the printed `${MQTT_PASSWORD}` reads it when the host starts' },
  { variable: 'MQTT_USE_TLS', overrides: 'mqtt.use_tls', parse: 'bool', note: 'only `true` and `false`: the reference ignores anything else silently; refused here' },
  { variable: 'RUST_LOG', overrides: 'the log level', parse: 'log_filter', note: 'a plain level becomes `log_level` (`off` → `"silent"`); a per-module filter is not carried' },
];

/** The reference's QoS names (rumqttc's enum) and the numbers used here. */
export const QOS_NAMES: Readonly<Record<string, 0 | 1 | 2>> = { AtMostOnce: 0, AtLeastOnce: 1, ExactlyOnce: 2 };

/** The reference's schema types (any case) and ours: the broker takes `json` as an alias of `json_schema` (docs/danube-protocol.md §4.3). */
export const SCHEMA_TYPES: Readonly<Record<string, { type: string; note: string }>> = {
  json_schema: { type: 'json_schema', note: 'payloads are validated against it before publishing here (the reference published everything)' },
  json: { type: 'json_schema', note: "the broker's alias of json_schema, validated as json_schema before publishing here (the reference published everything)" },
  string: { type: 'string', note: 'payloads must be UTF-8 here (the reference sent other payloads as a base64 JSON wrapper)' },
  number: { type: 'number', note: 'payloads must be a 4- or 8-byte binary number here; the reference sent the JSON text of the value ("42"), which is refused here' },
  bytes: { type: 'bytes', note: 'payloads pass through' },
  avro: { type: 'avro', note: 'payloads pass through unvalidated (the reference sent JSON text)' },
  protobuf: { type: 'protobuf', note: 'payloads pass through unvalidated (the reference failed every message)' },
};

const cell = (text: string) => (text === '' ? '' : text.replace(/\|/g, '\\|'));

/** The README's migration tables (between its migration-table markers). */
export function renderMigrationTable(): string {
  const keys = REFERENCE_KEYS.map(
    (k) => `| \`${k.key}\`${k.required ? ' (required)' : ''} | ${k.default === undefined ? '—' : `\`${k.default}\``} | ${cell(k.here)} | ${cell(k.note)} |`,
  );
  const env = ENV_OVERRIDES.map((e) => `| \`${e.variable}\` | ${e.overrides.includes('.') || e.overrides.includes('_') ? `\`${e.overrides}\`` : e.overrides} | ${cell(e.note)} |`);
  const qos = Object.entries(QOS_NAMES).map(([name, n]) => `| \`qos = "${name}"\` | \`qos = ${n}\` |`);
  const types = Object.entries(SCHEMA_TYPES).map(([name, t]) => `| \`schema_type = "${name}"\` | \`type = "${t.type}"\` | ${cell(t.note)} |`);
  return [
    '| reference key | its default | here | what differs |',
    '|---|---|---|---|',
    ...keys,
    '',
    '| environment variable | overrides | what differs |',
    '|---|---|---|',
    ...env,
    '',
    '| reference | here |',
    '|---|---|',
    ...qos,
    '',
    '| reference (any case) | here | what differs |',
    '|---|---|---|',
    ...types,
  ].join('\n');
}
