import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { SinkConnector } from '../connector.js';
import type { Consumer } from '../danube/consumer.js';
import type { DanubeMessage } from '../danube/message.js';
import { retry } from '../danube/retry.js';
import { classify, ConnectorError } from '../errors.js';
import type { SinkRecord } from '../record.js';
import type { ConnectorMetrics, DropReason } from './connector-metrics.js';
import { deadLetterAttributes, type DeadLetterPublisher } from './dead-letter.js';
import { retryBudget, retriesExhaustedError } from './retry-settings.js';
import type { RuntimeSettings } from './runtime-settings.js';
import { SinkBatcher } from './sink-batcher.js';
import type { StatusTracker } from './status-tracker.js';

/** How a write ended after its retries. */
type WriteOutcome =
  | { kind: 'written'; attempts: number }
  | { kind: 'invalid_data'; error: ConnectorError; attempts: number }
  /** The retries ran out and on_retry_exhausted = 'dead_letter': the records go to the dead-letter topic (or are dropped). */
  | { kind: 'exhausted'; error: ConnectorError; attempts: number }
  | { kind: 'fatal'; error: ConnectorError; attempts: number }
  /** The run signal aborted while waiting to retry; the records are left unacked. */
  | { kind: 'aborted'; attempts: number };

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

// A redelivery keeps the stored message's offset, producer and request id (docs/danube-protocol.md §9.3, §9.4); on NonReliable
// topics the offset is whatever the producer sent, but nothing is redelivered there and request ids differ.
const entryKey = (entry: SinkEntry) => `${entry.message.offset}/${entry.message.messageId.producerId}/${entry.message.requestId}`;

/** A record of a pipelined connector handed over and not yet acked (docs/delivery-semantics.md §4.2). */
interface PipelinedWrite {
  readonly entry: SinkEntry;
  state: 'writing' | 'written' | 'failed';
  error?: unknown;
  /** Resolves once the call that carries it settled (never rejects). */
  settled: Promise<void>;
}

/**
 * The worker of one partition: batches its records, writes one batch at a time in order, acks after the write,
 * and sorts out failures (retry, split, dead-letter, drop, stop). Records of a partition are never written
 * out of order; partitions run side by side. A pipelined connector (`SinkConnector.pipelined`) gets record after
 * record without waiting for earlier writes, up to the unacked window; anything else, one batch at a time.
 */
export class SinkPartition {
  /** Resolves when the worker has ended (intake stopped, drain time up, or a fatal error); never rejects. */
  readonly done: Promise<void>;
  private readonly batcher: SinkBatcher<SinkEntry>;
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
  private readonly pipelined: boolean;
  /** Pipelined connectors: records in write, in order. */
  private readonly writes: PipelinedWrite[] = [];

