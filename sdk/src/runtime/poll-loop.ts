import type { Logger } from 'pino';
import { sleep } from '../danube/backoff.js';
import type { InFlightWindow } from '../danube/in-flight-window.js';
import { RetryBudget } from '../danube/retry.js';
import { classify, type ConnectorError } from '../errors.js';
import type { SourceRecord } from '../record.js';
import { retryBudget, retriesExhaustedError, type RetrySettings } from './retry-settings.js';

interface PollLoopOptions {
  poll: (signal: AbortSignal) => Promise<SourceRecord[]>;
  /** Hands one record to the runtime; resolves true once accepted (waits while the window is full), false once intake stopped. */
  accept: (record: SourceRecord) => Promise<boolean>;
  window: InFlightWindow;
  pollIntervalMs: number;
  settings: RetrySettings;
  logger: Logger;
  events: {
    failed(code: string): void;
    retrying(): void;
    /** The retries ran out under 'block' (degraded), or `undefined` once a poll worked again. */
    blocked(error: ConnectorError | undefined): void;
    fatal(error: ConnectorError): void;
  };
}

/**
 * Pull-style intake: polls only while the window has room, waits `pollIntervalMs` after an empty poll, and
 * retries failing polls with backoff under `onRetryExhausted`. Invalid data thrown by poll cannot name a record, so it is retried too, with a warning.
 */
export class PollLoop {
  private readonly abort = new AbortController();
  /** Consecutive failed polls; a poll that works starts it over. */
  private readonly budget: RetryBudget;
  /** on_retry_exhausted for polls: a poll failure names no record, so there is nothing to dead-letter and 'dead_letter' blocks like 'block'. */
  private readonly whenExhausted: 'block' | 'fail';
  private blocked = false;
  private warnedInvalid = false;
  /** Settles when the loop has ended; never rejects. */
  readonly done: Promise<void>;

  constructor(private readonly options: PollLoopOptions) {
    this.whenExhausted = options.settings.onRetryExhausted === 'fail' ? 'fail' : 'block';
    this.budget = new RetryBudget(retryBudget(options.settings));
    this.done = this.run().catch((err: unknown) => options.events.fatal(classify(err)));
  }

  /** Aborts the poll in progress (through its signal) and any wait; no poll starts afterwards. */
  stop(): void {
    this.abort.abort();
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted || this.options.window.closed;
  }

  private async run(): Promise<void> {
    const { window, accept, events } = this.options;
    const signal = this.abort.signal;
    while (!this.stopped) {
      await window.whenRoom();
      if (this.stopped) return;
      let records: SourceRecord[];
      try {
        records = await this.options.poll(signal);
      } catch (err) {
        if (this.stopped) return;
        if (!(await this.failed(classify(err)))) return;
        continue;
      }
      if (this.budget.failures > 0) this.recovered();
      if (!Array.isArray(records)) {
        throw new TypeError(`poll() must resolve with an array of records, got ${records === null ? 'null' : typeof records}`);
      }
      if (records.length === 0) {
        if (!(await this.wait(this.options.pollIntervalMs))) return;
        continue;
      }
      for (const record of records) {
        // Not accepted: the intake stopped, and this record (never acked) is redelivered by the source.
        if (!(await accept(record))) return;
      }
    }
  }

  /** Handles a failed poll; false when the loop must end. */
  private async failed(error: ConnectorError): Promise<boolean> {
    const { events, logger } = this.options;
    events.failed(String(error.code));
    if (error.kind === 'fatal') {
      events.fatal(error);
      return false;
    }
    if (error.kind === 'invalid_data') {
      const message = 'poll threw invalid data, which cannot name a record; retrying as a transient failure';
      if (this.warnedInvalid) logger.debug({ code: error.code, err: error }, message);
      else logger.warn({ code: error.code, err: error }, `${message} (logged once; further occurrences at debug)`);
      this.warnedInvalid = true;
    }
    const step = this.budget.fail();
    if (step.exhausted && this.whenExhausted === 'fail') {
      events.fatal(retriesExhaustedError('poll', this.budget.failures, error));
      return false;
    }
    const delayMs = step.delayMs;
    if (step.exhausted && !this.blocked) {
      this.blocked = true;
      events.blocked(error);
    }
    logger.debug({ code: error.code, failures: this.budget.failures, delayMs }, 'poll failed, retrying');
    events.retrying();
    return this.wait(delayMs);
  }

  private recovered(): void {
    this.budget.succeeded();
    if (!this.blocked) return;
    this.blocked = false;
    this.options.events.blocked(undefined);
  }

  private async wait(ms: number): Promise<boolean> {
    try {
      await sleep(ms, this.abort.signal);
      return true;
    } catch {
      return false;
    }
  }
}
