import { Backoff, sleep, type BackoffOptions } from './backoff.js';
import { closedError, DanubeError } from './errors.js';

export interface RetryOptions extends BackoffOptions {
  /**
   * How long a request keeps retrying retryable failures, in ms from its first attempt; the last failure is
   * thrown once the next wait would end past it. Default 120000 (Kafka's `delivery.timeout.ms`): long enough to
   * ride out a broker restart. `Infinity` retries until closed. When only `maxRetries` is given, the count alone
   * bounds the retries.
   */
  deadlineMs?: number;
  /** Retries after the first attempt (0 = one attempt, `Infinity` = until closed). Default: bounded by the deadline only. */
  maxRetries?: number;
}

/** Default retry budget of every client request (README "Retries"). */
const DEFAULT_RETRY_DEADLINE_MS = 120_000;

export interface RetryContext {
  signal?: AbortSignal | undefined;
  /** Called before each retry sleep, e.g. to log or to invalidate a cached route. */
  onRetry?: ((error: DanubeError, attempt: number, delayMs: number) => void) | undefined;
  /** What is being retried, for the closed error. */
  what: string;
}

/** Runs `attempt` until it succeeds, fails with a non-retryable DanubeError, or the retry budget is spent. */
export async function withRetry<T>(attempt: (n: number) => Promise<T>, options: RetryOptions, ctx: RetryContext): Promise<T> {
  const backoff = new Backoff(options);
  const maxRetries = options.maxRetries ?? Infinity;
  const budgetMs = options.deadlineMs ?? (options.maxRetries === undefined ? DEFAULT_RETRY_DEADLINE_MS : Infinity);
  const deadline = performance.now() + budgetMs;
  for (let n = 0; ; n++) {
    if (ctx.signal?.aborted) throw closedError(ctx.what);
    try {
      return await attempt(n);
    } catch (err) {
      if (!(err instanceof DanubeError) || !err.retryable || n >= maxRetries) throw err;
      if (ctx.signal?.aborted) throw closedError(ctx.what);
      const delay = backoff.delayMs(n);
      if (performance.now() + delay > deadline) {
        throw new DanubeError(`${err.message} (gave up after ${Math.round(budgetMs / 1000)} s of retries)`, {
          code: err.code,
          retryable: true,
          grpcStatus: err.grpcStatus,
          cause: err,
        });
      }
      ctx.onRetry?.(err, n + 1, delay);
      try {
        await sleep(delay, ctx.signal);
      } catch {
        throw closedError(ctx.what);
      }
    }
  }
}
