import type { FailedMessage, FatalMessage, StoppedMessage } from '@danube-connect/sdk/protocol';
import type { ConnectorChild } from './connector-child.js';

/** Stderr lines kept per child for the exit record. */
const STDERR_LINES = 20;

/** One start attempt of a connector: its child, what the child said, and the attempt's timers. */
export class ConnectorAttempt {
  readyAt: number | undefined;
  /** Epoch ms of the last message; undefined until the first (hang detection starts there). */
  heardAt: number | undefined;
  /** Set once the host ended (or began to end) the child, and why. */
  endedBy: 'stop' | 'ready_timeout' | 'hung' | undefined;
  failed: FailedMessage | undefined;
  fatal: FatalMessage | undefined;
  stopped: StoppedMessage | undefined;
  readyTimer: NodeJS.Timeout | undefined;
  pingTimer: NodeJS.Timeout | undefined;
  private readonly stderrLines: string[] = [];
  private pingId = 0;

  constructor(
    readonly child: ConnectorChild,
    /** Epoch ms of the fork. */
    readonly startedAt: number,
  ) {}

  /** The last stderr lines (at most 20), oldest first. */
  get stderr(): readonly string[] {
    return this.stderrLines;
  }

  addStderr(line: string): void {
    this.stderrLines.push(line);
    if (this.stderrLines.length > STDERR_LINES) this.stderrLines.shift();
  }

  nextPingId(): number {
    return ++this.pingId;
  }

  clearTimers(): void {
    clearTimeout(this.readyTimer);
    clearInterval(this.pingTimer);
  }
}
