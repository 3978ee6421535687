import type { Connection } from './connection.js';
import type { HealthCheckResponseWire } from './wire.js';

export type HealthClient = 'Producer' | 'Consumer';

/** Loops started and not stopped, in this process: what a leak of producers or consumers would grow. */
const running = new Set<HealthCheckLoop>();

/** How many health-check loops run now (for tests that count structures rather than memory). */
export function runningHealthChecks(): number {
  return running.size;
}

/**
 * Asks the broker every `intervalMs` whether it still knows a producer or consumer (docs/danube-protocol.md §11) and calls
 * `onClose` when it answers CLOSE. Unlike the reference clients the loop survives transient errors and acts
 * for producers too, so a producer that lost its broker is recreated before the next send fails.
 */
export class HealthCheckLoop {
  private timer: NodeJS.Timeout | undefined;
  private requestId = 0;
  private running = false;

  constructor(
    private readonly kind: HealthClient,
    private readonly intervalMs: number,
    private readonly target: () => { connection: Connection; id: string; proxyBrokerUrl?: string | undefined } | undefined,
    private readonly onClose: () => void,
    private readonly timeoutMs: number,
  ) {}

  start(): void {
    if (this.timer || this.intervalMs <= 0) return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
    running.add(this);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    running.delete(this);
  }

  private async tick(): Promise<void> {
    const target = this.target();
    if (!target || this.running) return;
    this.running = true;
    try {
      const response = await target.connection.unary<HealthCheckResponseWire>(
        'danube',
        'HealthCheck',
        'HealthCheck',
        { request_id: String(this.requestId++), client: this.kind, id: target.id },
        { timeoutMs: this.timeoutMs, proxyBrokerUrl: target.proxyBrokerUrl },
      );
      if (response.status === 'CLOSE' && this.timer) this.onClose();
    } catch {
      // Transport trouble shows up on the owner's own calls, which retry; the loop just keeps going.
    } finally {
      this.running = false;
    }
  }
}
