import { closedError } from './errors.js';

/**
 * A counting semaphore bounding messages accepted but not yet acknowledged. `acquire` resolves at once while
 * slots are free and otherwise waits in FIFO order, which is the producer's back-pressure: callers wait,
 * nothing is buffered without bound.
 */
export class InFlightWindow {
  private used = 0;
  private readonly waiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  private closedReason: Error | undefined;

  constructor(readonly capacity: number) {}

  get inFlight(): number {
    return this.used;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  acquire(): Promise<void> | undefined {
    if (this.closedReason) return Promise.reject(this.closedReason);
    if (this.used < this.capacity && this.waiters.length === 0) {
      this.used++;
      return undefined;
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next.resolve();
    else this.used--;
  }

  /** Rejects every waiter; slots already held stay held until released. */
  close(what: string): void {
    this.closedReason ??= closedError(what);
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.closedReason);
  }
}
