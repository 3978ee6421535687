import type { Logger } from 'pino';
import { sleep } from '../danube/backoff.js';
import { classify, type ConnectorError } from '../errors.js';
import type { SourceRecord } from '../record.js';
import { CommitTracker } from './commit-tracker.js';
import type { InFlightRecord, RecordOutcome } from './in-flight-record.js';
import { RetrySchedule, type RetryScheduleSettings } from './retry-schedule.js';

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
  settings: RetryScheduleSettings;
  /** Aborts the waits between retries. */
  signal: AbortSignal;
  events: CommitterEvents;
  logger: Logger;
}

/**
 * Commits records in acceptance order once they are done: each record's `ack`, then the connector's `commit`
 * with the batch of consecutive done records. One batch at a time; whatever completes meanwhile joins the next.
 * Failing calls are classified: retryable (and, with a warning, invalid data) are retried with backoff under
 * `onRetryExhausted` ('dead_letter' skips that ack or commit: the source redelivers, never loses); fatal stops.
 */
export class OrderedCommitter {
  private readonly tracker = new CommitTracker<InFlightRecord>();
  private running: Promise<void> | undefined;
  private halted = false;
  private committedCount = 0;
  private emptyWaiters: Array<() => void> = [];
  private readonly warned = new Set<string>();

  constructor(private readonly options: OrderedCommitterOptions) {}

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
        const ack = entry.record.ack;
        if (ack && !(await this.attempt('ack', [entry], () => entry.record.ack?.()))) return this.stopForGood();
        entry.acked = true;
      }
      if (this.halted) return;
      if (commit && !(await this.attempt('commit', batch, () => commit(batch.map((entry) => entry.record))))) return this.stopForGood();
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

  /** Runs one ack or commit call until it works; false when the committer must stop (halted or fatal). */
  private async attempt(stage: CommitStage, entries: readonly InFlightRecord[], call: () => unknown): Promise<boolean> {
    // The common case costs one call; the retry bookkeeping is made only once something failed.
    try {
      await call();
      return true;
    } catch (err) {
      return this.retry(stage, entries, call, err);
    }
  }

  private async retry(stage: CommitStage, entries: readonly InFlightRecord[], call: () => unknown, firstError: unknown): Promise<boolean> {
    const { events, signal } = this.options;
    const schedule = new RetrySchedule(this.options.settings, stage);
    const topics = [...new Set(entries.map((entry) => entry.topic))];
    let blocked = false;
    for (let err = firstError; ; ) {
      const error = classify(err);
      for (const topic of topics) events.failed(topic, String(error.code));
      if (error.kind === 'fatal') {
        events.fatal(error);
        return false;
      }
      if (error.kind === 'invalid_data') {
        this.warnOnce(`${stage} invalid`, { stage, code: error.code, err: error }, `${stage} threw invalid data, which cannot apply to it; retrying as a transient failure`);
      }
      const verdict = schedule.failed(error);
      if (verdict.action === 'fail') {
        events.fatal(verdict.error);
        return false;
      }
      if (verdict.action === 'give_up') {
        // Nothing to dead-letter here: the records are in Danube. Skipping only costs a redelivery upstream.
        this.warnOnce(`${stage} skipped`, { stage, code: error.code, records: entries.length }, `${stage} keeps failing; skipping it (on_retry_exhausted = "dead_letter"): the source may redeliver these records`);
        if (blocked) events.blocked(stage, undefined);
        return true;
      }
      if (verdict.blocked && !blocked) {
        blocked = true;
        events.blocked(stage, error);
      }
      for (const topic of topics) events.retrying(topic);
      if (this.halted) return false;
      try {
        await sleep(verdict.delayMs, signal);
      } catch {
        return false;
      }
      try {
        await call();
        if (blocked) events.blocked(stage, undefined);
        return true;
      } catch (next) {
        err = next;
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

