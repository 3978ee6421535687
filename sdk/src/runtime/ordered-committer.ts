import type { Logger } from 'pino';
import { retry } from '../danube/retry.js';
import { classify, type ConnectorError } from '../errors.js';
import type { SourceRecord } from '../record.js';
import { CommitTracker } from './commit-tracker.js';
import type { InFlightRecord, RecordOutcome } from './in-flight-record.js';
import { retryBudget, retriesExhaustedError, type RetrySettings } from './retry-settings.js';

export type CommitStage = 'ack' | 'commit';

interface CommitterEvents {
  /** These records were acked and committed, in acceptance order. */
  committed(entries: readonly InFlightRecord[]): void;
  /** An ack or commit call failed (one per topic involved). */
  failed(topic: string, code: string): void;
  retrying(topic: string): void;
  /** The retries of `stage` ran out under 'block' (degraded), or `undefined` once it worked again. */
  blocked(stage: CommitStage, error: ConnectorError | undefined): void;
  fatal(error: ConnectorError): void;
}

interface OrderedCommitterOptions {
  /** The connector's batch commit, if it has one. */
  commit: ((records: readonly SourceRecord[]) => Promise<void> | void) | undefined;
  settings: RetrySettings;
  /** Aborts the waits between retries. */
  signal: AbortSignal;
  events: CommitterEvents;
  logger: Logger;
}

/**
 * Commits records in acceptance order once they are done: each record's `ack`, then the connector's `commit`
 * with the batch of consecutive done records. One batch at a time; whatever completes meanwhile joins the next.
 * Failing calls are classified: retryable (and, with a warning, invalid data) are retried with backoff; once
 * `maxRetries` retries failed, `whenExhausted` applies; fatal stops.
 */
export class OrderedCommitter {
  private readonly tracker = new CommitTracker<InFlightRecord>();
  private running: Promise<void> | undefined;
  private halted = false;
  private committedCount = 0;
  private emptyWaiters: Array<() => void> = [];
  private readonly warned = new Set<string>();

  /**
   * on_retry_exhausted for acks and commits. There is nothing to dead-letter here (the records are in Danube),
   * so 'dead_letter' means 'skip': that ack or commit is skipped and the source may redeliver, never lose.
   */
  private readonly whenExhausted: 'block' | 'skip' | 'fail';

  constructor(private readonly options: OrderedCommitterOptions) {
    const policy = options.settings.onRetryExhausted;
    this.whenExhausted = policy === 'dead_letter' ? 'skip' : policy;
  }

  /** Records accepted and not yet committed. */
  get pending(): number {
    return this.tracker.size;
  }

  /** The records accepted and not yet committed, in acceptance order. */
  entries(): readonly InFlightRecord[] {
    return this.tracker.pending();
  }

  /** Records committed since creation. */
  get committed(): number {
    return this.committedCount;
  }

  /** Tracks a newly accepted record; sets its `seq`. */
  add(entry: InFlightRecord): void {
    entry.seq = this.tracker.add(entry);
  }

  /** The record is done (published, dead-lettered or dropped): commit it once everything before it is. */
  done(entry: InFlightRecord, outcome: RecordOutcome): void {
    entry.outcome = outcome;
    this.tracker.complete(entry.seq);
    this.kick();
  }

