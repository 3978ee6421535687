import { Backoff } from '../danube/backoff.js';
import { ConnectorError } from '../errors.js';
import type { RuntimeSettings } from './runtime-settings.js';

/** What to do after a failed attempt. */
type RetryVerdict =
  /** Wait `delayMs`, then try again; `blocked`: the retries ran out under 'block' (report degraded). */
  | { action: 'retry'; delayMs: number; blocked: boolean }
  /** The retries ran out under 'dead_letter': give this item up and go on. */
  | { action: 'give_up' }
  /** The retries ran out under 'fail': stop the connector with `error`. */
  | { action: 'fail'; error: ConnectorError };

export type RetryScheduleSettings = Pick<RuntimeSettings, 'maxRetries' | 'retryInitialDelayMs' | 'retryMaxDelayMs' | 'onRetryExhausted'>;

/**
 * Consecutive failures of one operation (a poll, an ack, a publish to one topic) and what `onRetryExhausted`
 * says once they outnumber `maxRetries`. Delays double from `retryInitialDelayMs` up to `retryMaxDelayMs`,
 * with jitter. A success resets the count.
 */
export class RetrySchedule {
  private readonly backoff: Backoff;
  private count = 0;

  constructor(
    private readonly settings: RetryScheduleSettings,
    /** Names the operation in the DC_ERR_RETRIES_EXHAUSTED message, e.g. 'poll'. */
    private readonly what: string,
    random?: () => number,
  ) {
    const initialDelayMs = Math.max(0, settings.retryInitialDelayMs);
    this.backoff = new Backoff({ initialDelayMs, maxDelayMs: Math.max(initialDelayMs, settings.retryMaxDelayMs), ...(random ? { random } : {}) });
  }

  /** Danube being unavailable is never a reason to give up (DESIGN §6): retried forever, whatever the policy. */
  static forever(settings: RetryScheduleSettings, what: string, random?: () => number): RetrySchedule {
    return new RetrySchedule({ ...settings, maxRetries: Infinity, onRetryExhausted: 'block' }, what, random);
  }

  /** Consecutive failures so far. */
  get failures(): number {
    return this.count;
  }

  /** Records a failed attempt with `error` and says what comes next. */
  failed(error: ConnectorError): RetryVerdict {
    this.count++;
    const exhausted = this.count > this.settings.maxRetries;
    if (exhausted && this.settings.onRetryExhausted === 'fail') {
      return {
        action: 'fail',
        error: ConnectorError.fatal(`${this.what} failed ${this.count} times (on_retry_exhausted = "fail"): ${error.message}`, {
          code: 'DC_ERR_RETRIES_EXHAUSTED',
          cause: error,
        }),
      };
    }
    if (exhausted && this.settings.onRetryExhausted === 'dead_letter') {
      this.count = 0;
      return { action: 'give_up' };
    }
    return { action: 'retry', delayMs: this.backoff.delayMs(this.count - 1), blocked: exhausted };
  }

  succeeded(): void {
    this.count = 0;
  }
}
