import type { DanubeMessage, MessageId } from './danube/message.js';
import type { SchemaVersionChoice } from './danube/producer.js';
import { ConnectorError } from './errors.js';

/** Options shared by the SourceRecord helpers. */
export interface SourceRecordOptions {
  /** Routing key: picks the partition (FNV-1a 64, like every Danube client) and keys KeyShared dispatch. */
  key?: string;
  attributes?: Record<string, string>;
  /** Event time in ms since the epoch; becomes the message's publish time. Default: when it is sent. */
  eventTime?: number;
  /** Called once, in poll order, after Danube has this record and every record before it. */
  ack?: () => void | Promise<void>;
}

/**
 * A record a source hands to the runtime. The payload is passed to Danube byte for byte.
 * `ack` is the acknowledgement handle: the runtime calls it only when this record and every record polled
 * before it are safely in Danube (or were dead-lettered or dropped as invalid data), so a source can
 * acknowledge upstream (an MQTT PUBACK, a file offset) without ever losing a record.
 */
export interface SourceRecord extends SourceRecordOptions {
  /** Target Danube topic, `/<namespace>/<topic>`. */
  topic: string;
  payload: Buffer;
  /** Schema subject the record conforms to; must match the topic's producer config when that names one. */
  schema?: { subject: string; version?: SchemaVersionChoice };
  /**
   * Set by a source that found the record invalid itself (a payload failing its schema): the runtime does not
   * publish it but dead-letters it with this error's code and message in `dc.errors.*` (or, without a
   * dead-letter topic, counts and drops it), in order with the others; then its `ack` runs, so the stream goes
   * on. Only a `ConnectorError` of kind `invalid_data` (`ConnectorError.invalidData(…)`) is taken.
   */
  invalid?: ConnectorError;
}

/** A record with a JSON payload (serialised with JSON.stringify). */
export function jsonRecord(topic: string, value: unknown, options: SourceRecordOptions = {}): SourceRecord {
  return { ...options, topic, payload: Buffer.from(JSON.stringify(value), 'utf8') };
}

/** A record with a UTF-8 text payload. */
export function textRecord(topic: string, text: string, options: SourceRecordOptions = {}): SourceRecord {
  return { ...options, topic, payload: Buffer.from(text, 'utf8') };
}

/** A record with a binary payload, passed through untouched. */
export function bytesRecord(topic: string, payload: Buffer | Uint8Array, options: SourceRecordOptions = {}): SourceRecord {
  return { ...options, topic, payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload) };
}

/** A message delivered to a sink, with helpers to read its payload. */
export class SinkRecord {
  readonly payload: Buffer;
  readonly attributes: Readonly<Record<string, string>>;
  /** The topic as configured (the base name for a partitioned topic). */
  readonly topic: string;
  /** Partition index, or undefined for a plain topic. */
  readonly partition: number | undefined;
  /**
   * Offset in the (partition) topic, assigned by the broker on reliable topics: there `topic`, `partition` and
   * `offset` together are a unique id, stable across redeliveries, for idempotent writes. Undefined for a
   * subscription declared `dispatch: 'non_reliable'`: on such topics the broker passes on whatever the producer
   * sent (0 from every reference client), so it identifies nothing; nothing is redelivered there either.
   */
  readonly offset: string | undefined;
  readonly messageId: Readonly<MessageId>;
  /** Producer-side publish time, ms since the epoch. */
  readonly publishTime: number;
  readonly producerName: string;
  readonly routingKey: string | undefined;
  readonly schemaId: string | undefined;
  readonly schemaVersion: number | undefined;
  readonly subscription: string;

  constructor(message: DanubeMessage, topic: string, options: { reliable?: boolean } = {}) {
    this.payload = message.payload;
    this.attributes = message.attributes;
    this.topic = topic;
    this.partition = message.partition;
    this.offset = options.reliable === false ? undefined : message.offset;
    this.messageId = message.messageId;
    this.publishTime = message.publishTime;
    this.producerName = message.producerName;
    this.routingKey = message.routingKey;
    this.schemaId = message.schemaId;
    this.schemaVersion = message.schemaVersion;
    this.subscription = message.subscription;
  }

  /** The payload as UTF-8 text. */
  text(): string {
    return this.payload.toString('utf8');
  }

  /** The payload parsed as JSON; an unparsable payload is invalid data (dead-lettered, never retried). */
  json<T = unknown>(): T {
    try {
      return JSON.parse(this.payload.toString('utf8')) as T;
    } catch (err) {
      throw ConnectorError.invalidData(`payload of ${this.topic}@${this.offset ?? 'non-reliable'} is not JSON: ${(err as Error).message}`, { cause: err });
    }
  }
}
