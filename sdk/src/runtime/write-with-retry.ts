import { sleep, type Backoff } from '../danube/backoff.js';
import { classify, ConnectorError } from '../errors.js';
import type { RuntimeSettings } from './runtime-settings.js';

/** How a write ended after its retries. */
export type WriteOutcome =
  | { kind: 'written'; attempts: number }
  | { kind: 'invalid_data'; error: ConnectorError; attempts: number }
  /** Retries ran out and the policy is 'dead_letter': the records go to the dead-letter topic (or are dropped). */
  | { kind: 'exhausted'; error: ConnectorError; attempts: number }
  | { kind: 'fatal'; error: ConnectorError; attempts: number }
  /** The signal aborted while waiting to retry; the records are left unacked. */
  | { kind: 'aborted'; attempts: number };

export interface WriteRetryOptions {
  maxRetries: number;
  onRetryExhausted: RuntimeSettings['onRetryExhausted'];
  backoff: Backoff;
  /** Aborts the wait between attempts (never a write in progress). */
  signal: AbortSignal;
  /** Every failed attempt, classified. */
  onFailure?: (error: ConnectorError, attempt: number) => void;
  /** Before each retry's wait. */
  onRetry?: (attempt: number, delayMs: number) => void;
  /** 'block': the retries ran out and from now on the write is retried until it works. */
  onBlocked?: (error: ConnectorError) => void;
  /** 'block': the write worked after `onBlocked`. */
  onRecovered?: () => void;
}

/**
 * Runs `write` until it resolves, retrying retryable failures with backoff. After `maxRetries` retries the
 * policy decides: 'block' keeps retrying (capped backoff), 'dead_letter' returns `exhausted`, 'fail' returns
 * a fatal DC_ERR_RETRIES_EXHAUSTED. Invalid data and fatal errors return at once: retrying cannot help.
 */
export async function writeWithRetry(write: () => Promise<void> | void, options: WriteRetryOptions): Promise<WriteOutcome> {
  let blocked = false;
  for (let attempt = 1; ; attempt++) {
    if (options.signal.aborted) return { kind: 'aborted', attempts: attempt - 1 };
    try {
      await write();
      if (blocked) options.onRecovered?.();
      return { kind: 'written', attempts: attempt };
    } catch (err) {
      const error = classify(err);
      options.onFailure?.(error, attempt);
      if (error.kind === 'invalid_data') return { kind: 'invalid_data', error, attempts: attempt };
      if (error.kind === 'fatal') return { kind: 'fatal', error, attempts: attempt };
      if (attempt > options.maxRetries && !blocked) {
        if (options.onRetryExhausted === 'dead_letter') return { kind: 'exhausted', error, attempts: attempt };
        if (options.onRetryExhausted === 'fail') {
          const fatal = ConnectorError.fatal(`write failed ${attempt} times (on_retry_exhausted = "fail"): ${error.message}`, {
            code: 'DC_ERR_RETRIES_EXHAUSTED',
            cause: error,
          });
          return { kind: 'fatal', error: fatal, attempts: attempt };
        }
        blocked = true;
        options.onBlocked?.(error);
      }
      // Attempt n waits backoff(n - 1); the Backoff caps it at the maximum however long 'block' goes on.
      const delayMs = options.backoff.delayMs(attempt - 1);
      options.onRetry?.(attempt, delayMs);
      try {
        await sleep(delayMs, options.signal);
      } catch {
        return { kind: 'aborted', attempts: attempt };
      }
    }
  }
}
