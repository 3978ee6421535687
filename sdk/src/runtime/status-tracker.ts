import type { RuntimeStatus } from './connector-runtime.js';

/** Reasons shown in `detail` at most; the rest are counted. */
const MAX_REASONS_SHOWN = 3;

/**
 * A runtime's connection state from its open problems, each under a key: degraded while any is open (a
 * subscription waiting for its topic, a partition blocked on a failing write, Danube unavailable for a topic),
 * connected when none is left. Listeners hear each change. Shared by the source and sink runtimes.
 */
export class StatusTracker {
  private readonly reasons = new Map<string, string>();
  private readonly listeners: Array<(status: RuntimeStatus) => void> = [];
  private current: RuntimeStatus = { state: 'connected' };

  get status(): RuntimeStatus {
    return this.current;
  }

  onChange(listener: (status: RuntimeStatus) => void): void {
    this.listeners.push(listener);
  }

  /** Opens (or rewords) the problem `key`. */
  degrade(key: string, detail: string): void {
    this.reasons.set(key, detail);
    this.update();
  }

  /** Closes the problem `key`; a no-op when it is not open. */
  recover(key: string): void {
    if (this.reasons.delete(key)) this.update();
  }

  private update(): void {
    const next: RuntimeStatus = this.reasons.size === 0 ? { state: 'connected' } : { state: 'degraded', detail: this.describe() };
    if (next.state === this.current.state && next.detail === this.current.detail) return;
    this.current = next;
    for (const listener of this.listeners) listener(next);
  }

  private describe(): string {
    const shown = [...this.reasons.values()].slice(0, MAX_REASONS_SHOWN);
    const more = this.reasons.size - shown.length;
    return more > 0 ? `${shown.join('; ')}; and ${more} more` : shown.join('; ');
  }
}
