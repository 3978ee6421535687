import type { DanubeSettings, StartMessage } from '@danube-connect/sdk/protocol';
import type { RuntimeSettings } from '@danube-connect/sdk/core';
import type { PluginEndpoint } from './config/endpoint-loops.js';

/** `[host.restart]`, overridable per connector with `[connectors.restart]` (docs/architecture.md §4). */
export interface RestartSettings {
  /** Delay before the first restart, ms; doubled per consecutive crash with ±20 % jitter. Default 1000. */
  initialDelayMs: number;
  /** Cap of the restart delay, ms. Default 60000. */
  maxDelayMs: number;
  /** Running this long resets the crash count, ms. Default 60000. */
  stableAfterMs: number;
  /** This many crashes within `windowMs` mark the connector `failed` until a reload. Default 5. */
  maxCrashes: number;
  /** Default 300000. */
  windowMs: number;
}

/** A plugin package as discovery found it: where, which version, and its checked manifest. */
export interface ResolvedPlugin {
  /** npm package name, e.g. `@danube-plugin/source-mqtt`. */
  name: string;
  version: string;
  kind: 'source' | 'sink';
  /** Absolute path of the entry module. */
  entry: string;
  /** The package folder. */
  dir: string;
  /** The manifest's `sdk` semver range. */
  sdkRange: string;
  /** The plugin's config JSON Schema, when it has one: its `writeOnly` / `x-secret` marks decide what is masked. */
  configSchema?: unknown;
  /** The manifest's `endpoints`: where its connectors read and write outside Danube, for loop warnings. */
  endpoints?: readonly PluginEndpoint[];
}

/**
 * Everything the supervisor needs to run one connector: the output of config loading, discovery and
 * validation (all checks passed, defaults applied, env expanded). Two specs are equal (no restart on reload)
 * when `fingerprint` is equal.
 */
export interface ConnectorSpec {
  name: string;
  plugin: ResolvedPlugin;
  /** The connector's config, validated against the plugin's schema with defaults applied. */
  config: Record<string, unknown>;
  danube: DanubeSettings;
  runtime: Partial<RuntimeSettings>;
  restart: RestartSettings;
  /** Optional V8 heap cap of the child (`--max-old-space-size`), MB. */
  memoryMb: number | undefined;
  /** Start → ready deadline per attempt, ms. */
  readyTimeoutMs: number;
  /** Heartbeat interval, ms; a child silent for 3 intervals is hung. */
  pingIntervalMs: number;
  /** How long a stop may drain before SIGKILL, ms. */
  shutdownTimeoutMs: number;
  logLevel: StartMessage['logLevel'];
  /**
   * The child's working directory: host.toml's folder, so a relative file path in a plugin's config means what a
   * relative path means everywhere else in host.toml, wherever the host was started.
   */
  workDir: string;
  /** `[connectors.env]`: set in the child over the allowlisted part of the host's environment (see childEnv). */
  env: Readonly<Record<string, string>>;
  /**
   * Every secret value of this connector (secret config fields, Danube token and TLS key, URL passwords, secret
   * env values, `${file:…}` contents): scrubbed from its logs, crash reports and every HTTP answer.
   */
  secrets: readonly string[];
  /** A stable hash of plugin name + version + config + danube (+ the content of its TLS files) + env + runtime (+ memory cap), for reload. */
  fingerprint: string;
}
