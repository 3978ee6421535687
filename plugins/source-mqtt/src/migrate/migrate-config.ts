import { isAbsolute } from 'node:path';
import { topicFilterProblem, parseTopicFilter } from '@danube-connect/mqtt';
import { maskUrlCredentials, parseBrokerUrl } from '@danube-connect/sdk/core';
import schema from '../../schema.json' with { type: 'json' };
import { filterCovers } from '../config.js';
import type { MigrationMessage, ReferenceConfig, ReferenceSchema, VersionStrategy } from './reference-config.js';
import { QOS_NAMES, SCHEMA_TYPES } from './reference-keys.js';

/** A string value written as `"${NAME}"`: the host reads it from its environment at start. */
export class EnvReference {
  constructor(readonly variable: string) {}
}

export type TomlValue = string | number | boolean | EnvReference | { readonly [key: string]: TomlValue };

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

type Property = { minimum?: number; maximum?: number; pattern?: string };
const PROPERTIES = schema.properties as Record<string, Property>;
const ROUTE_PROPERTIES = schema.$defs.route.properties as Record<string, Property>;
const DANUBE_TOPIC = new RegExp(ROUTE_PROPERTIES['to']?.pattern ?? '^$');
const CONNECTOR_NAME = /^[A-Za-z0-9_-]{1,100}$/;
const LOG_LEVELS: Readonly<Record<string, string>> = { error: 'error', warn: 'warn', info: 'info', debug: 'debug', trace: 'trace', off: 'silent' };

/**
 * Maps a reference config (read by readReferenceConfig) onto this plugin's host.toml entry. The policy, in the
 * README "Coming from the Rust source-mqtt": every key written is carried, translated; an `error` means the
 * result would not do what the file asks (a value this plugin cannot express or would refuse), a `warning` that
 * it behaves differently or belongs to host-wide settings, a `note` that a key has no effect here or there.
 */
