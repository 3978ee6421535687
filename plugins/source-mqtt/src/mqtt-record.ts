import type { SourceRecord } from '@danube-connect/sdk';
import type { IPublishPacket } from 'mqtt';
import type { Route } from './route-table.js';

/**
 * The Danube record for a PUBLISH: the payload byte for byte (the reference re-encoded non-JSON as base64 JSON),
 * the MQTT topic as routing key unless the route says `key = "none"`, and with
 * `include_metadata` the reference's attributes.
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
  }
  if (ack) record.ack = ack;
  return record;
}
