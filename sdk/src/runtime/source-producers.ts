import { isDeepStrictEqual } from 'node:util';
import type { ProducerConfig } from '../connector.js';
import type { DanubeClient } from '../danube/danube-client.js';
import { isPublishTime, type Producer } from '../danube/producer.js';
import { ConnectorError } from '../errors.js';
import type { SourceRecord } from '../record.js';

/**
 * The default producer name of a topic: `<connector>-<topic without the leading slash, '/' → '-'>`, e.g.
 * `iot-default-temperature`. Stable across restarts (the broker reattaches by name) and limited to the
 * characters Danube allows in producer names.
 */
export function producerName(connector: string, topic: string): string {
  return `${connector}-${topic.replace(/^\/+/, '').replace(/\//g, '-')}`.replace(/[^A-Za-z0-9_-]/g, '-');
}

/** A topic's producer settings, with the defaults filled in. */
export interface TopicSettings extends ProducerConfig {
  name: string;
  /** Listed by `producerConfigs()`; otherwise created with the defaults on the topic's first record. */
  listed: boolean;
}

/**
 * The producer settings of every topic a source writes to, and the producers made from them. Listed topics come
 * from `producerConfigs()`; any other topic gets the defaults (reliable, ordering 'partition', no partitions)
 * and the schema of its first record. Producers are created one attempt at a time: the runtime retries.
 */
export class SourceProducers {
  private readonly topics = new Map<string, TopicSettings>();
  /** The producer of each topic that has one (for the runtime's bounded cache: see `evict`). */
  private readonly created = new Map<string, Producer>();

  constructor(
    private readonly client: DanubeClient,
    private readonly connector: string,
    /** The runtime's window: a producer never needs more sends in flight, so its own window never waits. */
    private readonly maxInFlight: number,
  ) {}

  /** Registers the listed topics; a topic listed twice is a configuration error (fatal). */
  configure(configs: readonly ProducerConfig[]): TopicSettings[] {
    const listed: TopicSettings[] = [];
    for (const config of configs) {
      if (typeof config?.topic !== 'string') throw ConnectorError.fatal(`producerConfigs(): every entry needs a topic, got ${JSON.stringify(config)}`);
      if (this.topics.get(config.topic)?.listed) {
        throw ConnectorError.fatal(`producerConfigs(): topic ${config.topic} is listed twice; give each topic one producer config`);
      }
      const settings: TopicSettings = { ...config, name: config.name ?? producerName(this.connector, config.topic), listed: true };
      this.topics.set(config.topic, settings);
      listed.push(settings);
    }
    return listed;
  }

  /** The settings of `record`'s topic, registering the defaults (with the record's schema) on first use. */
  settingsFor(record: SourceRecord): TopicSettings {
    let settings = this.topics.get(record.topic);
    if (!settings) {
      settings = { topic: record.topic, name: producerName(this.connector, record.topic), listed: false };
      if (record.schema) settings.schema = record.schema;
      this.topics.set(record.topic, settings);
    }
    return settings;
  }

  isListed(topic: string): boolean {
    return this.topics.get(topic)?.listed === true;
  }

  /** Why `record` can never be published to its topic (invalid data), or undefined. */
  check(record: SourceRecord): ConnectorError | undefined {
    if (record.invalid) return record.invalid;
    const settings = this.settingsFor(record);
    const subject = record.schema?.subject;
    if (subject !== undefined && subject !== settings.schema?.subject) {
      const expected = settings.schema ? `schema subject "${settings.schema.subject}"` : 'no schema';
      return ConnectorError.invalidData(`a record for ${record.topic} names schema subject "${subject}", but the topic's producer uses ${expected}`);
    }
    // The producer stamps the version it resolved from its own choice: a record claiming another choice would carry a
    // version it does not claim. Compared as choices (absent = "latest"), the same way both are resolved.
    const claimed = record.schema?.version;
    const stamped = settings.schema?.version ?? 'latest';
    if (subject !== undefined && claimed !== undefined && !isDeepStrictEqual(claimed, stamped)) {
      return ConnectorError.invalidData(
        `a record for ${record.topic} names version ${JSON.stringify(claimed)} of schema subject "${subject}", but the topic's producer uses version ${JSON.stringify(stamped)}`,
      );
    }
    if (record.eventTime !== undefined && !isPublishTime(record.eventTime)) {
      return ConnectorError.invalidData(`a record for ${record.topic} has eventTime ${record.eventTime}: it must be whole milliseconds since the epoch (0 to 2^53 - 1)`);
    }
    const limit = settings.maxMessageBytes ?? 0;
    if (limit > 0 && record.payload.length > limit) {
      return ConnectorError.invalidData(`a record for ${record.topic} has ${record.payload.length} payload bytes, more than max_message_bytes ${limit}`, {
        code: 'DC_ERR_MESSAGE_TOO_LARGE',
      });
    }
    return undefined;
  }

  /** One attempt to create (or reattach) the producer of a registered topic. */
  async create(topic: string): Promise<Producer> {
    const settings = this.topics.get(topic);
    if (!settings) throw new Error(`source producers: topic ${topic} is not registered`);
    const producer = await this.client.createProducer({
      topic,
      name: settings.name,
      partitions: settings.partitions ?? 0,
      dispatch: settings.dispatch ?? 'reliable',
      ordering: settings.ordering ?? 'partition',
      maxInFlight: this.maxInFlight,
      maxMessageBytes: settings.maxMessageBytes ?? 0,
      ...(settings.schema ? { schema: settings.schema } : {}),
      // One attempt per call: the runtime retries, so it can report degraded and keep order across retries.
      retry: { maxRetries: 0 },
    });
    this.created.set(topic, producer);
    return producer;
  }

  /**
   * Forgets an idle topic: closes its producer (nothing is in flight on it) and, for a topic not listed, its
   * settings; its next record creates both again, so memory stays bounded however many topics a source meets.
   */
  evict(topic: string): void {
    const producer = this.created.get(topic);
    this.created.delete(topic);
    if (!this.topics.get(topic)?.listed) this.topics.delete(topic);
    void producer?.close(0).catch(() => {});
  }

  /** Closes every producer created, waiting up to `timeoutMs` for sends still in flight. */
  async closeAll(timeoutMs: number): Promise<void> {
    await Promise.all([...this.created.values()].map((producer) => producer.close(timeoutMs)));
  }
}
