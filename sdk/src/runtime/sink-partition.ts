import type { Logger } from 'pino';
import type { SinkConnector } from '../connector.js';
import { Backoff, sleep } from '../danube/backoff.js';
import type { Consumer } from '../danube/consumer.js';
import type { DanubeMessage } from '../danube/message.js';
import { classify, ConnectorError } from '../errors.js';
import type { SinkRecord } from '../record.js';
import type { ConnectorMetrics, DropReason } from './connector-metrics.js';
import { deadLetterAttributes, type DeadLetterPublisher } from './dead-letter.js';
import type { RuntimeSettings } from './runtime-settings.js';
import { SinkBatcher } from './sink-batcher.js';
import type { StatusTracker } from './status-tracker.js';
import { writeWithRetry, type WriteOutcome } from './write-with-retry.js';

/** A delivered message on its way to the external system. */
export interface SinkEntry {
  readonly message: DanubeMessage;
  readonly record: SinkRecord;
  /** The consumer that delivered the message: its ack goes back through it. */
  readonly consumer: Consumer;
}

export interface SinkPartitionContext {
  connector: SinkConnector;
  connectorName: string;
  /** The configured topic: metric label and dead-letter origin. */
  topic: string;
  /** The (partition) topic the records come from. */
  partitionTopic: string;
  partition: number | undefined;
  settings: RuntimeSettings;
  maxUnacked: number;
  metrics: ConnectorMetrics;
  logger: Logger;
  status: StatusTracker;
  deadLetters: DeadLetterPublisher | undefined;
  /** Aborted when intake stops: no batch starts after it. */
  intake: AbortSignal;
  /** Aborted when the drain time is up or the runtime failed: waits between retries end, the batch is given up. */
  run: AbortSignal;
  /** Records that left the pipeline (acked after a write, dead-lettered or dropped). */
  onSettled: (count: number) => void;
  onFatal: (error: ConnectorError) => void;
}

// A redelivery keeps the stored message's offset, producer and request id (protocol §9.3, §9.4); on NonReliable
// topics the offset is whatever the producer sent, but nothing is redelivered there and request ids differ.
const entryKey = (entry: SinkEntry) => `${entry.message.offset}/${entry.message.messageId.producerId}/${entry.message.requestId}`;

/**
 * The worker of one partition: batches its records, writes one batch at a time in order, acks after the write,
 * and sorts out failures (retry, split, dead-letter, drop, stop). Records of a partition are never written
 * concurrently or out of order; partitions run side by side.
 */
export class SinkPartition {
  /** Resolves when the worker has ended (intake stopped, drain time up, or a fatal error); never rejects. */
  readonly done: Promise<void>;
  private readonly batcher: SinkBatcher<SinkEntry>;
  private readonly backoff: Backoff;
  private readonly log: Logger;
  /** A write failed and none has worked since: the warning is logged once per episode. */
  private failing = false;
  private acksFailing = false;
  /** Records of the current batch that were dead-lettered or dropped, for one summary line. */
  private rejected = 0;
  /** Acks sent and not answered yet. */
  private readonly unanswered = new Set<Promise<void>>();
  /** Written records settled in the batcher whose acks have not returned yet (counted processed then). */
  private acking = 0;

  constructor(private readonly ctx: SinkPartitionContext) {
    this.batcher = new SinkBatcher({ batchSize: ctx.settings.batchSize, batchTimeoutMs: ctx.settings.batchTimeoutMs, maxUnacked: ctx.maxUnacked }, entryKey);
    this.backoff = new Backoff({ initialDelayMs: ctx.settings.retryInitialDelayMs, maxDelayMs: ctx.settings.retryMaxDelayMs });
    this.log = ctx.logger.child({ topic: ctx.topic, partition: ctx.partition });
    this.done = this.loop();
  }

  /** The configured topic its records count under. */
  get topic(): string {
    return this.ctx.topic;
  }

  /** Records handed to the connector (in the batch being written) and not yet acked, dead-lettered or dropped. */
  get inWrite(): number {
    return this.batcher.pending - this.batcher.buffered;
  }

  /** How long the oldest record received and not yet settled has waited, ms; 0 when none. */
  oldestPendingAgeMs(): number {
    return this.batcher.oldestPendingAgeMs();
  }

  /** Records not yet counted as processed, dead-lettered or dropped: `pending` plus written ones whose acks are on their way. */
  get inFlight(): number {
    return this.batcher.pending + this.acking;
  }

