interface IntakeWindowEvents {
  /** Every slot is taken: the source should stop reading (push sources that cannot await `send`). */
  onFull?: () => void;
  /** A slot stayed free after the window was full. */
  onRoom?: () => void;
}

/**
 * The source's in-flight window: at most `capacity` records accepted and not yet committed. `acquire` waits in
 * FIFO order while every slot is taken, which is the back-pressure a source feels; nothing queues without bound
 * besides the callers themselves. Full/room transitions are reported once each, for pause/resume.
 */
export class IntakeWindow {
  private used = 0;
  private full = false;
  private readonly waiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  private roomWaiters: Array<() => void> = [];
  private closedReason: Error | undefined;

  constructor(
    readonly capacity: number,
    private readonly events: IntakeWindowEvents = {},
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`maxInFlight must be a whole number >= 1, got ${capacity}`);
  }

  /** Slots taken. */
  get inUse(): number {
    return this.used;
  }

  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  /** Takes a slot when one is free and nobody waits ahead; false otherwise (then use `acquire`). */
  tryAcquire(): boolean {
    if (this.closedReason || this.used >= this.capacity || this.waiters.length > 0) return false;
    this.used++;
    this.update();
    return true;
  }

  /** Resolves once a slot is taken; rejects when the window closes first. */
  acquire(): Promise<void> {
    if (this.closedReason) return Promise.reject(this.closedReason);
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Frees `count` slots (their records were committed); waiters take them first. */
  release(count = 1): void {
    for (let i = 0; i < count; i++) {
      const next = this.closedReason ? undefined : this.waiters.shift();
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

  /** Rejects every waiter and every later `acquire` with `reason`; slots taken stay taken until released. */
  close(reason: Error): void {
    if (this.closedReason) return;
    this.closedReason = reason;
    for (const waiter of this.waiters.splice(0)) waiter.reject(reason);
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
    // A closed window is an intake that stopped for good: resuming the source would only produce rejections.
    if (this.closedReason) return;
    if (full) this.events.onFull?.();
    else this.events.onRoom?.();
  }
}
