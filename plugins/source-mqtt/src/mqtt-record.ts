import type { SourceRecord } from '@danube-connect/sdk';
import type { IPublishPacket } from 'mqtt';
import type { Route } from './route-table.js';

/** Prefix of the attributes carrying MQTT 5 user properties; none of our own attributes starts with it. */
const USER_PREFIX = 'mqtt.user.';

/**
 * The attributes of a PUBLISH's MQTT 5 properties (README "Attributes"): each user property as
 * `mqtt.user.<name>` (a name sent more than once: a JSON array of its values in order), content type, response
 * topic, correlation data (base64) and the message expiry interval the broker gave us (seconds left at receipt).
 */
function propertyAttributes(properties: IPublishPacket['properties'], attributes: Record<string, string>): void {
  if (!properties) return;
  for (const [name, value] of Object.entries(properties.userProperties ?? {})) {
    attributes[`${USER_PREFIX}${name}`] = Array.isArray(value) ? JSON.stringify(value) : value;
  }
  if (properties.contentType !== undefined) attributes['mqtt.content_type'] = properties.contentType;
  if (properties.responseTopic !== undefined) attributes['mqtt.response_topic'] = properties.responseTopic;
  if (properties.correlationData !== undefined) attributes['mqtt.correlation_data'] = Buffer.from(properties.correlationData).toString('base64');
  if (properties.messageExpiryInterval !== undefined) attributes['mqtt.message_expiry_s'] = String(properties.messageExpiryInterval);
}

/**
 * The Danube record for a PUBLISH: the payload byte for byte (the reference re-encoded non-JSON as base64 JSON),
 * the MQTT topic as routing key unless the route says `key = "none"`, and with
 * `include_metadata` the reference's attributes plus those of the MQTT 5 properties.
 */
export function mqttRecord(packet: IPublishPacket, topic: string, route: Route, includeMetadata: boolean, ack: (() => void) | undefined): SourceRecord {
  const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload, 'utf8') : Buffer.from(packet.payload.buffer, packet.payload.byteOffset, packet.payload.byteLength);
  const record: SourceRecord = { topic: route.to, payload };
  if (route.key === 'topic') record.key = topic;
  if (includeMetadata) {
    record.attributes = {
      'mqtt.topic': topic,
      'mqtt.qos': String(packet.qos),
      'mqtt.retain': String(packet.retain === true),
      'mqtt.dup': String(packet.dup === true),
      source: 'mqtt',
    };
    propertyAttributes(packet.properties, record.attributes);
  }
  if (ack) record.ack = ack;
  return record;
}
