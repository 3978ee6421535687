import type { TlsConfig } from './tls-material.js';

/** The connection keys of an MQTT plugin's config (schema: `connection.schema.json#/$defs/connection`), defaults applied. */
export interface MqttConnectionConfig {
  url?: string;
  servers?: string[];
  client_id?: string;
  username?: string;
  password?: string;
  protocol_version: 4 | 5;
  keepalive_s: number;
  connect_timeout_ms: number;
  reconnect_period_ms: number;
  reconnect_max_period_ms: number;
  clean_session: boolean;
  session_expiry_s: number;
  max_packet_size: number;
  receive_maximum: number;
  tls?: TlsConfig;
}

/** Messages for the schema's `oneOf` (url xor servers). */
export const CONNECTION_MESSAGES = { oneOf: 'set exactly one of url and servers' } as const;

/** What the connection schema cannot say: pairs that need each other, limits that depend on each other. */
export function connectionProblems(config: MqttConnectionConfig): string[] {
  const problems: string[] = [];
  if ((config.username === undefined) !== (config.password === undefined)) {
    // The reference silently connected anonymously here.
    problems.push(config.username === undefined ? 'username: is required when password is set' : 'password: is required when username is set');
  }
  if ((config.tls?.cert === undefined) !== (config.tls?.key === undefined)) {
    problems.push(config.tls?.cert === undefined ? 'tls/cert: is required when tls.key is set' : 'tls/key: is required when tls.cert is set');
  }
  if (config.reconnect_max_period_ms < config.reconnect_period_ms) {
    problems.push(`reconnect_max_period_ms: must be >= reconnect_period_ms (${config.reconnect_period_ms})`);
  }
  const urls = config.servers ?? (config.url ? [config.url] : []);
  urls.forEach((url, i) => {
    // Never quote the URL: its user-info part would be a password.
    if (/^[a-z]+:\/\/[^/]*@/.test(url)) problems.push(`${config.servers ? `servers/${i}` : 'url'}: credentials in the URL are not supported; use username and password (masked as secrets)`);
  });
  if (config.tls && !urls.some((u) => /^(mqtts|wss):/.test(u))) {
    problems.push('tls: is set but no server uses mqtts:// or wss://, so it would never apply');
  }
  return problems;
}

/** The broker URLs to try, in order. */
export function serverUrls(config: Pick<MqttConnectionConfig, 'url' | 'servers'>): string[] {
  return config.servers ?? (config.url ? [config.url] : []);
}
