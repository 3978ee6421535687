import { ConnectorError } from '@danube-connect/sdk';

/**
 * Stable codes of the MQTT plugins' own failures, each in the plugins' README error tables. They travel as the
 * `code` of a `ConnectorError` (the kind says what the runtime does). Retired codes are never reused.
 */
export const MQTT_ERROR_CODES = {
  DC_ERR_MQTT_CONFIG: 'the plugin config is invalid (every problem is listed with its key path); fatal',
  DC_ERR_MQTT_TLS: 'a tls.* file cannot be read or is not PEM; fatal',
  DC_ERR_MQTT_AUTH: 'the broker refused the credentials or the client id (CONNACK not authorized / bad user name or password); fatal',
  DC_ERR_MQTT_SUBSCRIBE: 'the broker refused a subscription (SUBACK failure, e.g. its ACL denies the filter); fails the start, later reads unhealthy',
  DC_ERR_MQTT_TAKEOVER: 'another client connected with our client id and took the session over; reported as unhealthy while it lasts',
  DC_ERR_MQTT_SCHEMA: "a route's schema cannot be used: its file cannot be read or is not a valid schema, the registry refused it, or the registered version contradicts the config; fails the start",
  DC_ERR_MQTT_PAYLOAD_INVALID: "a payload does not fit its route's schema: invalid data, dead-lettered (or counted and dropped), then PUBACKed",
} as const;

export type MqttErrorCode = keyof typeof MQTT_ERROR_CODES;

/** A config error listing every problem, one per line, each as `<key path> <message>`. */
export function configError(problems: readonly string[]): ConnectorError {
  const list = problems.map((p) => `  ${p}`).join('\n');
  return ConnectorError.fatal(`invalid MQTT connector config:\n${list}`, { code: 'DC_ERR_MQTT_CONFIG' });
}
