import { partitionIndex } from './topic-name.js';
import type { MsgIdWire, StreamMessageWire } from './wire.js';

/** The broker's identity of a delivered message; acks and nacks send it back unchanged (docs/danube-protocol.md §9.4). */
export interface MessageId {
  producerId: string;
  /** The (partition) topic the message is stored in. */
  topicName: string;
  brokerAddr: string;
  /** Reliable topics: the offset in the topic's log; non-reliable: what the producer sent (0). */
  topicOffset: string;
}

/** A message received from Danube. */
export interface DanubeMessage {
  readonly payload: Buffer;
  readonly attributes: Readonly<Record<string, string>>;
  /** The (partition) topic the message came from. */
  readonly topic: string;
  /** Partition index for `-part-<i>` topics, else undefined. */
  readonly partition: number | undefined;
  readonly offset: string;
  /** The producer's request id, which acks carry back (docs/danube-protocol.md §9.3). */
  readonly requestId: string;
  readonly producerName: string;
  /** Producer-side publish time, ms since the epoch. */
  readonly publishTime: number;
  readonly routingKey: string | undefined;
  readonly schemaId: string | undefined;
  readonly schemaVersion: number | undefined;
  readonly subscription: string;
  readonly messageId: Readonly<MessageId>;
}

export function fromWireMessage(wire: StreamMessageWire, subscription: string): DanubeMessage {
  const id = wire.msg_id ?? { producer_id: '0', topic_name: '', broker_addr: '', topic_offset: '0' };
  return {
    payload: wire.payload,
    attributes: wire.attributes,
    topic: id.topic_name,
    partition: partitionIndex(id.topic_name),
    offset: id.topic_offset,
    requestId: wire.request_id,
    producerName: wire.producer_name,
    publishTime: Number(wire.publish_time),
    routingKey: wire.routing_key,
    schemaId: wire.schema_id,
    schemaVersion: wire.schema_version,
    // The broker does not fill subscription_name on delivery (docs/danube-protocol.md §9.3); ours is the truth.
    subscription,
    messageId: { producerId: id.producer_id, topicName: id.topic_name, brokerAddr: id.broker_addr, topicOffset: id.topic_offset },
  };
}

export function toWireMessageId(id: MessageId): MsgIdWire {
  return { producer_id: id.producerId, topic_name: id.topicName, broker_addr: id.brokerAddr, topic_offset: id.topicOffset };
}
