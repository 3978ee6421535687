import type { IClientOptions } from 'mqtt';
import { serverUrls, type MqttConnectionConfig } from './connection-config.js';
import { loadTlsMaterial } from './tls-material.js';

type Protocol = 'mqtt' | 'mqtts' | 'ws' | 'wss';

/** One broker endpoint as MQTT.js's `servers` option takes it. */
export interface ServerEndpoint {
  host: string;
  port: number;
  protocol: Protocol;
}

const DEFAULT_PORTS: Record<Protocol, number> = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 };

/** Parses `mqtt[s]://host[:port]` / `ws[s]://host[:port][/path]` (the schema checked the scheme). */
export function parseServerUrl(url: string): ServerEndpoint & { path: string } {
  const parsed = new URL(url);
  const protocol = parsed.protocol.replace(/:$/, '') as Protocol;
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port: parsed.port ? Number(parsed.port) : DEFAULT_PORTS[protocol], protocol, path: parsed.pathname || '/' };
}

/** Where a connection goes, for logs and health (never credentials: they are not part of our URLs). */
export function describeEndpoint(endpoint: Pick<ServerEndpoint, 'host' | 'port' | 'protocol'>): string {
  return `${endpoint.protocol}://${endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
}

function ignoreLog(): void {}

/**
 * MQTT.js options for `config` (defaults applied). Reconnecting is ours (backoff with jitter, protocol
 * fallback), so MQTT.js's own is off; so is its resubscribe (we subscribe only when the broker kept no session).
 * TLS files are read here: an unreadable or non-PEM file throws a config error naming the key.
 */
export function toMqttOptions(config: MqttConnectionConfig, clientId: string, protocolVersion: 4 | 5 = config.protocol_version): IClientOptions {
  const endpoints = serverUrls(config).map(parseServerUrl);
  const first = endpoints[0];
  if (!first) throw new RangeError('an MQTT connection needs url or servers');
  const tls = loadTlsMaterial(config.tls);
  const options: IClientOptions = {
    clientId,
    protocolVersion,
    keepalive: config.keepalive_s,
    connectTimeout: config.connect_timeout_ms,
    reconnectPeriod: 0,
    resubscribe: false,
    clean: config.clean_session,
    // Each connection attempt takes the next server (MQTT.js rotates through `servers`).
    servers: endpoints.map(({ host, port, protocol }) => ({ host, port, protocol })),
    host: first.host,
    port: first.port,
    protocol: first.protocol,
    rejectUnauthorized: tls.rejectUnauthorized,
  };
  // MQTT.js logs through `debug` several times per packet, and even disabled each call allocates its arguments
  // (a few % of a connector's garbage): unless DEBUG asks for logs, its log is a no-op.
  if (!process.env['DEBUG']) options.log = ignoreLog;
  const wsPath = endpoints.find((e) => e.protocol === 'ws' || e.protocol === 'wss')?.path;
  if (wsPath) options.path = wsPath;
  if (tls.ca) options.ca = tls.ca;
  if (tls.cert) options.cert = tls.cert;
  if (tls.key) options.key = tls.key;
  if (tls.servername) options.servername = tls.servername;
  if (config.username !== undefined) options.username = config.username;
  if (config.password !== undefined) options.password = config.password;
  if (protocolVersion === 5) {
    options.properties = {
      sessionExpiryInterval: config.session_expiry_s,
      receiveMaximum: config.receive_maximum,
      maximumPacketSize: config.max_packet_size,
    };
  }
  return options;
}
