import { maskUrlCredentials, parseBrokerUrl } from '@danube-connect/sdk/core';
import schema from '../../schema.json' with { type: 'json' };
import { attachSchemas, migrateRoutes, type Say } from './migrate-routes.js';
import type { MigrationMessage, ReferenceConfig } from './reference-config.js';
import { EnvReference, type TomlValue } from './toml-value.js';

/** The host.toml equivalent of one reference connector.toml. */
export interface MigratedConnector {
  /** `[danube] service_url`. */
  serviceUrl: string;
  /** The `[[connectors]]` keys besides `plugin` and `config`. */
  connector: { name: string; log_level?: string };
  /** `[connectors.config]` without `routes`, in print order. */
  config: Record<string, TomlValue>;
  routes: Record<string, TomlValue>[];
}

export interface MigrateOptions {
  /** `--name`: the connector's name instead of connector_name. */
  name?: string;
  /** The environment the reference would have read (RUST_LOG here; the overrides were applied when reading). */
  env: NodeJS.ProcessEnv;
}

type Property = { minimum?: number; maximum?: number };
const PROPERTIES = schema.properties as Record<string, Property>;
const CONNECTOR_NAME = /^[A-Za-z0-9_-]{1,100}$/;
const LOG_LEVELS: Readonly<Record<string, string>> = { error: 'error', warn: 'warn', info: 'info', debug: 'debug', trace: 'trace', off: 'silent' };

/** What each part of the migration shares: where messages go, where a value came from. */
interface Context {
  say: Say;
  /** ` (from the environment variable X)` when the key's value came from the environment, else ''. */
  origin: (key: string) => string;
  fromEnv: ReadonlyMap<string, string>;
}

/**
 * Maps a reference config (read by readReferenceConfig) onto this plugin's host.toml entry. The policy, in the
 * README "Coming from the Rust source-mqtt": every key written is carried, translated; an `error` means the
 * result would not do what the file asks (a value this plugin cannot express or would refuse), a `warning` that
 * it behaves differently or belongs to host-wide settings, a `note` that a key has no effect here or there.
 */
export function migrateConfig(ref: ReferenceConfig, fromEnv: ReadonlyMap<string, string>, options: MigrateOptions): { connector?: MigratedConnector; messages: MigrationMessage[] } {
  const messages: MigrationMessage[] = [];
  const say: Say = (level, key, text) => messages.push({ level, key, text });
  const origin = (key: string) => {
    const variable = fromEnv.get(key);
    return variable ? ` (from the environment variable ${variable})` : '';
  };
  const ctx: Context = { say, origin, fromEnv };
  const { serviceUrl, connector } = migrateCore(ref, options, ctx);
  const config = migrateConnection(ref.mqtt, ctx);
  // [[mqtt.routes]] and the [[schemas]] of their topics.
  const routes = migrateRoutes(ref, say);
  attachSchemas(ref.schemas ?? [], ref, routes, say);
  say('note', '', 'payloads now reach Danube byte for byte (the reference re-encoded them as JSON: consumers of its {"data": "<base64>"} wrapper must change) and each message is acknowledged to the broker only once Danube has it; check the result with danube-connect validate');
  if (messages.some((m) => m.level === 'error')) return { messages };
  return { connector: { serviceUrl, connector, config, routes }, messages };
}

