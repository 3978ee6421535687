import type { Logger } from 'pino';
import type { DanubeClient } from '../danube/danube-client.js';
import { closedError } from '../danube/errors.js';
import type { Producer } from '../danube/producer.js';
import { retry } from '../danube/retry.js';
import { classify, ConnectorError } from '../errors.js';
import { isCollateralFailure } from './collateral-failure.js';

/** Longest error message copied into a dead letter: enough to debug, never a whole payload. */
const MAX_ERROR_MESSAGE = 1024;

/** Waits between attempts to publish a dead letter that Danube could not take yet, in ms. */
const DEAD_LETTER_RETRY = { initialDelayMs: 100, maxDelayMs: 5_000, maxRetries: Infinity } as const;

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
 * The names mirror Kafka Connect's `__connect.errors.*` context (docs/delivery-semantics.md §6).
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

/** A record on its way to the dead-letter topic. */
export interface DeadLetter {
  payload: Buffer;
  /** From deadLetterAttributes. */
  attributes: Record<string, string>;
  key?: string | undefined;
}

/** What became of a dead letter: in Danube (possibly without its payload), or refused even without it. */
export type DeadLetterOutcome = 'dead_lettered' | 'dropped';

/**
 * The one dead-letter path of both runtimes (docs/delivery-semantics.md §6): publishes to one Danube topic through
 * a producer created on first use (strict order, reliable), and resolves once Danube has the dead letter, so the
 * original can then be committed (sources) or acked (sinks). Transient failures are retried until `signal`
 * aborts. A dead letter the topic refuses as invalid (size, schema) is published again without its payload, with
 * `dc.errors.payload_omitted` and `dc.errors.payload_bytes`; only if even that is refused is the record dropped,
 * logged at error. A topic that cannot be written at all rejects with a fatal ConnectorError; a stop (closed
 * producer, aborted signal) rejects with DC_ERR_CLOSED.
 */
export class DeadLetterPublisher {
  private producer: Promise<Producer> | undefined;

  constructor(
    private readonly client: DanubeClient,
    readonly topic: string,
    private readonly connector: string,
    private readonly logger: Logger,
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

  async publish(letter: DeadLetter, signal?: AbortSignal): Promise<DeadLetterOutcome> {
    const attributes = { ...letter.attributes };
    let payload = letter.payload;
    for (;;) {
      const body = payload;
      const outcome = await retry(
        async () => {
          const producer = await this.ready;
          await producer.send(body, letter.key === undefined ? { attributes } : { attributes, key: letter.key });
        },
        {
          budget: DEAD_LETTER_RETRY,
          whenExhausted: 'block',
          signal,
          // An earlier dead letter on the same partition failed and ours was never sent; or Danube is unavailable.
          classify: (err) => (isCollateralFailure(err) || classify(err).kind === 'retryable' ? 'retry' : 'stop'),
          onRetry: (err, attempt) => this.logger.debug({ code: classify(err).code, attempt, deadLetterTopic: this.topic }, 'dead letter not published, retrying'),
        },
      );
      if (outcome.kind === 'done') return 'dead_lettered';
      if (outcome.kind !== 'stopped') throw closedError(`dead-letter producer of ${this.topic}`);
      const failure = classify(outcome.error);
      if (failure.code === 'DC_ERR_CLOSED') throw failure;
      if (failure.kind !== 'invalid_data') {
        throw ConnectorError.fatal(`dead-letter topic ${this.topic} cannot take records: ${failure.message}`, { code: failure.code, cause: failure });
      }
      if (payload.length === 0) {
        this.logger.error(
          { code: failure.code, err: failure, deadLetterTopic: this.topic, origin: attributes['dc.errors.topic'] },
          'the dead-letter topic refused a dead letter even without payload; the record is dropped (counted in dropped_total)',
        );
        return 'dropped';
      }
      // The broker's size limit (or a schema) applies to the dead-letter topic too: keep the evidence without
      // the payload rather than stall the stream on a record no topic accepts.
      attributes['dc.errors.payload_omitted'] = failure.code === 'DC_ERR_MESSAGE_TOO_LARGE' ? 'too_large' : 'refused';
      attributes['dc.errors.payload_bytes'] = String(payload.length);
      this.logger.debug({ code: failure.code, deadLetterTopic: this.topic, bytes: payload.length }, 'the dead-letter topic refused a dead letter; publishing it without payload');
      payload = Buffer.alloc(0);
    }
  }
}
