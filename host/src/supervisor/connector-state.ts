import type { ChildStats, ConnectionState } from '@danube-connect/sdk/protocol';
import type { ExitReason } from './exit-reason.js';

/**
 * The state of a connector (docs/architecture.md §5.10), one union for /connectors, metric labels and logs:
 * - `starting`: a child is forked and has not sent `ready` yet (within `readyTimeoutMs`);
 * - `running`: ready and connected; `degraded`: ready, but its last pong or status said degraded;
 * - `stopping`: asked to stop, draining (up to `shutdownTimeoutMs`); `stopped`: no child, by request;
 * - `backoff`: crashed, waiting for the next attempt (`nextAttemptAt`);
 * - `failed`: gave up (crash loop, or a failure a restart cannot fix) until a restart or a reload;
 * - `paused`: stopped by an operator's pause (no child, never restarted) until a resume, restart or reload.
 */
export type ConnectorState = 'starting' | 'running' | 'degraded' | 'stopping' | 'stopped' | 'backoff' | 'failed' | 'paused';

export const CONNECTOR_STATES: readonly ConnectorState[] = ['starting', 'running', 'degraded', 'stopping', 'stopped', 'backoff', 'failed', 'paused'];

/** What an operator can do to one connector (POST /connectors/<name>/<action>, `danube-connect <action> <name>`). */
export type ConnectorAction = 'restart' | 'pause' | 'resume';

/** Why the last child ended: the "why is it down" record (docs/architecture.md §5.5). */
export interface ExitRecord {
  /** Epoch ms. */
  at: number;
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  reason: ExitReason;
  /** `DC_ERR_READY_TIMEOUT`, `DC_ERR_HUNG`, `DC_ERR_OUT_OF_MEMORY`, the child's `failed` code or its `fatal` code. */
  errorCode: string | undefined;
  /** One line for humans: the child's own message when it sent one. */
  message: string;
  /** The last stderr lines of the child (at most 20). */
  stderr: string[];
}

/** The latest pong of the running child. */
export interface PongRecord {
  /** Epoch ms of receipt. */
  at: number;
  state: ConnectionState;
  detail: string | undefined;
  stats: ChildStats;
  memory: { rssBytes: number; heapUsedBytes: number };
  eventLoopDelayP99Ms: number;
}

/** A point-in-time view of one connector (plain data; secrets never included: the config is not here). */
export interface ConnectorSnapshot {
  name: string;
  plugin: { name: string; version: string };
  state: ConnectorState;
  /** Why degraded, backoff or failed, in one line. */
  detail: string | undefined;
  pid: number | undefined;
  /** Epoch ms of the current attempt's fork, and of its `ready`. */
  startedAt: number | undefined;
  readyAt: number | undefined;
  /** Restarts after a crash since this connector was (re)started by the host. */
  restarts: number;
  /** Crashes counted towards the crash loop right now. */
  crashes: number;
  /** Epoch ms of the next attempt while in `backoff`. */
  nextAttemptAt: number | undefined;
  lastExit: ExitRecord | undefined;
  lastPong: PongRecord | undefined;
  /** Metrics requests this connector did not answer in time. */
  metricsSkipped: number;
  /** Lines of this connector's children cut at the line limit (64 KiB) since the host started it. */
  truncatedLines: number;
  fingerprint: string;
}
