export interface BackoffOptions {
  /** Delay before the first retry, in ms. Default 100. */
  initialDelayMs?: number;
  /** Upper bound of any delay, in ms. Default 5000. */
  maxDelayMs?: number;
  /** Growth per attempt. Default 2. */
  multiplier?: number;
  /** Source of randomness in [0, 1); injectable for tests. */
  random?: () => number;
}

/**
 * Exponential backoff with "equal jitter": the delay for attempt n (0-based) is drawn from
 * [d/2, d) with d = min(initial × multiplier^n, max). Half the delay stays fixed so retries keep backing off,
 * half is random so many clients that failed together do not retry together.
 */
export class Backoff {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.initialDelayMs = options.initialDelayMs ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 5000;
    this.multiplier = options.multiplier ?? 2;
    this.random = options.random ?? Math.random;
    if (!(this.initialDelayMs >= 0) || !(this.maxDelayMs >= this.initialDelayMs) || !(this.multiplier >= 1)) {
      throw new RangeError(
        `backoff needs 0 <= initialDelayMs <= maxDelayMs and multiplier >= 1, got ${this.initialDelayMs}, ${this.maxDelayMs}, ${this.multiplier}`,
      );
    }
  }

  delayMs(attempt: number): number {
    const ceiling = Math.min(this.initialDelayMs * this.multiplier ** Math.max(0, attempt), this.maxDelayMs);
    return ceiling / 2 + (ceiling / 2) * this.random();
  }
}

/**
 * Callbacks waiting on one signal, behind a single 'abort' listener: hundreds of sends sleeping between retries
 * on one producer's signal would otherwise trip Node's MaxListenersExceededWarning (10 listeners) in an outage.
 */
const abortWaiters = new WeakMap<AbortSignal, Set<() => void>>();

/** Calls `callback` once when `signal` aborts; returns the function that cancels that. */
function onAbort(signal: AbortSignal, callback: () => void): () => void {
  let waiters = abortWaiters.get(signal);
  if (!waiters) {
    const set = new Set<() => void>();
    waiters = set;
    abortWaiters.set(signal, set);
    signal.addEventListener(
      'abort',
      () => {
        abortWaiters.delete(signal);
        for (const waiter of set) waiter();
        set.clear();
      },
      { once: true },
    );
  }
  const set = waiters;
  set.add(callback);
  return () => void set.delete(callback);
}

/** Resolves after `ms`, or rejects early with `signal.reason` when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const cancel = signal
      ? onAbort(signal, () => {
          clearTimeout(timer);
          reject(signal.reason);
        })
      : undefined;
    const timer = setTimeout(() => {
      cancel?.();
      resolve();
    }, ms);
  });
}
