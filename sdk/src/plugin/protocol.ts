/**
 * The IPC protocol between the host and a connector child: one file, both directions, discriminated on
 * `type`, every message carrying the protocol version `v`. Control and metric snapshots only: data never
 * crosses it (docs/architecture.md §1). Exported as `@danube-connect/sdk/protocol`; the host imports nothing else of the
 * child side. Messages travel over the Node IPC channel with `serialization: 'json'`.
 */
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { ConnectionState } from '../runtime/connector-runtime.js';
import type { RuntimeSettings } from '../runtime/runtime-settings.js';

export const PROTOCOL_VERSION = 1;

/** Connection settings of the child's Danube client; from host.toml's `[danube]`, overridable per connector. */
export interface DanubeSettings {
  serviceUrl: string;
  token?: string;
  tls?: { ca?: string; cert?: string; key?: string; serverName?: string };
  requestTimeoutMs?: number;
  /** `[danube] transport`: what carries SendMessage, Ack, Nack and ReceiveMessages (DanubeClientOptions.transport). */
  transport?: 'grpc-js' | 'http2';
  /** `[danube] create_namespaces` with its admin URL: a missing namespace is created there instead of failing. */
  namespaceAdminUrl?: string;
}

// ---- host → child ----

export interface StartMessage {
  v: typeof PROTOCOL_VERSION;
  type: 'start';
  /** Absolute path of the plugin's entry module (imported with import() from a file URL). */
  entry: string;
  connector: string;
  /** The manifest's kind, already checked by the host; the entry's definePlugin kind must match it. */
  kind: 'source' | 'sink';
  plugin: { name: string; version: string };
  /** The connector's config, validated against the plugin's schema with defaults applied. */
  config: Record<string, unknown>;
  danube: DanubeSettings;
  runtime: Partial<RuntimeSettings>;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** The secret values of this connector's config and Danube settings: the child's logger replaces them in every line. */
  secrets?: string[];
}

export interface PingMessage {
  v: typeof PROTOCOL_VERSION;
  type: 'ping';
  id: number;
}

export interface MetricsRequest {
  v: typeof PROTOCOL_VERSION;
  type: 'metrics';
  id: number;
}

export interface StopMessage {
  v: typeof PROTOCOL_VERSION;
  type: 'stop';
  /** How long the child may take to stop before the host kills it (the host's shutdown_timeout_ms), ms. */
  timeoutMs: number;
  /**
   * The drain deadline, ms from now: retries end, sink writes still running get their signal aborted and the
   * records not done are abandoned. Shorter than `timeoutMs` so the child can still report and exit in time;
   * absent: `drainTimeoutFor(timeoutMs)`.
   */
  drainTimeoutMs?: number;
}

/** Left of a stop's timeout after the drain deadline, for the stop report and the exit: 10 %, at most 1 s. */
export function drainTimeoutFor(timeoutMs: number): number {
  const total = Number.isFinite(timeoutMs) && timeoutMs > 0 ? timeoutMs : 0;
  return Math.max(0, total - Math.min(1_000, Math.floor(total / 10)));
}

export type HostMessage = StartMessage | PingMessage | MetricsRequest | StopMessage;

// ---- child → host ----

/** Why a start attempt failed; the host does not restart for `wrong_default_export` or `incompatible_plugin` (it cannot help). */
export type StartFailureCode =
  | 'entry_import_failed'
  | 'wrong_default_export'
  | 'incompatible_plugin'
  | 'kind_mismatch'
  | 'create_threw'
  | 'danube_connect_failed'
  | 'start_failed';

export interface ReadyMessage {
  v: typeof PROTOCOL_VERSION;
  type: 'ready';
  pid: number;
  sdkVersion: string;
}

export interface FailedMessage {
  v: typeof PROTOCOL_VERSION;
  type: 'failed';
  code: StartFailureCode;
  message: string;
}

// Declared by the runtime layer (which must not import this one) and part of the protocol's vocabulary.
export type { ConnectionState };

/** Live counts of the child, summed over topics. */
export interface ChildStats {
  received: number;
  processed: number;
  deadLettered: number;
  dropped: number;
  inFlight: number;
  failed: number;
  retried: number;
  /** Forward jumps in a subscription's offsets (danube_connector_offset_gaps_total); absent from older children. */
  offsetGaps?: number;
}

export interface PongMessage {
  v: typeof PROTOCOL_VERSION;
  type: 'pong';
  id: number;
  state: ConnectionState;
  /** Why the state is degraded (Danube unavailable, external system down, retries blocked …). */
  detail?: string;
  stats: ChildStats;
  memory: { rssBytes: number; heapUsedBytes: number };
  /** Event-loop delay p99 since the last ping, ms: a busy loop shows here before pings stop. */
  eventLoopDelayP99Ms: number;
  /** Log lines the child dropped so far because its log buffer was full (absent from older children). */
  logLinesDropped?: number;
}

export interface MetricsResponse {
  v: typeof PROTOCOL_VERSION;
  type: 'metrics';
  id: number;
  metrics: MetricObjectWithValues<MetricValue<string>>[];
}

/** Sent when the connection state changes, so the host need not wait for the next ping. */
export interface StatusMessage {
  v: typeof PROTOCOL_VERSION;
  type: 'status';
  state: ConnectionState;
  detail?: string;
}

export interface StoppedMessage {
  v: typeof PROTOCOL_VERSION;
  type: 'stopped';
  /** Records finished during the drain, and records given up (still uncommitted: they will be redelivered). */
  drained: number;
  abandoned: number;
}

/** Sent right before a non-zero exit, with the reason. */
export interface FatalMessage {
  v: typeof PROTOCOL_VERSION;
  type: 'fatal';
  code: string;
  message: string;
}

export type ChildMessage = ReadyMessage | FailedMessage | PongMessage | MetricsResponse | StatusMessage | StoppedMessage | FatalMessage;

/** Exit codes of a connector child, so the host can tell why it ended (docs/architecture.md §5.5). */
export const CHILD_EXIT_CODES = {
  /** Clean stop after `stop`, or the host went away. */
  ok: 0,
  /** An uncaught exception or unhandled rejection. */
  uncaught: 70,
  /** The connector raised a fatal ConnectorError (or retries ran out with on_retry_exhausted = "fail"). */
  fatal: 71,
  /** The start failed (see the `failed` message's code). */
  startFailed: 72,
  /** The drain did not finish within the stop timeout; uncommitted records will be redelivered. */
  drainTimeout: 73,
  /** Started without an IPC channel: not forked by a host. */
  noChannel: 64,
} as const;

const HOST_TYPES = new Set<HostMessage['type']>(['start', 'ping', 'metrics', 'stop']);
const CHILD_TYPES = new Set<ChildMessage['type']>(['ready', 'failed', 'pong', 'metrics', 'status', 'stopped', 'fatal']);

function hasShape(value: unknown): value is { v: unknown; type: unknown } {
  return typeof value === 'object' && value !== null && 'type' in value && 'v' in value;
}

/** Guards for received messages: anything else (other versions, foreign messages) is ignored by the receiver. */
export function isHostMessage(value: unknown): value is HostMessage {
  return hasShape(value) && value.v === PROTOCOL_VERSION && HOST_TYPES.has(value.type as HostMessage['type']);
}

export function isChildMessage(value: unknown): value is ChildMessage {
  return hasShape(value) && value.v === PROTOCOL_VERSION && CHILD_TYPES.has(value.type as ChildMessage['type']);
}