  /** Resolves when nothing is pending (every accepted record committed). */
  whenEmpty(): Promise<void> {
    if (this.tracker.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  /** Starts no further ack or commit; resolves once the one in progress has returned. */
  async halt(): Promise<void> {
    this.halted = true;
    await this.running;
  }

  private kick(): void {
    if (this.running || this.halted) return;
    this.running = this.run()
      .catch((err: unknown) => {
        this.stopForGood();
        this.options.events.fatal(classify(err));
      })
      .finally(() => {
        this.running = undefined;
        // A record may have completed between the loop's last look and now.
        if (this.tracker.readyCount() > 0) this.kick();
      });
  }

  private async run(): Promise<void> {
    const { commit } = this.options;
    while (!this.halted) {
      const batch = this.tracker.ready();
      if (batch.length === 0) return;
      for (const entry of batch) {
        if (this.halted) return;
        if (entry.acked) continue;
        if (entry.record.ack) {
          const acked = this.attempt('ack', [entry], () => entry.record.ack?.());
          if (acked !== true && !(await acked)) return this.stopForGood();
        }
        entry.acked = true;
      }
      if (this.halted) return;
      if (commit) {
        const committed = this.attempt('commit', batch, () => commit(batch.map((entry) => entry.record)));
        if (committed !== true && !(await committed)) return this.stopForGood();
      }
      this.tracker.release(batch.length);
      this.committedCount += batch.length;
      this.options.events.committed(batch);
      if (this.tracker.size === 0) for (const wake of this.emptyWaiters.splice(0)) wake();
    }
  }

  /** After a fatal error or at the stop deadline: the records left can no longer be committed in order. */
  private stopForGood(): void {
    this.halted = true;
  }

  /**
   * Runs one ack or commit call until it works; false when the committer must stop (halted or fatal). A call
   * that returns no promise is answered synchronously (`true`): a source's ack usually only queues something
   * (source-mqtt's PUBACK), and awaiting it would cost a promise and a microtask turn per record. The retry
   * bookkeeping is made only once something failed.
   */
  private attempt(stage: CommitStage, entries: readonly InFlightRecord[], call: () => unknown): true | Promise<boolean> {
    let result: unknown;
    try {
      result = call();
    } catch (err) {
      return this.retry(stage, entries, call, err);
    }
    if (!isPromiseLike(result)) return true;
    return Promise.resolve(result).then(
      () => true,
      (err: unknown) => this.retry(stage, entries, call, err),
    );
  }

  private async retry(stage: CommitStage, entries: readonly InFlightRecord[], call: () => unknown, firstError: unknown): Promise<boolean> {
    const { events, signal } = this.options;
    const topics = [...new Set(entries.map((entry) => entry.topic))];
    let pending: unknown = firstError;
    const outcome = await retry(
      async () => {
        // Attempt 1 is the call `attempt` made: replay its failure so the counting starts there.
        if (pending !== undefined) {
          const err = pending;
          pending = undefined;
          throw err;
        }
        await call();
      },
      {
        budget: retryBudget(this.options.settings),
        whenExhausted: this.whenExhausted === 'block' ? 'block' : 'stop',
        signal,
        classify: (err) => {
          const error = classify(err);
          if (error.kind === 'fatal' || this.halted) return 'stop';
          if (error.kind === 'invalid_data') {
            this.warnOnce(`${stage} invalid`, { stage, code: error.code, err: error }, `${stage} threw invalid data, which cannot apply to it; retrying as a transient failure`);
          }
          return 'retry';
        },
        onFailure: (err) => {
          const code = String(classify(err).code);
          for (const topic of topics) events.failed(topic, code);
        },
        onRetry: () => {
          for (const topic of topics) events.retrying(topic);
        },
        onBlocked: (err) => events.blocked(stage, classify(err)),
        onRecovered: () => events.blocked(stage, undefined),
      },
    );
    switch (outcome.kind) {
      case 'done':
        return true;
      case 'aborted':
        return false;
      case 'stopped': {
        const error = classify(outcome.error);
        if (error.kind === 'fatal') events.fatal(error);
        return false;
      }
      case 'exhausted': {
        const error = classify(outcome.error);
        if (this.whenExhausted === 'fail') {
          events.fatal(retriesExhaustedError(stage, outcome.attempts, error));
          return false;
        }
        // 'skip': nothing to dead-letter, the records are in Danube. Skipping only costs a redelivery upstream.
        this.warnOnce(
          `${stage} skipped`,
          { stage, code: error.code, records: entries.length },
          `${stage} keeps failing; skipping it (on_retry_exhausted = "dead_letter" skips acks and commits): the source may redeliver these records`,
        );
        return true;
      }
    }
  }

  /** Logs at warn the first time, then at debug: these can repeat for every record. */
  private warnOnce(key: string, fields: Record<string, unknown>, message: string): void {
    const first = !this.warned.has(key);
    this.warned.add(key);
    this.options.logger[first ? 'warn' : 'debug'](fields, first ? `${message} (logged once; further occurrences at debug)` : message);
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}
