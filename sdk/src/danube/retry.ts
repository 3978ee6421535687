import { Backoff, sleep, type BackoffOptions } from './backoff.js';
import { closedError, DanubeError } from './errors.js';

/**
 * The one retry vocabulary of the SDK (sdk/README.md "Retries", docs/delivery-semantics.md §5):
 * - an **attempt** is one call; attempts are counted from 1, and `attempts` always means calls made;
 * - a **retry** is every attempt after the first: `maxRetries` = 5 allows 6 attempts;
 * - the wait before retry r is the capped exponential backoff with jitter of r - 1 (`Backoff`);
 * - the **budget** is spent when the retries reach `maxRetries` or the next wait would end past `deadlineMs`
 *   (measured from the first attempt, or from the last success for a budget that is reused);
 * - `classify` says per failure whether it is worth another attempt ('retry') or not ('stop');
 * - what happens once the budget is spent is the caller's policy: `whenExhausted = 'block'` keeps retrying at the
 *   capped delay (reporting it once), 'stop' ends the loop with an `exhausted` outcome, which the caller turns
 *   into its own named action (the runtimes' on_retry_exhausted = block | dead_letter | fail).
 */
export interface RetryOptions extends BackoffOptions {
  /**
   * How long a request keeps retrying retryable failures, in ms from its first attempt; the last failure is
   * thrown once the next wait would end past it. Client default 120000 (Kafka's `delivery.timeout.ms`): long
   * enough to ride out a broker restart. `Infinity` retries until closed. When only `maxRetries` is given, the
   * count alone bounds the retries.
   */
  deadlineMs?: number;
  /** Retries after the first attempt (0 = one attempt, `Infinity` = until closed). Default: bounded by the deadline only. */
  maxRetries?: number;
}

/** Default retry budget of every client request (README "Retries"). */
const DEFAULT_RETRY_DEADLINE_MS = 120_000;

/** What the budget says after a failed attempt. */
export interface RetryStep {
  /** Wait this long before the next attempt (capped, so 'block' can go on at the cap). */
  delayMs: number;
  /** The budget is spent: by the count of retries or by the deadline. Undefined while it is not. */
  exhausted: 'retries' | 'deadline' | undefined;
}

/**
 * Consecutive failed attempts of one operation against a budget of retries and time. The primitive every retry
 * loop of the SDK is built on (withRetry and retry below, and the stateful loops of the runtimes).
 */
export class RetryBudget {
  readonly maxRetries: number;
  readonly deadlineMs: number;
  private readonly backoff: Backoff;
  private count = 0;

  /** `startedAt`: when the first attempt began (performance.now() ms); default now. */
  constructor(
    options: RetryOptions = {},
    private startedAt = performance.now(),
  ) {
    this.backoff = new Backoff(options);
    this.maxRetries = options.maxRetries ?? Infinity;
    this.deadlineMs = options.deadlineMs ?? Infinity;
    if (!(this.maxRetries >= 0) || !(this.deadlineMs >= 0)) throw new RangeError(`a retry budget needs maxRetries >= 0 and deadlineMs >= 0, got ${this.maxRetries}, ${this.deadlineMs}`);
  }

  /** Failed attempts since the start or the last success. */
  get failures(): number {
    return this.count;
  }

  /** Records a failed attempt and says how long to wait before the next one and whether the budget is spent. */
  fail(): RetryStep {
    this.count++;
    // Retry r = failures waits backoff(r - 1); the Backoff caps it however long 'block' goes on.
    const delayMs = this.backoff.delayMs(this.count - 1);
    if (this.count > this.maxRetries) return { delayMs, exhausted: 'retries' };
    if (performance.now() + delayMs > this.startedAt + this.deadlineMs) return { delayMs, exhausted: 'deadline' };
    return { delayMs, exhausted: undefined };
  }

  /** An attempt worked: the count and the deadline start over. */
  succeeded(): void {
    this.count = 0;
    this.startedAt = performance.now();
  }
}

type RetryDecision = 'retry' | 'stop';

/** How a retry loop ended; `attempts` counts the calls made. */
export type RetryOutcome<T> =
  | { kind: 'done'; value: T; attempts: number }
  /** `classify` said 'stop' for `error`. */
  | { kind: 'stopped'; error: unknown; attempts: number }
  /** The budget was spent under whenExhausted = 'stop'; `error` is the last failure. */
  | { kind: 'exhausted'; error: unknown; attempts: number; by: 'retries' | 'deadline' }
  /** The signal aborted before an attempt or during a wait; the last failure, if any, is `error`. */
  | { kind: 'aborted'; error: unknown; attempts: number };

