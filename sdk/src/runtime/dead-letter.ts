import type { DanubeClient } from '../danube/danube-client.js';
import type { Producer } from '../danube/producer.js';
import type { ConnectorError } from '../errors.js';

/** Longest error message copied into a dead letter: enough to debug, never a whole payload. */
const MAX_ERROR_MESSAGE = 1024;

export interface DeadLetterOrigin {
  connector: string;
  /** The topic the record was meant for (sources) or came from (sinks). */
  topic: string;
  partition?: number | undefined;
  offset?: string | undefined;
  attempts: number;
}

/**
 * Attributes added to a dead letter, after the record's own (which win on no clash: ours are prefixed).
 * The names mirror Kafka Connect's `__connect.errors.*` context (peers §6.10).
 */
export function deadLetterAttributes(original: Readonly<Record<string, string>>, error: ConnectorError, origin: DeadLetterOrigin): Record<string, string> {
  const attributes: Record<string, string> = {
    ...original,
    'dc.errors.connector': origin.connector,
    'dc.errors.topic': origin.topic,
    'dc.errors.code': String(error.code),
    'dc.errors.kind': error.kind,
    'dc.errors.message': error.message.slice(0, MAX_ERROR_MESSAGE),
    'dc.errors.attempts': String(origin.attempts),
    'dc.errors.failed_at': new Date().toISOString(),
  };
  if (origin.partition !== undefined) attributes['dc.errors.partition'] = String(origin.partition);
  if (origin.offset !== undefined) attributes['dc.errors.offset'] = origin.offset;
  return attributes;
}

/**
 * Publishes dead letters to one Danube topic through a producer created on first use (strict order, reliable).
 * `send` resolves once Danube has the dead letter, so the original can then be committed or acked.
 */
export class DeadLetterPublisher {
  private producer: Promise<Producer> | undefined;

  constructor(
    private readonly client: DanubeClient,
    readonly topic: string,
    private readonly connector: string,
  ) {}

  private get ready(): Promise<Producer> {
    this.producer ??= this.client
      .createProducer({ topic: this.topic, name: `${this.connector}-dlq`.replace(/[^A-Za-z0-9_-]/g, '-'), dispatch: 'reliable', retry: { maxRetries: Infinity } })
      .catch((err: unknown) => {
        this.producer = undefined;
        throw err;
      });
    return this.producer;
  }

  async send(payload: Buffer, attributes: Record<string, string>, key?: string): Promise<void> {
    const producer = await this.ready;
    await producer.send(payload, key === undefined ? { attributes } : { attributes, key });
  }
}
