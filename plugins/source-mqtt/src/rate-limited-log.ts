import type { Logger } from '@danube-connect/sdk';

/**
 * Logs an event at most once per `intervalMs` at warn, with how many happened since the last line, so a flood
 * of unmatched messages cannot flood the log.
 */
export class RateLimitedLog {
  private lastAt = -Infinity;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly message: string,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  event(fields: Record<string, unknown>): void {
    const now = this.now();
    if (now - this.lastAt < this.intervalMs) {
      this.suppressed++;
      return;
    }
    this.logger.warn({ ...fields, since_last_line: this.suppressed }, this.message);
    this.lastAt = now;
    this.suppressed = 0;
  }
}