/** The root, [retry] and [processing]: the Danube URL, the connector's name and log level; the rest is said and dropped. */
function migrateCore(ref: ReferenceConfig, options: MigrateOptions, { say, origin }: Context): { serviceUrl: string; connector: MigratedConnector['connector'] } {
  const serviceUrl = ref.danube_service_url;
  try {
    parseBrokerUrl(serviceUrl, 'danube_service_url');
    if (/^[a-z]+:\/\/[^/]*@/i.test(serviceUrl)) throw new Error('danube_service_url has credentials in the URL, which would be printed: use [danube] token = "${DANUBE_TOKEN}" instead');
    say('note', 'danube_service_url', `${origin('danube_service_url')} becomes [danube] service_url, which is host-wide: when this entry joins a host.toml with a [danube] table, keep one service_url (or set [connectors.danube] service_url for this connector only)`.trimStart());
  } catch (err) {
    say('error', 'danube_service_url', `${maskUrlCredentials((err as Error).message.slice('danube_service_url '.length))}${origin('danube_service_url')}`);
  }
  const name = options.name ?? ref.connector_name;
  const nameKey = options.name !== undefined ? '--name' : 'connector_name';
  if (!CONNECTOR_NAME.test(name)) say('error', nameKey, `"${name}"${options.name === undefined ? origin('connector_name') : ''} cannot be a connector name here (letters, digits, _ and -, at most 100)${options.name === undefined ? ': give --name <name>' : ''}`);
  const connector: MigratedConnector['connector'] = { name };
  const retryKeys = Object.keys(ref.retry ?? {});
  if (retryKeys.length > 0) {
    say('note', retryKeys.map((k) => `retry.${k}`).join(', '), "not carried: the reference's source never retried (only its sinks read [retry]); here a failed Danube send is retried per [connectors.processing] max_retries, retry_initial_delay_ms and retry_max_delay_ms");
  }
  // Keys without an equivalent, grouped by the reason so each reason is said once.
  const NOT_CARRIED: Readonly<Record<string, string>> = {
    batch_size: "not carried: the reference's source used it as its channel size; here receive_maximum (default 64) bounds the messages in flight",
    batch_timeout_ms: 'not carried: it applies to sinks only',
    poll_interval_ms: 'not carried: the broker pushes to this source, nothing polls',
    health_check_interval_ms: 'not carried: the host supervises each connector ([host] ping_interval_ms, [host.restart]) and its health follows the MQTT connection',
    health_check_failure_threshold: 'not carried: the host supervises each connector ([host] ping_interval_ms, [host.restart]) and its health follows the MQTT connection',
  };
  const dropped = new Map<string, string[]>();
  for (const [key, value] of Object.entries(ref.processing ?? {})) {
    if (key === 'metrics_port') {
      say('warning', 'processing.metrics_port', `not carried: metrics are host-wide here: [host] http (default "127.0.0.1:9464", loopback) serves /metrics of every connector; for Prometheus on port ${String(value)} of other machines, set [host] http = "0.0.0.0:${String(value)}" (it serves /connectors too: see [host] allowed_hosts)`);
    } else if (key === 'log_level') {
      const level = LOG_LEVELS[String(value).toLowerCase()];
      if (level === undefined) say('warning', 'processing.log_level', `not carried: "${String(value)}" is not a level (error, warn, info, debug, trace, off); the reference ignored it anyway`);
      else {
        connector.log_level = level;
        say('note', 'processing.log_level', `becomes log_level = "${level}"; the reference ignored it (RUST_LOG decided), it applies here`);
      }
    } else {
      const reason = NOT_CARRIED[key] ?? 'not carried';
      dropped.set(reason, [...(dropped.get(reason) ?? []), `processing.${key}`]);
    }
  }
  for (const [reason, keys] of dropped) say('note', keys.join(', '), reason);
  const rustLog = options.env['RUST_LOG'];
  if (rustLog !== undefined && rustLog !== '') {
    const level = LOG_LEVELS[rustLog.toLowerCase()];
    if (level === undefined) say('warning', 'RUST_LOG', '(environment) is a per-module filter, not carried: set log_level in [[connectors]] (error, warn, info, debug, trace)');
    else {
      connector.log_level = level;
      say('note', 'RUST_LOG', `(environment) becomes log_level = "${level}", as it decided the reference's level`);
    }
  }

  return { serviceUrl, connector };
}

/** Checks a mapped number against this plugin's schema limits. */
function fits(say: Say, key: string, ours: string, value: number, property: Property | undefined): boolean {
  if (property?.minimum !== undefined && value < property.minimum) say('error', key, `becomes ${ours} = ${value}, below this plugin's minimum ${property.minimum}`);
  else if (property?.maximum !== undefined && value > property.maximum) say('error', key, `becomes ${ours} = ${value}, above this plugin's maximum ${property.maximum}`);
  else return true;
  return false;
}

