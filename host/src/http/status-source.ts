import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { ConnectorAction } from '../supervisor/connector-state.js';

/** One connector as `/connectors` shows it; secrets already masked by whoever builds it. */
export interface ConnectorView {
  name: string;
  plugin: string;
  version: string;
  /** One of the supervisor's states: starting, running, degraded, stopping, stopped, backoff, failed, paused. */
  state: string;
  /** Why it is degraded, backing off or failed. */
  detail?: string;
  pid?: number;
  restarts: number;
  uptimeMs?: number;
  lastError?: { code?: string; message: string; exitCode?: number | null; signal?: string | null; at: string };
  /** Lines of its children cut at the 64 KiB line limit since the host started it. */
  truncatedLines: number;
  /** Counts from the last heartbeat. */
  stats?: Record<string, number>;
  /** The connector's config with secrets masked. */
  config: Record<string, unknown>;
}

export type ChildMetrics = MetricObjectWithValues<MetricValue<string>>[];

/** What the HTTP server needs from the host: read-only views, child metrics on demand, and reload. */
export interface StatusSource {
  connectors(): ConnectorView[];
  /** Every child's metrics; children that do not answer within `timeoutMs` are left out and named. */
  childMetrics(timeoutMs: number): Promise<{ metrics: ChildMetrics[]; missing: string[] }>;
  /** What the host's log output dropped and holds (a source without one reports nothing). */
  logOutput?(): { droppedLines: number; bufferedBytes: number };
  /** Replaces secret values (and URL userinfo) in a response body before it is sent. */
  scrub(text: string): string;
  /** Re-reads host.toml; resolves with what changed, rejects with the validation errors. */
  reload(): Promise<ReloadAnswer>;
  /** Restarts, pauses or resumes one connector; resolves with its view once done, undefined for an unknown name. */
  control(name: string, action: ConnectorAction): Promise<ConnectorView | undefined>;
}

/** What a reload did. */
interface ReloadAnswer {
  restarted: string[];
  started: string[];
  stopped: string[];
  /** Settings applied live, without a new child (`[host] log_level`, a connector's restart policy, deadlines, ping interval). */
  updated?: string[];
  /** Changes that take effect only at a restart (of the host, or of a connector), one line each. */
  needsRestart?: string[];
}

/** States in which a connector counts as ready for `/readyz`. */
export const READY_STATES: ReadonlySet<string> = new Set(['running', 'degraded']);