  /** Takes a delivered message; false when it is a redelivered copy of a record still pending here. */
  offer(entry: SinkEntry): boolean {
    return this.batcher.push(entry);
  }

  /** Resolves once the partition can buffer more (memory stays bounded), or when `signal` aborts. */
  room(signal: AbortSignal): Promise<void> {
    return this.batcher.room(signal);
  }

  private async loop(): Promise<void> {
    try {
      for (;;) {
        const batch = await this.batcher.next(this.ctx.intake);
        if (!batch || !(await this.handle(batch))) return;
      }
    } catch (err) {
      // Connector errors are classified where they happen; this is a bug of ours, and the worker cannot go on.
      this.ctx.onFatal(ConnectorError.fatal(`sink worker of ${this.ctx.partitionTopic} failed: ${(err as Error)?.message}`, { code: 'DC_ERR_CONNECTOR_BUG', cause: err }));
    } finally {
      await Promise.all([...this.unanswered]);
    }
  }

  /** Writes one batch to the end; false when the worker must stop (fatal error or drain time up). */
  private async handle(batch: SinkEntry[]): Promise<boolean> {
    const started = performance.now();
    this.rejected = 0;
    const go = this.ctx.connector.processBatch ? await this.writeBatch(batch) : await this.writeEach(batch);
    if (go) this.ctx.metrics.observeDuration(this.ctx.topic, (performance.now() - started) / 1000);
    if (this.rejected > 0) {
      this.log.warn(
        { count: this.rejected, deadLetterTopic: this.ctx.deadLetters?.topic },
        this.ctx.deadLetters ? 'records dead-lettered and acked' : 'records dropped and acked (no dead-letter topic)',
      );
    }
    return go;
  }

  private async writeBatch(batch: SinkEntry[]): Promise<boolean> {
    const connector = this.ctx.connector;
    const { run } = this.ctx;
    const processBatch = (records: readonly SinkRecord[]) => (connector.processBatch as NonNullable<SinkConnector['processBatch']>).call(connector, records, run);
    const outcome = await this.write(() => processBatch(batch.map((e) => e.record)));
    if (outcome.kind === 'invalid_data' && batch.length > 1) {
      // Find the bad record(s): the rest of the batch is written one by one, in order.
      this.log.debug({ size: batch.length, code: outcome.error.code }, 'batch has invalid data, writing its records one by one');
      for (const entry of batch) {
        if (!(await this.settle([entry], await this.write(() => processBatch([entry.record]))))) return false;
      }
      return true;
    }
    return this.settle(batch, outcome);
  }

  private async writeEach(batch: SinkEntry[]): Promise<boolean> {
    const connector = this.ctx.connector;
    const process = (connector.process as NonNullable<SinkConnector['process']>).bind(connector);
    for (const entry of batch) {
      if (!(await this.settle([entry], await this.write(() => process(entry.record, this.ctx.run))))) return false;
    }
    return true;
  }

  private write(write: () => Promise<void>): Promise<WriteOutcome> {
    const { metrics, topic, status, partitionTopic } = this.ctx;
    return writeWithRetry(write, {
      maxRetries: this.ctx.settings.maxRetries,
      onRetryExhausted: this.ctx.settings.onRetryExhausted,
      backoff: this.backoff,
      signal: this.ctx.run,
      onFailure: (error, attempt) => {
        metrics.recordFailure(topic, String(error.code));
        if (error.kind === 'retryable' && !this.failing) {
          this.failing = true;
          this.log.warn({ code: error.code, attempt, err: error }, 'write failed, retrying');
        }
      },
      onRetry: (attempt, delayMs) => {
        metrics.recordRetry(topic);
        this.log.debug({ attempt, delayMs }, 'retrying write');
      },
      onBlocked: (error) => {
        status.degrade(`write:${partitionTopic}`, `writes from ${partitionTopic} fail (${error.code}); retrying until they work`);
        this.log.warn({ code: error.code, retries: this.ctx.settings.maxRetries }, 'write retries exhausted, blocking (on_retry_exhausted = "block")');
      },
      onRecovered: () => status.recover(`write:${partitionTopic}`),
    });
  }

