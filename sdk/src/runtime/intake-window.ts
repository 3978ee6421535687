/** Most callers that may wait for a slot at once, unless the capacity is larger: past it `acquire` refuses at once. */
export const MIN_MAX_WAITERS = 1024;

interface IntakeWindowEvents {
  /** Every slot is taken: the source should stop reading (push sources that cannot await `send`). */
  onFull?: () => void;
  /** A slot stayed free after the window was full. */
  onRoom?: () => void;
  /** An `acquire` was refused because `maxWaiters` callers already wait (a source that neither awaits nor pauses). */
  onOverflow?: () => void;
}

/**
 * The source's in-flight window: at most `capacity` records accepted and not yet committed. `acquire` waits in
 * FIFO order while every slot is taken, which is the back-pressure a source feels; at most
 * max(capacity, MIN_MAX_WAITERS) callers wait, later ones are refused at once, so nothing queues without bound.
 * Full/room transitions are reported once each, for pause/resume. Once closed, waiters and later callers are
 * refused (resolve false), never rejected: a push source's event handlers must not see a stop as an error.
 */
export class IntakeWindow {
  private used = 0;
  private full = false;
  private readonly waiters: Array<(taken: boolean) => void> = [];
  private roomWaiters: Array<() => void> = [];
  private isClosed = false;
  private readonly maxWaiters: number;

  constructor(
    readonly capacity: number,
    private readonly events: IntakeWindowEvents = {},
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`maxInFlight must be a whole number >= 1, got ${capacity}`);
    this.maxWaiters = Math.max(capacity, MIN_MAX_WAITERS);
  }

  /** Slots taken. */
  get inUse(): number {
    return this.used;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Takes a slot when one is free and nobody waits ahead; false otherwise (then use `acquire`). */
  tryAcquire(): boolean {
    if (this.isClosed || this.used >= this.capacity || this.waiters.length > 0) return false;
    this.used++;
    this.update();
    return true;
  }

  /** Resolves true once a slot is taken; false when the window is (or gets) closed first, or too many wait. */
  acquire(): Promise<boolean> {
    if (this.isClosed) return Promise.resolve(false);
    if (this.tryAcquire()) return Promise.resolve(true);
    if (this.waiters.length >= this.maxWaiters) {
      this.events.onOverflow?.();
      return Promise.resolve(false);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Frees `count` slots (their records were committed); waiters take them first. */
  release(count = 1): void {
    for (let i = 0; i < count; i++) {
      const next = this.isClosed ? undefined : this.waiters.shift();
      if (next) next(true);
      else this.used = Math.max(0, this.used - 1);
    }
    this.update();
  }

  /** Resolves when a slot is free (without taking it) or the window is closed; for pull loops. */
  whenRoom(): Promise<void> {
    if (this.isClosed || (this.used < this.capacity && this.waiters.length === 0)) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Refuses every waiter and every later `acquire`; slots taken stay taken until released. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const waiter of this.waiters.splice(0)) waiter(false);
    this.wakeRoomWaiters();
  }

  private wakeRoomWaiters(): void {
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
    if (this.isClosed) return;
    if (full) this.events.onFull?.();
    else this.events.onRoom?.();
  }
}