/** [mqtt] without its routes → `[connectors.config]`: the URL, the client, the credentials as environment references. */
function migrateConnection(mqtt: ReferenceConfig['mqtt'], { say, origin, fromEnv }: Context): Record<string, TomlValue> {
  const config: Record<string, TomlValue> = {};
  const host = mqtt.broker_host;
  const port = mqtt.broker_port ?? 1883;
  // An IPv6 address goes into brackets in the URL; any other ":" is a port written into the host.
  const ipv6 = /^[0-9A-Fa-f:.]+$/.test(host) && host.includes(':');
  if (host === '' || /[\s/@?#[\]]/.test(host)) say('error', 'mqtt.broker_host', `${host === '' ? 'is empty' : 'is not a host name or address'}${origin('mqtt.broker_host')}`);
  else if (host.includes(':') && !ipv6) say('error', 'mqtt.broker_host', `has a ":"${origin('mqtt.broker_host')}: the reference took it as part of the host name; give the port as mqtt.broker_port`);
  if (port === 0) say('error', 'mqtt.broker_port', `0 is not a port${origin('mqtt.broker_port')}`);
  const scheme = mqtt.use_tls ? 'mqtts' : 'mqtt';
  config['url'] = `${scheme}://${ipv6 ? `[${host}]` : host}:${port}`;
  if (mqtt.use_tls) {
    say('warning', 'mqtt.use_tls', `= true${origin('mqtt.use_tls')} becomes url = "${String(config['url'])}": the reference never applied it and connected without TLS; here TLS is used and the broker's certificate checked against the system's CAs: for a private CA add tls = { ca = "<file>" } to [connectors.config] (tls.cert and tls.key for a client certificate)`);
  }
  if (mqtt.client_id === '') say('error', 'mqtt.client_id', `is empty${origin('mqtt.client_id')}`);
  config['client_id'] = mqtt.client_id;
  const hasUser = mqtt.username !== undefined;
  const hasPassword = mqtt.password !== undefined;
  if (hasUser !== hasPassword) {
    const [set, unset] = hasUser ? ['username', 'password'] : ['password', 'username'];
    say('error', `mqtt.${set}`, `is set${origin(`mqtt.${set}`)} but mqtt.${unset} is not: the reference then dropped it and connected anonymously; this plugin refuses one without the other: set both, or remove it`);
  } else if (hasUser) {
    config['username'] = new EnvReference('MQTT_USERNAME');
    config['password'] = new EnvReference('MQTT_PASSWORD');
    for (const [key, variable] of [['mqtt.username', 'MQTT_USERNAME'], ['mqtt.password', 'MQTT_PASSWORD']] as const) {
      const from = fromEnv.has(key) ? `comes from ${variable}` : `is in the file: set ${variable} to it in the host's environment`;
      say('note', key, `is written as "\${${variable}}", never in clear; it ${from} (the host reads the variable at start and masks the value)`);
    }
  }
  if (mqtt.keep_alive_secs !== undefined && fits(say, 'mqtt.keep_alive_secs', 'keepalive_s', mqtt.keep_alive_secs, PROPERTIES['keepalive_s'])) config['keepalive_s'] = mqtt.keep_alive_secs;
  if (mqtt.connection_timeout_secs !== undefined) {
    const ms = mqtt.connection_timeout_secs * 1000;
    if (fits(say, 'mqtt.connection_timeout_secs', 'connect_timeout_ms', ms, PROPERTIES['connect_timeout_ms'])) {
      config['connect_timeout_ms'] = ms;
      say('note', 'mqtt.connection_timeout_secs', `becomes connect_timeout_ms = ${ms}; the reference never applied it, it applies here`);
    }
  }
  if (mqtt.clean_session === true) {
    config['clean_session'] = true;
    say('warning', 'mqtt.clean_session', '= true is carried: the broker drops the session and what was queued for the connector whenever it is away; remove it to get this plugin\'s default false, which loses nothing while the connector restarts');
  } else if (mqtt.clean_session === false) {
    config['clean_session'] = false;
  } else {
    say('note', 'mqtt.clean_session', "is not set: the reference's default was true; here the default is false, so the broker keeps the session while the connector is away");
  }
  if (mqtt.max_packet_size !== undefined && fits(say, 'mqtt.max_packet_size', 'max_packet_size', mqtt.max_packet_size, PROPERTIES['max_packet_size'])) config['max_packet_size'] = mqtt.max_packet_size;
  if (mqtt.include_metadata !== undefined) config['include_metadata'] = mqtt.include_metadata;
  if (mqtt.tcp_nodelay === false) say('error', 'mqtt.tcp_nodelay', '= false cannot be expressed: this plugin always disables Nagle\'s algorithm (TCP no-delay)');
  else if (mqtt.tcp_nodelay === true) say('note', 'mqtt.tcp_nodelay', 'not carried: always on here');

  return config;
}