export function migrateConfig(ref: ReferenceConfig, fromEnv: ReadonlyMap<string, string>, options: MigrateOptions): { connector?: MigratedConnector; messages: MigrationMessage[] } {
  const messages: MigrationMessage[] = [];
  const say = (level: MigrationMessage['level'], key: string, text: string) => messages.push({ level, key, text });
  const origin = (key: string) => {
    const variable = fromEnv.get(key);
    return variable ? ` (from the environment variable ${variable})` : '';
  };
  /** Checks a mapped number against this plugin's schema limits. */
  const fits = (key: string, ours: string, value: number, property: Property | undefined): boolean => {
    if (property?.minimum !== undefined && value < property.minimum) say('error', key, `becomes ${ours} = ${value}, below this plugin's minimum ${property.minimum}`);
    else if (property?.maximum !== undefined && value > property.maximum) say('error', key, `becomes ${ours} = ${value}, above this plugin's maximum ${property.maximum}`);
    else return true;
    return false;
  };

  // Core keys: the Danube connection, the name, the runtime settings.
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

  // [mqtt]: the connection.
  const mqtt = ref.mqtt;
  const config: Record<string, TomlValue> = {};
  const host = mqtt.broker_host;
  const port = mqtt.broker_port ?? 1883;
  if (host === '' || /[\s/@?#]/.test(host)) say('error', 'mqtt.broker_host', `${host === '' ? 'is empty' : 'is not a host name or address'}${origin('mqtt.broker_host')}`);
  if (port === 0) say('error', 'mqtt.broker_port', `0 is not a port${origin('mqtt.broker_port')}`);
  const scheme = mqtt.use_tls ? 'mqtts' : 'mqtt';
  config['url'] = `${scheme}://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
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
  if (mqtt.keep_alive_secs !== undefined && fits('mqtt.keep_alive_secs', 'keepalive_s', mqtt.keep_alive_secs, PROPERTIES['keepalive_s'])) config['keepalive_s'] = mqtt.keep_alive_secs;
  if (mqtt.connection_timeout_secs !== undefined) {
    const ms = mqtt.connection_timeout_secs * 1000;
    if (fits('mqtt.connection_timeout_secs', 'connect_timeout_ms', ms, PROPERTIES['connect_timeout_ms'])) {
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
  if (mqtt.max_packet_size !== undefined && fits('mqtt.max_packet_size', 'max_packet_size', mqtt.max_packet_size, PROPERTIES['max_packet_size'])) config['max_packet_size'] = mqtt.max_packet_size;
  if (mqtt.include_metadata !== undefined) config['include_metadata'] = mqtt.include_metadata;
  if (mqtt.tcp_nodelay === false) say('error', 'mqtt.tcp_nodelay', '= false cannot be expressed: this plugin always disables Nagle\'s algorithm (TCP no-delay)');
  else if (mqtt.tcp_nodelay === true) say('note', 'mqtt.tcp_nodelay', 'not carried: always on here');

  // [[mqtt.routes]] and the [[schemas]] of their topics.
  const routes = migrateRoutes(ref, say);
  attachSchemas(ref.schemas ?? [], ref, routes, say);
  say('note', '', 'payloads now reach Danube byte for byte (the reference re-encoded them as JSON: consumers of its {"data": "<base64>"} wrapper must change) and each message is acknowledged to the broker only once Danube has it; check the result with danube-connect validate');
  if (messages.some((m) => m.level === 'error')) return { messages };
  return { connector: { serviceUrl, connector, config, routes }, messages };
}

type Say = (level: MigrationMessage['level'], key: string, text: string) => void;

function migrateRoutes(ref: ReferenceConfig, say: Say): Record<string, TomlValue>[] {
  const routes = ref.mqtt.routes;
  if (routes.length === 0) say('error', 'mqtt.routes', 'is empty: the reference refuses to start without a route');
  const filters: (string | undefined)[] = [];
  return routes.map((route, i) => {
    const at = `mqtt.routes[${i}]`;
    const out: Record<string, TomlValue> = { from: route.from, to: route.to };
    const problem = topicFilterProblem(route.from);
    if (problem) say('error', `${at}.from`, `${problem} (the reference failed at start too)`);
    const filter = problem ? undefined : parseTopicFilter(route.from).filter;
    filters.push(filter);
    if (filter !== undefined) {
      const earlier = filters.findIndex((f, j) => j < i && f !== undefined && filterCovers(f, filter));
      if (earlier >= 0) say('error', `${at}.from`, `every topic "${route.from}" matches goes to mqtt.routes[${earlier}] ("${routes[earlier]?.from}") first, there as here (the first match wins): this route never got a message; remove it or put it first`);
      if (route.from.startsWith('$share/')) say('note', `${at}.from`, 'a shared subscription: the reference dropped its messages after acknowledging them (its matcher kept "$share/<group>/"); they are delivered here');
    }
    if (!DANUBE_TOPIC.test(route.to)) say('error', `${at}.to`, `"${route.to}" is not a Danube topic /<namespace>/<topic> (letters, digits, _ and -): the reference did not check it, this plugin does`);
    if (route.qos !== undefined) {
      const qos = QOS_NAMES[route.qos] as 0 | 1 | 2;
      out['qos'] = qos;
      if (qos === 2) say('note', `${at}.qos`, '"ExactlyOnce" becomes qos = 2: the reference acknowledged on receipt (at most once); here PUBREC waits for Danube');
    }
    if (route.partitions !== undefined && fitsRoute(say, `${at}.partitions`, route.partitions)) out['partitions'] = route.partitions;
    if (route.reliable_dispatch !== undefined) out['reliable'] = route.reliable_dispatch;
    const same = routes.findIndex((r) => r.to === route.to);
    const other = routes[same];
    if (other && same < i) {
      const reliable = (r: typeof route) => r.reliable_dispatch ?? (r.qos ?? 'AtLeastOnce') !== 'AtMostOnce';
      if ((other.partitions ?? 0) !== (route.partitions ?? 0) || reliable(other) !== reliable(route)) {
        say('error', at, `writes to ${route.to} like mqtt.routes[${same}] with other partitions or reliable_dispatch: the reference made a producer per route under one name (the last one won); routes sharing a Danube topic must agree here`);
      }
    }
    return out;
  });
}

function fitsRoute(say: Say, key: string, partitions: number): boolean {
  const max = ROUTE_PROPERTIES['partitions']?.maximum;
  if (max !== undefined && partitions > max) {
    say('error', key, `= ${partitions} is above this plugin's maximum ${max}`);
    return false;
  }
  return true;
}

const versionOf = (strategy: VersionStrategy): TomlValue => (strategy === 'latest' ? 'latest' : { ...strategy });

/** Each `[[schemas]]` entry becomes `schema` of every route whose `to` is its topic. */
function attachSchemas(schemas: readonly ReferenceSchema[], ref: ReferenceConfig, routes: Record<string, TomlValue>[], say: Say): void {
  const seen = new Map<string, number>();
  schemas.forEach((entry, i) => {
    const at = `schemas[${i}]`;
    const first = seen.get(entry.topic);
    if (first !== undefined) {
      say('error', `${at}.topic`, `"${entry.topic}" has a schema already (schemas[${first}]): a topic has one schema`);
      return;
    }
    seen.set(entry.topic, i);
    const targets = ref.mqtt.routes.flatMap((route, j) => (route.to === entry.topic ? [j] : []));
    if (targets.length === 0) {
      say('error', `${at}.topic`, `"${entry.topic}": no route writes to it; the reference only warned and went on without the schema; fix the topic or remove the entry`);
      return;
    }
    const known = SCHEMA_TYPES[entry.schema_type.toLowerCase()];
    if (!known) {
      say('error', `${at}.schema_type`, `"${entry.schema_type}" is not a schema type of the reference: ${Object.keys(SCHEMA_TYPES).join(', ')}`);
      return;
    }
    const needsFile = known.type === 'json_schema' || known.type === 'avro' || known.type === 'protobuf';
    const out: Record<string, TomlValue> = { subject: entry.subject, type: known.type };
    if (entry.subject === '') say('error', `${at}.subject`, 'is empty');
    if (entry.schema_file === '') {
      if (needsFile) say('error', `${at}.schema_file`, `is empty, but a ${entry.schema_type} schema is read from a file (the reference failed at start)`);
    } else if (!needsFile) {
      say('note', `${at}.schema_file`, `not carried: a ${known.type} schema has no file (the reference did not read it)`);
    } else {
      out['file'] = entry.schema_file;
      if (!isAbsolute(entry.schema_file)) say('warning', `${at}.schema_file`, `"${entry.schema_file}" is relative: the reference read it from its working directory, the host reads it from host.toml's folder; place host.toml accordingly or make the path absolute`);
    }
    if (entry.auto_register !== undefined) out['auto_register'] = entry.auto_register;
    if (entry.version_strategy !== undefined) out['version'] = versionOf(entry.version_strategy);
    const routeNames = targets.map((j) => `mqtt.routes[${j}]`).join(', ');
    // json_schema, string and number payloads are checked before publishing here (docs/delivery-semantics.md §3.4).
    const checked = ['json_schema', 'string', 'number'].includes(known.type);
    const invalid = checked ? '; a payload that does not fit goes to [connectors.processing] dead_letter_topic, or is counted and dropped when none is set' : '';
    say(checked ? 'warning' : 'note', at, `becomes the schema of ${routeNames}, type "${known.type}": ${known.note}${invalid}`);
    for (const j of targets) (routes[j] as Record<string, TomlValue>)['schema'] = out;
  });
}
