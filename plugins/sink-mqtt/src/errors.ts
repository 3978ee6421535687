/**
 * Stable codes of sink-mqtt's own failures (besides the shared connection codes of @danube-connect/mqtt), each in
 * the README's error table. They travel as the `code` of a `ConnectorError`; retired codes are never reused.
 */
export const SINK_ERROR_CODES = {
  DC_ERR_MQTT_TOPIC: 'the `to` template has a placeholder without value for a message, or renders no valid MQTT topic name; invalid data',
  DC_ERR_MQTT_PROPERTY: 'an MQTT 5 property template renders a malformed value (expiry not an integer, response topic not a topic name); invalid data',
  DC_ERR_MQTT_TOO_LARGE: "the PUBLISH would exceed the broker's Maximum Packet Size; invalid data",
  DC_ERR_MQTT_REFUSED: 'the broker refused the message itself (PUBACK/PUBREC 0x90 topic name invalid, 0x95 packet too large, 0x99 payload format invalid); invalid data',
  DC_ERR_MQTT_PUBLISH: 'a publish failed otherwise (not connected, connection lost before the confirmation, not authorized, quota exceeded); retried',
} as const;
