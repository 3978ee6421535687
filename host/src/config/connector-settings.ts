import { isAbsolute, resolve } from 'node:path';
import type { LogLevel, RuntimeSettings } from '@danube-connect/sdk/core';
import type { DanubeSettings } from '@danube-connect/sdk/protocol';
import type { ConnectorSpec, RestartSettings } from '../connector-spec.js';
import type { DanubeToml, HostToml, ProcessingToml, RestartToml } from './host-toml.js';
import { parseHostPort } from './semantic-checks.js';

/** `[host]` and `[danube]` in camelCase, as the supervisor and the HTTP server use them. */
export interface HostSettings {
  /** `[host] http`, parsed. */
  http: { host: string; port: number };
  /** `[host] allowed_hosts`: Host names that may use the control endpoint besides loopback and the bound address. */
  allowedHosts: readonly string[];
  logLevel: LogLevel;
  shutdownTimeoutMs: number;
  readyTimeoutMs: number;
  pingIntervalMs: number;
  restart: RestartSettings;
  /** `[danube]` after env overrides: the defaults of every connector. */
  danube: DanubeSettings;
  /** `[danube] admin_url`, needed by createNamespaces. */
  adminUrl: string | undefined;
  createNamespaces: boolean;
}

/** One connector's settings from host.toml alone (before its plugin is resolved). */
export type ConnectorSettings = Omit<ConnectorSpec, 'plugin' | 'fingerprint' | 'secrets' | 'workDir'> & {
  /** The `plugin` value as written: a package name or a folder path. */
  pluginRequest: string;
};

function restartSettings(toml: RestartToml): RestartSettings {
  return {
    initialDelayMs: toml.initial_delay_ms,
    maxDelayMs: toml.max_delay_ms,
    stableAfterMs: toml.stable_after_ms,
    maxCrashes: toml.max_crashes,
    windowMs: toml.window_ms,
  };
}

function danubeSettings(toml: Partial<DanubeToml>, dir: string): DanubeSettings {
  const settings: DanubeSettings = { serviceUrl: toml.service_url ?? '' };
  if (toml.token !== undefined) settings.token = toml.token;
  if (toml.request_timeout_ms !== undefined) settings.requestTimeoutMs = toml.request_timeout_ms;
  if (toml.transport !== undefined) settings.transport = toml.transport;
  if (toml.tls !== undefined) {
    // File paths are made absolute (relative to host.toml's folder) because the child's cwd is not guaranteed.
    const file = (value: string | undefined) =>
      value === undefined ? undefined : value.includes('-----BEGIN') || isAbsolute(value) ? value : resolve(dir, value);
    const tls: NonNullable<DanubeSettings['tls']> = {};
    const ca = file(toml.tls.ca);
    const cert = file(toml.tls.cert);
    const key = file(toml.tls.key);
    if (ca !== undefined) tls.ca = ca;
    if (cert !== undefined) tls.cert = cert;
    if (key !== undefined) tls.key = key;
    if (toml.tls.server_name !== undefined) tls.serverName = toml.tls.server_name;
    settings.tls = tls;
  }
  return settings;
}

/** `[danube] create_namespaces` (with its admin_url): the child creates a missing namespace instead of failing. */
function withNamespaceCreation(settings: DanubeSettings, danube: HostToml['danube']): DanubeSettings {
  return danube.create_namespaces && danube.admin_url ? { ...settings, namespaceAdminUrl: danube.admin_url } : settings;
}

function runtimeSettings(toml: ProcessingToml): Partial<RuntimeSettings> {
  const runtime: Partial<RuntimeSettings> = {
    maxInFlight: toml.max_in_flight,
    maxRetries: toml.max_retries,
    retryInitialDelayMs: toml.retry_initial_delay_ms,
    retryMaxDelayMs: toml.retry_max_delay_ms,
    onRetryExhausted: toml.on_retry_exhausted,
    pollIntervalMs: toml.poll_interval_ms,
    batchSize: toml.batch_size,
    batchTimeoutMs: toml.batch_timeout_ms,
    maxUnacked: toml.max_unacked,
    drainTimeoutMs: toml.drain_timeout_ms,
  };
  if (toml.dead_letter_topic !== undefined) runtime.deadLetterTopic = toml.dead_letter_topic;
  return runtime;
}

/** The host's own settings from a valid host.toml. */
export function hostSettings(toml: HostToml, dir: string): HostSettings {
  const http = parseHostPort(toml.host.http);
  if (!http) throw new Error(`host.http "${toml.host.http}" was not checked`); // checkSemantics ran before
  return {
    http,
    allowedHosts: toml.host.allowed_hosts,
    logLevel: toml.host.log_level,
    shutdownTimeoutMs: toml.host.shutdown_timeout_ms,
    readyTimeoutMs: toml.host.ready_timeout_ms,
    pingIntervalMs: toml.host.ping_interval_ms,
    restart: restartSettings(toml.host.restart),
    danube: danubeSettings(toml.danube, dir),
    adminUrl: toml.danube.admin_url,
    createNamespaces: toml.danube.create_namespaces,
  };
}

/**
 * Each connector's settings from a valid host.toml: `[danube]` under the connector's `[connectors.danube]`
 * (a `tls` table there replaces the whole `[danube.tls]`), `[host.restart]` under `[connectors.restart]`.
 */
export function connectorSettings(toml: HostToml, dir: string): ConnectorSettings[] {
  const { admin_url: _admin, create_namespaces: _create, ...danubeDefaults } = toml.danube;
  return toml.connectors.map((connector) => ({
    name: connector.name,
    pluginRequest: connector.plugin,
    config: connector.config,
    danube: withNamespaceCreation(danubeSettings({ ...danubeDefaults, ...connector.danube }, dir), toml.danube),
    runtime: runtimeSettings(connector.processing),
    restart: restartSettings({ ...toml.host.restart, ...connector.restart }),
    memoryMb: connector.memory_mb,
    readyTimeoutMs: toml.host.ready_timeout_ms,
    pingIntervalMs: toml.host.ping_interval_ms,
    shutdownTimeoutMs: toml.host.shutdown_timeout_ms,
    logLevel: connector.log_level ?? toml.host.log_level,
    env: connector.env ?? {},
  }));
}
