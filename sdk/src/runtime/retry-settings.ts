import type { RetryOptions } from '../danube/retry.js';
import { ConnectorError } from '../errors.js';
import type { RuntimeSettings } from './runtime-settings.js';

/** The runtime settings every retry loop of the runtimes reads. */
export type RetrySettings = Pick<RuntimeSettings, 'maxRetries' | 'retryInitialDelayMs' | 'retryMaxDelayMs' | 'onRetryExhausted'>;

/**
 * The runtimes' retry budget (danube/retry.ts vocabulary): `maxRetries` retries after the first attempt, waits
 * from `retryInitialDelayMs` doubling to `retryMaxDelayMs` with jitter, no deadline (on_retry_exhausted decides
 * what a spent budget means). `overrides` for the loops that retry Danube forever or wait at a lower cap.
 */
export function retryBudget(settings: RetrySettings, overrides: RetryOptions = {}): RetryOptions {
  const initialDelayMs = Math.max(0, settings.retryInitialDelayMs);
  const maxDelayMs = Math.max(initialDelayMs, settings.retryMaxDelayMs);
  return { maxRetries: settings.maxRetries, initialDelayMs, maxDelayMs, ...overrides };
}

/** on_retry_exhausted = "fail": the fatal error that stops the connector after `attempts` failed attempts of `what`. */
export function retriesExhaustedError(what: string, attempts: number, error: ConnectorError): ConnectorError {
  return ConnectorError.fatal(`${what} failed ${attempts} times (on_retry_exhausted = "fail"): ${error.message}`, {
    code: 'DC_ERR_RETRIES_EXHAUSTED',
    cause: error,
  });
}
