import type { MetricObjectWithValues, MetricValue } from 'prom-client';

/** One connector as `/connectors` shows it; secrets already masked by whoever builds it. */
export interface ConnectorView {
  name: string;
  plugin: string;
  version: string;
  /** One of the supervisor's states: starting, running, degraded, stopping, stopped, backoff, failed. */
  state: string;
  /** Why it is degraded, backing off or failed. */
  detail?: string;
  pid?: number;
  restarts: number;
  uptimeMs?: number;
  lastError?: { code?: string; message: string; exitCode?: number | null; signal?: string | null; at: string };
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
  /** Replaces secret values (and URL userinfo) in a response body before it is sent. */
  scrub(text: string): string;
  /** Re-reads host.toml; resolves with what changed, rejects with the validation errors. */
  reload(): Promise<{ restarted: string[]; started: string[]; stopped: string[] }>;
}

/** States in which a connector counts as ready for `/readyz`. */
export const READY_STATES: ReadonlySet<string> = new Set(['running', 'degraded']);
