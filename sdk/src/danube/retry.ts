import { Backoff, sleep, type BackoffOptions } from './backoff.js';
import { closedError, DanubeError } from './errors.js';

export interface RetryOptions extends BackoffOptions {
  /** Retries after the first attempt for retryable failures. `Infinity` retries until closed. Default 5. */
  maxRetries?: number;
}

export interface RetryContext {
  signal?: AbortSignal | undefined;
  /** Called before each retry sleep, e.g. to log or to invalidate a cached route. */
  onRetry?: ((error: DanubeError, attempt: number, delayMs: number) => void) | undefined;
  /** What is being retried, for the closed error. */
  what: string;
}

/** Runs `attempt` until it succeeds, fails with a non-retryable DanubeError, or the retries run out. */
export async function withRetry<T>(attempt: (n: number) => Promise<T>, options: RetryOptions, ctx: RetryContext): Promise<T> {
  const backoff = new Backoff(options);
  const maxRetries = options.maxRetries ?? 5;
  for (let n = 0; ; n++) {
    if (ctx.signal?.aborted) throw closedError(ctx.what);
    try {
      return await attempt(n);
    } catch (err) {
      if (!(err instanceof DanubeError) || !err.retryable || n >= maxRetries) throw err;
      if (ctx.signal?.aborted) throw closedError(ctx.what);
      const delay = backoff.delayMs(n);
      ctx.onRetry?.(err, n + 1, delay);
      try {
        await sleep(delay, ctx.signal);
      } catch {
        throw closedError(ctx.what);
      }
    }
  }
}
