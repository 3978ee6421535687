export interface SinkBatcherOptions {
  /** Most records per batch. */
  batchSize: number;
  /** Longest wait, in ms, from a batch's first record until it is handed out. */
  batchTimeoutMs: number;
  /**
   * The broker's window of unacked messages per subscription and (partition) topic (docs/danube-protocol.md §9.4, default 10).
   * Once this many records are pending the broker sends nothing more until acks come, so the batch goes at once.
   */
  maxUnacked: number;
  /** Monotonic clock in ms (default performance.now); injectable for tests. */
  now?: () => number;
}

interface Buffered<T> {
  item: T;
  arrivedAt: number;
}

/**
 * The records of one partition waiting to be written, and when they form a batch: `batchSize` records,
 * `batchTimeoutMs` after the batch's first record, or at once when the unacked window is full (waiting for
 * more would stall: docs/delivery-semantics.md §4.2). Records count as pending (unacked) from `push` until `settle`;
 * a redelivered copy of a pending record is refused, so a long retry does not collect duplicates.
 */
export class SinkBatcher<T> {
  private readonly batchSize: number;
  private readonly batchTimeoutMs: number;
  private readonly maxUnacked: number;
  private readonly now: () => number;
  private buffer: Array<Buffered<T>> = [];
  /** Pending records by key, with when each arrived; a Map keeps arrival order, so the first is the oldest. */
  private readonly pendingKeys = new Map<string, number>();
  /** The window filled since the buffer was last empty: flush without waiting. */
  private windowFull = false;
  private readonly waiters = new Set<() => void>();

  constructor(
    options: SinkBatcherOptions,
    private readonly keyOf: (item: T) => string,
  ) {
    if (!(options.batchSize >= 1) || !(options.batchTimeoutMs >= 0) || !(options.maxUnacked >= 1)) {
      throw new RangeError(
        `sink batcher needs batchSize >= 1, batchTimeoutMs >= 0 and maxUnacked >= 1, got ${options.batchSize}, ${options.batchTimeoutMs}, ${options.maxUnacked}`,
      );
    }
    this.batchSize = Math.floor(options.batchSize);
    this.batchTimeoutMs = options.batchTimeoutMs;
    this.maxUnacked = options.maxUnacked;
    this.now = options.now ?? (() => performance.now());
  }

  /** Records pushed and not settled: buffered plus handed out. */
  get pending(): number {
    return this.pendingKeys.size;
  }

  /** How long the oldest pending record has waited, ms; 0 when none. */
  oldestPendingAgeMs(): number {
    for (const arrivedAt of this.pendingKeys.values()) return Math.max(0, this.now() - arrivedAt);
    return 0;
  }

  /** Records waiting for a batch. */
  get buffered(): number {
    return this.buffer.length;
  }

  /** Most records buffered before `room` waits: a full batch, and never less than the broker's window. */
  get capacity(): number {
    return Math.max(this.batchSize, this.maxUnacked);
  }

  /** Adds a record; false (and nothing changes) when the same record is already pending. */
  push(item: T): boolean {
    const key = this.keyOf(item);
    if (this.pendingKeys.has(key)) return false;
    const arrivedAt = this.now();
    this.pendingKeys.set(key, arrivedAt);
    this.buffer.push({ item, arrivedAt });
    if (this.pendingKeys.size >= this.maxUnacked) this.windowFull = true;
    this.notify();
    return true;
  }

  /** A record handed out is done (acked, dead-lettered or dropped): it no longer holds a place in the window. */
  settle(item: T): void {
    this.pendingKeys.delete(this.keyOf(item));
    this.notify();
  }

  /** Up to `max` buffered records at once, without waiting (none when nothing is buffered). */
  takeNow(max: number): T[] {
    return this.buffer.length === 0 || max < 1 ? [] : this.take(max);
  }

  /** Wakes whoever waits in `next`, `room` or `changed` to look again (their caller's state changed). */
  poke(): void {
    this.notify();
  }

  /** Resolves at the next push, settle or poke, or when `signal` aborts. */
  changed(signal: AbortSignal): Promise<void> {
    return signal.aborted ? Promise.resolve() : this.waitForChange(signal, undefined);
  }

  /** Resolves once fewer than `capacity` records are buffered, or when `signal` aborts. */
  async room(signal: AbortSignal): Promise<void> {
    while (this.buffer.length >= this.capacity && !signal.aborted) await this.waitForChange(signal, undefined);
  }

  /**
   * Resolves with the next batch (at most `max` records) when it is due, or undefined once `signal` aborts or
   * `stop()` says so at a `poke` (no batch is taken then).
   */
  async next(signal: AbortSignal, max = this.batchSize, stop?: () => boolean): Promise<T[] | undefined> {
    while (!signal.aborted && !stop?.()) {
      const waitMs = this.dueInMs();
      if (waitMs === 0) return this.take(max);
      await this.waitForChange(signal, waitMs);
    }
    return undefined;
  }

  /** 0 when a batch is due now, else how long until it is (undefined: no records, wait for one). */
  private dueInMs(): number | undefined {
    const first = this.buffer[0];
    if (!first) return undefined;
    if (this.buffer.length >= this.batchSize || this.windowFull) return 0;
    return Math.max(0, first.arrivedAt + this.batchTimeoutMs - this.now());
  }

  private take(max: number): T[] {
    const batch = this.buffer.splice(0, Math.max(1, Math.min(max, this.batchSize))).map((b) => b.item);
    if (this.buffer.length === 0) this.windowFull = false;
    this.notify();
    return batch;
  }

  private notify(): void {
    for (const wake of [...this.waiters]) wake();
  }

  /** Waits for a push or settle, the given time, or the abort, whichever comes first. */
  private waitForChange(signal: AbortSignal, timeoutMs: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      this.waiters.add(done);
      if (timeoutMs !== undefined) timer = setTimeout(done, timeoutMs);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
