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

/** Topics whose metadata attributes are kept (see MetadataAttributes); past this many the memory starts over. */
const REMEMBERED_TOPICS = 4096;

/**
 * The metadata attributes of a PUBLISH without MQTT 5 properties that add any: one frozen object per topic, QoS,
 * retain and dup flag, shared by every record with those. A device publishes to the same topic over and over, and
 * a shared frozen object lets the SDK's encoder write its bytes once (sdk/src/danube/stream-message-encoder.ts)
 * instead of five strings per message; nothing downstream changes a record's attributes (a dead letter copies them).
 */
export class MetadataAttributes {
  /** Topic → the 12 combinations of QoS (0..2), retain and dup, built as they occur. */
  private readonly byTopic = new Map<string, (Readonly<Record<string, string>> | undefined)[]>();

  of(topic: string, qos: number, retain: boolean, dup: boolean): Readonly<Record<string, string>> {
    let slots = this.byTopic.get(topic);
    if (slots === undefined) {
      if (this.byTopic.size >= REMEMBERED_TOPICS) this.byTopic.clear();
      slots = [];
      this.byTopic.set(topic, slots);
    }
    const slot = qos * 4 + (retain ? 2 : 0) + (dup ? 1 : 0);
    return (slots[slot] ??= Object.freeze(metadataAttributes(topic, qos, retain, dup)));
  }
}

function metadataAttributes(topic: string, qos: number, retain: boolean, dup: boolean): Record<string, string> {
  return { 'mqtt.topic': topic, 'mqtt.qos': String(qos), 'mqtt.retain': String(retain), 'mqtt.dup': String(dup), source: 'mqtt' };
}

/** Whether a PUBLISH's MQTT 5 properties add attributes (propertyAttributes). */
function hasPropertyAttributes(properties: IPublishPacket['properties']): boolean {
  if (!properties) return false;
  const { userProperties, contentType, responseTopic, correlationData, messageExpiryInterval } = properties;
  return (userProperties !== undefined && Object.keys(userProperties).length > 0) || contentType !== undefined || responseTopic !== undefined || correlationData !== undefined || messageExpiryInterval !== undefined;
}

/**
 * The Danube record for a PUBLISH: the payload byte for byte (the reference re-encoded non-JSON as base64 JSON),
 * the MQTT topic as routing key unless the route says `key = "none"`, and with `include_metadata`
 * (`metadata` given) the reference's attributes plus those of the MQTT 5 properties.
 */
export function mqttRecord(packet: IPublishPacket, topic: string, route: Route, metadata: MetadataAttributes | undefined, ack: (() => void) | undefined): SourceRecord {
  const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload, 'utf8') : Buffer.from(packet.payload.buffer, packet.payload.byteOffset, packet.payload.byteLength);
  const record: SourceRecord = { topic: route.to, payload };
  if (route.key === 'topic') record.key = topic;
  if (metadata) {
    const retain = packet.retain === true;
    const dup = packet.dup === true;
    if (hasPropertyAttributes(packet.properties)) {
      record.attributes = metadataAttributes(topic, packet.qos, retain, dup);
      propertyAttributes(packet.properties, record.attributes);
    } else {
      record.attributes = metadata.of(topic, packet.qos, retain, dup);
    }
  }
  if (ack) record.ack = ack;
  return record;
}
