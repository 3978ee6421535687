import type { Logger } from 'pino';
import type { DanubeClient } from '../danube/danube-client.js';
import type { ConnectorError } from '../errors.js';
import { DeadLetterPublisher, deadLetterAttributes } from './dead-letter.js';
import type { InFlightRecord } from './in-flight-record.js';

/** topic + code pairs remembered as announced; past it the memory starts over (a repeat is logged at warn again). */
const MAX_ANNOUNCED = 1024;

interface InvalidRecordsOptions {
  client: DanubeClient;
  connector: string;
  /** Unset: invalid records are counted and dropped. */
  deadLetterTopic: string | undefined;
  logger: Logger;
}

/**
 * Where records that can never be published go: the dead-letter topic when one is set (the original payload,
 * key and attributes plus `dc.errors.*`, through the DeadLetterPublisher the sinks use too), otherwise nowhere
 * (dropped, counted). Either way the record is then done, so the stream goes on; a dead letter counts only once
 * Danube has it.
 */
export class InvalidRecords {
  private readonly publisher: DeadLetterPublisher | undefined;
  /** topic + code pairs already logged at warn: each kind of failure is announced once, then only at debug. */
  private readonly announced = new Set<string>();

  constructor(private readonly options: InvalidRecordsOptions) {
    this.publisher = options.deadLetterTopic === undefined ? undefined : new DeadLetterPublisher(options.client, options.deadLetterTopic, options.connector, options.logger);
  }

  /**
   * Dead-letters or drops `entry`. Resolves with what happened once the record may be committed; rejects with
   * the classified error when the dead-letter topic cannot be written at all (fatal), or the producer was closed.
   */
  async handle(entry: InFlightRecord, error: ConnectorError): Promise<'dead_lettered' | 'dropped'> {
    const { record, topic } = entry;
    this.announce(entry, error);
    if (!this.publisher) return 'dropped';
    const attributes = deadLetterAttributes(record.attributes ?? {}, error, { connector: this.options.connector, topic, attempts: entry.attempts });
    return this.publisher.publish({ payload: record.payload, attributes, key: record.key });
  }

  private announce(entry: InFlightRecord, error: ConnectorError): void {
    const key = `${entry.topic}\u0000${error.code}`;
    const fields = { topic: entry.topic, code: error.code, err: error, deadLetterTopic: this.options.deadLetterTopic };
    const message = this.publisher ? 'invalid record: dead-lettering' : 'invalid record: dropping (no dead-letter topic set)';
    if (this.announced.has(key)) {
      this.options.logger.debug(fields, message);
      return;
    }
    // Bounded: a source writing to ever new topics must not grow this set for good.
    if (this.announced.size >= MAX_ANNOUNCED) this.announced.clear();
    this.announced.add(key);
    this.options.logger.warn(fields, `${message}; further records failing the same way are logged at debug`);
  }
}
