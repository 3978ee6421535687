import type { Logger } from 'pino';
import type { DanubeClient } from '../danube/danube-client.js';
import type { ConnectorError } from '../errors.js';
import type { ConnectorMetrics } from './connector-metrics.js';
import type { RuntimeSettings } from './runtime-settings.js';

/** A running connector's health as the host sees it (plugin/protocol.ts carries it in status messages). */
export type ConnectionState = 'connected' | 'degraded';

export interface RuntimeStatus {
  /** 'degraded' while Danube or the external system is unavailable or retries are blocked. */
  state: ConnectionState;
  detail?: string;
}

/** What a runtime needs besides its connector. */
export interface RuntimeDeps {
  /** Connector name: metric label, log binding, and the base of derived producer and consumer names. */
  name: string;
  client: DanubeClient;
  settings: RuntimeSettings;
  metrics: ConnectorMetrics;
  logger: Logger;
}

/** The common face of the source and sink runtimes, which the child bootstrap drives. */
export interface ConnectorRuntime {
  /** Creates producers or subscriptions and starts intake; resolves once running (the child is then ready). */
  start(): Promise<void>;
  /**
   * Stops intake, drains in-flight records (commit or ack what completes) until the drain deadline `timeoutMs`
   * from now, when retries end and sink writes get their signal aborted, then closes the connector. Resolves
   * with how many records finished during the drain and how many were given up (sources: accepted and not
   * committed; sinks: handed to the connector and not acked; neither is acknowledged, both are redelivered).
   */
  stop(timeoutMs: number): Promise<{ drained: number; abandoned: number }>;
  status(): RuntimeStatus;
  /** Called on every change of `status()`. */
  onStatus(listener: (status: RuntimeStatus) => void): void;
  /** Called once when a fatal error ends the runtime (it has stopped intake by then). */
  onFatal(listener: (error: ConnectorError) => void): void;
}