  /** Acts on a write's outcome for its records; false when the worker must stop. */
  private async settle(entries: SinkEntry[], outcome: WriteOutcome): Promise<boolean> {
    switch (outcome.kind) {
      case 'written':
        if (this.failing) {
          this.failing = false;
          this.log.info('writes work again');
        }
        this.ack(entries, true);
        return true;
      case 'invalid_data':
        return this.reject(entries, outcome.error, 'invalid_data', outcome.attempts);
      case 'exhausted':
        return this.reject(entries, outcome.error, 'retries_exhausted', outcome.attempts);
      case 'fatal':
        this.ctx.onFatal(outcome.error);
        return false;
      case 'aborted':
        return false;
    }
  }

  /** Dead-letters (or drops) records that cannot be written, then acks them so the stream goes on (B28). */
  private async reject(entries: SinkEntry[], error: ConnectorError, reason: DropReason, attempts: number): Promise<boolean> {
    const { metrics, topic, deadLetters } = this.ctx;
    for (const entry of entries) {
      if (deadLetters) {
        const sent = await this.deadLetter(deadLetters, entry, error, attempts);
        if (sent === 'aborted') return false;
        if (sent === 'sent') metrics.recordDeadLettered(topic);
        else if (sent.kind === 'invalid_data') {
          // The dead-letter topic refuses this record too (size, schema): nothing else can take it.
          this.log.warn({ code: sent.code, deadLetterTopic: deadLetters.topic, err: sent }, 'dead-letter topic refused a record; dropping it');
          metrics.recordDropped(topic, reason);
        } else {
          this.ctx.onFatal(
            ConnectorError.fatal(`dead-letter topic ${deadLetters.topic} cannot take records of ${topic}: ${sent.message}`, { code: sent.code, cause: sent }),
          );
          return false;
        }
      } else {
        metrics.recordDropped(topic, reason);
      }
      this.rejected++;
      // Only now, with the dead letter in Danube, may the original go.
      this.ack([entry], false);
    }
    return true;
  }

  private async deadLetter(publisher: DeadLetterPublisher, entry: SinkEntry, error: ConnectorError, attempts: number): Promise<'sent' | 'aborted' | ConnectorError> {
    const { record } = entry;
    const attributes = deadLetterAttributes(record.attributes, error, {
      connector: this.ctx.connectorName,
      topic: this.ctx.topic,
      partition: record.partition,
      offset: record.offset,
      attempts,
    });
    for (let attempt = 0; ; attempt++) {
      try {
        await publisher.send(record.payload, attributes, record.routingKey);
        return 'sent';
      } catch (err) {
        const failure = classify(err);
        if (failure.kind !== 'retryable') return failure;
        this.log.debug({ code: failure.code, attempt }, 'dead letter not published, retrying');
        try {
          await sleep(this.backoff.delayMs(attempt), this.ctx.run);
        } catch {
          return 'aborted';
        }
      }
    }
  }

  /**
   * Acks records whose fate is settled, without waiting for the round trip: the next write starts at once and
   * the acks of consecutive writes are on the wire together (the consumer bounds them to the window), so a
   * record-at-a-time sink keeps up with its subscription (protocol §9.4). A failed ack is counted
   * (`ack_failure`) but the record still counts as done: it was written, and the broker's redelivery will be
   * received (and counted) anew. The worker waits for its acks before it ends.
   */
  private ack(entries: SinkEntry[], written: boolean): void {
    const acking = this.acked(entries, written, entries.map((e) => e.consumer.ack(e.message)));
    this.unanswered.add(acking);
    void acking.finally(() => this.unanswered.delete(acking));
  }

  private async acked(entries: SinkEntry[], written: boolean, acks: Array<Promise<void>>): Promise<void> {
    // The broker refills the window as each ack lands, before all of ours resolve: counting these records as
    // unacked until then would take the first new arrival for a full window and flush a short batch.
    for (const entry of entries) this.batcher.settle(entry);
    if (written) this.acking += entries.length;
    const results = await Promise.allSettled(acks);
    if (written) this.acking -= entries.length;
    let failure: unknown;
    for (const result of results) {
      if (written) this.ctx.metrics.recordProcessed(this.ctx.topic);
      if (result.status === 'rejected') {
        failure = result.reason;
        this.ctx.metrics.recordFailure(this.ctx.topic, 'ack_failure');
      }
    }
    this.ctx.onSettled(entries.length);
    if (failure !== undefined && !this.acksFailing) {
      this.acksFailing = true;
      this.log.warn({ err: failure }, 'ack failed; the broker will redeliver (at-least-once)');
    } else if (failure === undefined && this.acksFailing) {
      this.acksFailing = false;
      this.log.info('acks work again');
    }
  }
}