  constructor(private readonly ctx: SinkPartitionContext) {
    this.pipelined = ctx.connector.pipelined === true;
    // A pipelined connector gets each record at once: waiting to fill a batch would only idle the window.
    const batchTimeoutMs = this.pipelined ? 0 : ctx.settings.batchTimeoutMs;
    this.batcher = new SinkBatcher({ batchSize: ctx.settings.batchSize, batchTimeoutMs, maxUnacked: ctx.maxUnacked }, entryKey);
    this.log = ctx.logger.child({ topic: ctx.topic, partition: ctx.partition });
    this.done = this.pipelined ? this.pipelinedLoop() : this.loop();
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

  /**
   * Pipelined connectors (docs/delivery-semantics.md §4.2): each record is handed over as it arrives, without
   * waiting for earlier writes, up to `maxUnacked` in write; `settleWrites` acks them in order as they complete.
   * When the oldest write failed, the pipeline is drained and everything still in write goes through the
   * one-batch-at-a-time path (retries, split, dead letters), in order, before pipelining resumes.
   */
  private async pipelinedLoop(): Promise<void> {
    const { intake, maxUnacked } = this.ctx;
    try {
      for (;;) {
        if (this.writes[0]?.state === 'failed') {
          if (!(await this.replay())) return;
          continue;
        }
        const room = maxUnacked - this.writes.length;
        if (room <= 0) {
          // Every ack settles a record in the batcher, and a failure pokes it: either wakes this wait.
          await this.batcher.changed(intake);
          if (intake.aborted) break;
          continue;
        }
        const batch = await this.batcher.next(intake, room, () => this.writes[0]?.state === 'failed');
        if (intake.aborted) break;
        if (!batch) continue;
        if (batch.length < room && this.ctx.connector.processBatch) {
          // What arrives in this turn of the event loop goes in the same call: one write to the external system
          // for a burst (the broker refills a window several messages at once), each record still acked alone.
          await nextTurn();
          batch.push(...this.batcher.takeNow(room - batch.length));
        }
        this.startWrites(batch);
      }
      // Stopping: the records in write may finish (and are acked), as a batch in progress does.
      await Promise.all(this.writes.map((w) => w.settled));
      if (this.writes.length > 0) await this.replay();
    } catch (err) {
      this.ctx.onFatal(ConnectorError.fatal(`sink worker of ${this.ctx.partitionTopic} failed: ${(err as Error)?.message}`, { code: 'DC_ERR_CONNECTOR_BUG', cause: err }));
    } finally {
      await Promise.all(this.writes.map((w) => w.settled));
      await Promise.all([...this.unanswered]);
    }
  }

  /**
   * Starts the write of `entries` without waiting for earlier ones: one `processBatch` call (which may report each
   * record written before it resolves), or one `process` call per record.
   */
  private startWrites(entries: SinkEntry[]): void {
    const { connector } = this.ctx;
    if (!connector.processBatch) {
      for (const entry of entries) this.startCall([entry], (records) => (connector.process as NonNullable<SinkConnector['process']>).call(connector, records[0] as SinkRecord, this.ctx.run));
      return;
    }
    const processBatch = connector.processBatch.bind(connector);
    this.startCall(entries, (records, written) => processBatch(records, this.ctx.run, written));
  }

  private startCall(entries: SinkEntry[], call: (records: SinkRecord[], written: (record: SinkRecord) => void) => Promise<void>): void {
    const started = performance.now();
    const writes: PipelinedWrite[] = entries.map((entry) => ({ entry, state: 'writing', settled: Promise.resolve() }));
    const byRecord = new Map(writes.map((w) => [w.entry.record, w]));
    const written = (record: SinkRecord) => {
      const write = byRecord.get(record);
      if (write?.state !== 'writing') return;
      write.state = 'written';
      this.settleWrites();
    };
    let pending: Promise<void>;
    try {
      pending = call(entries.map((e) => e.record), written);
    } catch (err) {
      pending = Promise.reject(err);
    }
    const settled = pending
      .then(
        () => {
          for (const write of writes) if (write.state === 'writing') write.state = 'written';
          this.ctx.metrics.observeDuration(this.ctx.topic, (performance.now() - started) / 1000);
        },
        (err: unknown) => {
          // Records the connector reported written stay written; the rest failed with the call.
          for (const write of writes) {
            if (write.state !== 'writing') continue;
            write.state = 'failed';
            write.error = err;
          }
        },
      )
      .finally(() => this.settleWrites());
    for (const write of writes) write.settled = settled;
    this.writes.push(...writes);
  }

  /** Acks the leading written records (acks follow the write order); wakes the loop for room or a failure. */
  private settleWrites(): void {
    let written = 0;
    while (this.writes[0]?.state === 'written') {
      const write = this.writes.shift() as PipelinedWrite;
      this.ack([write.entry], true);
      written++;
    }
    if (written > 0 && this.failing) {
      this.failing = false;
      this.log.info('writes work again');
    }
    // An ack above woke the loop already (it settles the record in the batcher); a failure must too.
    if (this.writes[0]?.state === 'failed') this.batcher.poke();
  }

  /**
   * The oldest pipelined write failed: once every write in flight settled, the failed record and all after it
   * are written again in order as one batch through the usual path. Later records that had succeeded are
   * written twice (at-least-once), so a subscriber never sees a later record first and an earlier one never.
   * Unless the failure is invalid data: that record is never written, so those after it that were are already
   * in order; they are acked as they are, and only the failed ones go through the usual path, up to the first
   * other failure, from which on everything is written again as above.
   */
  private async replay(): Promise<boolean> {
    await Promise.all(this.writes.map((w) => w.settled));
    const first = this.writes.find((w) => w.state === 'failed');
    const writes = this.writes.splice(0);
    if (first) {
      const error = classify(first.error);
      this.ctx.metrics.recordFailure(this.ctx.topic, String(error.code));
      if (error.kind === 'invalid_data') {
        this.log.debug({ code: error.code, records: writes.length }, 'pipelined write has invalid data; keeping the written records after it');
        // Before the first failure of another kind the written records stand; from it on everything is written again.
        const cut = writes.findIndex((w) => w.state === 'failed' && classify(w.error).kind !== 'invalid_data');
        const standing = cut === -1 ? writes : writes.slice(0, cut);
        const rewritten = cut === -1 ? [] : writes.slice(cut);
        for (const write of standing) if (write.state === 'written') this.ack([write.entry], true);
        const again = [...standing.filter((w) => w.state === 'failed'), ...rewritten].map((w) => w.entry);
        return again.length === 0 ? true : this.handle(again);
      }
      this.log.debug({ code: error.code, records: writes.length }, 'pipelined write failed; writing the records in write again in order');
    }
    const entries = writes.map((w) => w.entry);
    if (entries.length === 0) return true;
    return this.handle(entries);
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
    // A pipelined connector reports records written before its call ends; those of the last attempt stay written.
    let written = new Set<SinkRecord>();
    const report = this.pipelined ? (record: SinkRecord) => void written.add(record) : undefined;
    const processBatch = (records: readonly SinkRecord[]) => {
      written = new Set();
      return (connector.processBatch as NonNullable<SinkConnector['processBatch']>).call(connector, records, run, report);
    };
    const outcome = await this.write(() => processBatch(batch.map((e) => e.record)));
    if (outcome.kind === 'invalid_data' && batch.length > 1) {
      // Find the bad record(s): the rest of the batch is written one by one, in order, except those the failed call
      // reported written: they went out in order and the invalid ones never do, so writing them again adds nothing.
      this.log.debug({ size: batch.length, code: outcome.error.code }, 'batch has invalid data, writing its records one by one');
      const done = written;
      for (const entry of batch) {
        const result: WriteOutcome = done.has(entry.record) ? { kind: 'written', attempts: outcome.attempts } : await this.write(() => processBatch([entry.record]));
        if (!(await this.settle([entry], result))) return false;
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

  /**
   * Runs `write` until it works, retrying retryable failures. After `maxRetries` retries on_retry_exhausted
   * decides: 'block' keeps retrying (capped backoff, degraded), 'dead_letter' returns `exhausted`, 'fail' a fatal
   * DC_ERR_RETRIES_EXHAUSTED. Invalid data and fatal errors return at once: retrying cannot help.
   */
  private async write(write: () => Promise<void>): Promise<WriteOutcome> {
    const { metrics, topic, status, partitionTopic, settings } = this.ctx;
    const outcome = await retry(write, {
      budget: retryBudget(settings),
      whenExhausted: settings.onRetryExhausted === 'block' ? 'block' : 'stop',
      signal: this.ctx.run,
      classify: (err) => (classify(err).kind === 'retryable' ? 'retry' : 'stop'),
      onFailure: (err, attempt) => {
        const error = classify(err);
        metrics.recordFailure(topic, String(error.code));
        if (error.kind === 'retryable' && !this.failing) {
          this.failing = true;
          this.log.warn({ code: error.code, attempt, err: error }, 'write failed, retrying');
        }
      },
      onRetry: (_err, attempt, delayMs) => {
        metrics.recordRetry(topic);
        this.log.debug({ attempt, delayMs }, 'retrying write');
      },
      onBlocked: (err) => {
        const error = classify(err);
        status.degrade(`write:${partitionTopic}`, `writes from ${partitionTopic} fail (${error.code}); retrying until they work`);
        this.log.warn({ code: error.code, retries: settings.maxRetries }, 'write retries exhausted, blocking (on_retry_exhausted = "block")');
      },
      onRecovered: () => status.recover(`write:${partitionTopic}`),
    });
    const { attempts } = outcome;
    switch (outcome.kind) {
      case 'done':
        return { kind: 'written', attempts };
      case 'aborted':
        return { kind: 'aborted', attempts };
      case 'stopped': {
        const error = classify(outcome.error);
        return error.kind === 'invalid_data' ? { kind: 'invalid_data', error, attempts } : { kind: 'fatal', error, attempts };
      }
      case 'exhausted': {
        const error = classify(outcome.error);
        if (settings.onRetryExhausted === 'fail') return { kind: 'fatal', error: retriesExhaustedError('write', attempts, error), attempts };
        return { kind: 'exhausted', error, attempts };
      }
    }
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

  /** Dead-letters (or drops) records that cannot be written, then acks them so the stream goes on (docs/delivery-semantics.md §4.4). */
  private async reject(entries: SinkEntry[], error: ConnectorError, reason: DropReason, attempts: number): Promise<boolean> {
    const { metrics, topic, deadLetters } = this.ctx;
    for (const entry of entries) {
      if (deadLetters) {
        const { record } = entry;
        const attributes = deadLetterAttributes(record.attributes, error, {
          connector: this.ctx.connectorName,
          topic,
          partition: record.partition,
          offset: record.offset,
          attempts,
        });
        let outcome;
        try {
          outcome = await deadLetters.publish({ payload: record.payload, attributes, key: record.routingKey }, this.ctx.run);
        } catch (err) {
          const failure = classify(err);
          // Stopping (drain time up): the record stays unacked and comes back from the broker.
          if (failure.code === 'DC_ERR_CLOSED' || this.ctx.run.aborted) return false;
          this.ctx.onFatal(failure);
          return false;
        }
        if (outcome === 'dead_lettered') metrics.recordDeadLettered(topic);
        else metrics.recordDropped(topic, reason);
      } else {
        metrics.recordDropped(topic, reason);
      }
      this.rejected++;
      // Only now, with the dead letter in Danube, may the original go.
      this.ack([entry], false);
    }
    return true;
  }

  /**
   * Acks records whose fate is settled, without waiting for the round trip: the next write starts at once and
   * the acks of consecutive writes are on the wire together (the consumer bounds them to the window), so a
   * record-at-a-time sink keeps up with its subscription (docs/danube-protocol.md §9.4). A failed ack is counted
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
