import { closedError } from './errors.js';

export interface InFlightWindowOptions {
  /** Most callers that may wait at once; past it `acquire` rejects at once (and `onOverflow` fires). Default: unbounded. */
  maxWaiters?: number;
  /** Every slot is taken (a push source that cannot await should stop reading). */
  onFull?: () => void;
  /** A slot stayed free after the window was full. */
  onRoom?: () => void;
  /** An `acquire` was refused because `maxWaiters` callers already wait. */
  onOverflow?: () => void;
}

/**
 * The one FIFO counting semaphore of the SDK: at most `capacity` items in flight (a producer's unacknowledged
 * sends, a consumer's acks on the wire, a source runtime's records accepted and not yet committed). `acquire`
 * takes a slot at once while one is free and nobody waits ahead, and otherwise waits in FIFO order: the
 * back-pressure callers feel, with nothing buffered without bound. Full/room transitions are reported once
 * each, for pause/resume. `close` rejects every waiter and later `acquire` with DC_ERR_CLOSED; slots already
 * held stay held until released. It lives in the danube layer so that the runtime may import it (never the
 * reverse).
 */
export class InFlightWindow {
  private used = 0;
  private full = false;
  private readonly waiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  private roomWaiters: Array<() => void> = [];
  private closedReason: Error | undefined;
  private readonly maxWaiters: number;

  constructor(
    readonly capacity: number,
    private readonly options: InFlightWindowOptions = {},
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`an in-flight window needs a whole number of slots >= 1, got ${capacity}`);
    this.maxWaiters = options.maxWaiters ?? Infinity;
  }

  /** Slots taken. */
  get inFlight(): number {
    return this.used;
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
  }

  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  /** Takes a slot when one is free and nobody waits ahead; false otherwise (then use `acquire`), and once closed. */
  tryAcquire(): boolean {
    if (this.closedReason || this.used >= this.capacity || this.waiters.length > 0) return false;
    this.used++;
    this.update();
    return true;
  }

  /**
   * Takes a slot: undefined when it was free (no promise, no microtask on the hot path), otherwise a promise that
   * resolves once the slot is this caller's, and rejects when the window is (or gets) closed or too many wait.
   */
  acquire(): Promise<void> | undefined {
    if (this.closedReason) return Promise.reject(this.closedReason);
    if (this.tryAcquire()) return undefined;
    if (this.waiters.length >= this.maxWaiters) {
      this.options.onOverflow?.();
      return Promise.reject(new RangeError(`${this.waiters.length} callers already wait for one of ${this.capacity} in-flight slots`));
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Frees `count` slots; waiters take them first, in FIFO order. */
  release(count = 1): void {
    for (let i = 0; i < count; i++) {
      const next = this.waiters.shift();
      if (next) next.resolve();
      else this.used = Math.max(0, this.used - 1);
    }
    this.update();
  }

  /** Resolves when a slot is free (without taking it) or the window is closed; for pull loops. */
  whenRoom(): Promise<void> {
    if (this.closedReason || (this.used < this.capacity && this.waiters.length === 0)) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Rejects every waiter and every later `acquire` with DC_ERR_CLOSED naming `what`; slots taken stay taken until released. */
  close(what = 'in-flight window'): void {
    if (this.closedReason) return;
    this.closedReason = closedError(what);
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.closedReason);
    this.wakeRoomWaiters();
  }

  private wakeRoomWaiters(): void {
    if (this.roomWaiters.length === 0) return;
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const wake of waiters) wake();
  }

  private update(): void {
    const full = this.used >= this.capacity;
    if (!full) this.wakeRoomWaiters();
    if (full === this.full) return;
    this.full = full;
    // A closed window is an intake that stopped for good: resuming the source would only produce refusals.
    if (this.closedReason) return;
    if (full) this.options.onFull?.();
    else this.options.onRoom?.();
  }
}