export interface RetryLoopOptions {
  budget: RetryOptions;
  /** Per failure: 'retry' or 'stop'. */
  classify: (error: unknown) => RetryDecision;
  /** What a spent budget means here: keep retrying at the capped delay ('block'), or end with `exhausted` ('stop'). */
  whenExhausted: 'block' | 'stop';
  /** Ends the loop before the next attempt or during a wait (never an attempt in progress). */
  signal?: AbortSignal | undefined;
  /** When the first attempt began (performance.now() ms), if before this call; the deadline counts from it. */
  startedAt?: number | undefined;
  /** Every failed attempt (1-based), before it is classified. */
  onFailure?: ((error: unknown, attempt: number) => void) | undefined;
  /** Before each wait: the failed attempt and the wait before the next one. */
  onRetry?: ((error: unknown, attempt: number, delayMs: number) => void) | undefined;
  /** 'block': the budget was spent; from now on the operation is retried until it works. */
  onBlocked?: ((error: unknown) => void) | undefined;
  /** 'block': the operation worked after `onBlocked`. */
  onRecovered?: (() => void) | undefined;
}

/** Runs `attempt` (given its 1-based number) until it works, `classify` stops it, the budget is spent, or the signal aborts. */
export async function retry<T>(attempt: (n: number) => Promise<T> | T, options: RetryLoopOptions): Promise<RetryOutcome<T>> {
  const budget = new RetryBudget(options.budget, options.startedAt);
  const { signal } = options;
  let blocked = false;
  let last: unknown;
  for (let n = 1; ; n++) {
    if (signal?.aborted) return { kind: 'aborted', error: last, attempts: n - 1 };
    try {
      const value = await attempt(n);
      if (blocked) options.onRecovered?.();
      return { kind: 'done', value, attempts: n };
    } catch (err) {
      last = err;
      options.onFailure?.(err, n);
      if (options.classify(err) === 'stop') return { kind: 'stopped', error: err, attempts: n };
      if (signal?.aborted) return { kind: 'aborted', error: err, attempts: n };
      const step = budget.fail();
      if (step.exhausted && !blocked) {
        if (options.whenExhausted === 'stop') return { kind: 'exhausted', error: err, attempts: n, by: step.exhausted };
        blocked = true;
        options.onBlocked?.(err);
      }
      options.onRetry?.(err, n, step.delayMs);
      try {
        await sleep(step.delayMs, signal);
      } catch {
        return { kind: 'aborted', error: err, attempts: n };
      }
    }
  }
}

export interface RetryContext {
  signal?: AbortSignal | undefined;
  /** Called before each retry sleep with the failed attempt's number (1-based), e.g. to log or to invalidate a cached route. */
  onRetry?: ((error: DanubeError, attempt: number, delayMs: number) => void) | undefined;
  /** What is being retried, for the closed error. */
  what: string;
}

/**
 * The Danube client's form of `retry`: retries retryable DanubeErrors until the budget (default: 120 s) is
 * spent, then throws the last failure (saying so when the deadline ended it); DC_ERR_CLOSED once `signal` aborts.
 */
export function withRetry<T>(attempt: (n: number) => Promise<T>, options: RetryOptions, ctx: RetryContext): Promise<T> {
  if (ctx.signal?.aborted) return Promise.reject(closedError(ctx.what));
  // The first attempt runs on its own: nearly every call succeeds at once, and the loop's budget, closures and
  // promises would cost on every message of the hot path (SendMessage, Ack). A failure enters the loop as its
  // attempt 1, so what follows is exactly the loop's.
  const startedAt = performance.now();
  let first: Promise<T>;
  try {
    first = attempt(0);
  } catch (err) {
    first = Promise.reject(err);
  }
  return first.then(undefined, (err: unknown) => retryAfter(err, startedAt, attempt, options, ctx));
}

async function retryAfter<T>(first: unknown, startedAt: number, attempt: (n: number) => Promise<T>, options: RetryOptions, ctx: RetryContext): Promise<T> {
  const deadlineMs = options.deadlineMs ?? (options.maxRetries === undefined ? DEFAULT_RETRY_DEADLINE_MS : Infinity);
  const outcome = await retry((n) => (n === 1 ? Promise.reject(first) : attempt(n - 1)), {
    budget: { ...options, deadlineMs },
    classify: (err) => (err instanceof DanubeError && err.retryable ? 'retry' : 'stop'),
    whenExhausted: 'stop',
    signal: ctx.signal,
    startedAt,
    onRetry: ctx.onRetry && ((err, n, delayMs) => ctx.onRetry?.(err as DanubeError, n, delayMs)),
  });
  switch (outcome.kind) {
    case 'done':
      return outcome.value;
    case 'aborted':
      throw closedError(ctx.what);
    case 'stopped':
      throw outcome.error;
    case 'exhausted': {
      const err = outcome.error as DanubeError;
      if (outcome.by === 'retries') throw err;
      throw new DanubeError(`${err.message} (gave up after ${Math.round(deadlineMs / 1000)} s of retries)`, {
        code: err.code,
        retryable: true,
        grpcStatus: err.grpcStatus,
        cause: err,
      });
    }
  }
}
