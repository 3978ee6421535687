import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ValidateFunction } from 'ajv';
import { secretValues } from '@danube-connect/sdk/core';
import type { ConnectorSpec } from './connector-spec.js';
import { addAjvErrors, ProblemList, type ConfigProblem, type KeyPath } from './config/config-problem.js';
import { findEndpointLoops } from './config/endpoint-loops.js';
import type { ConfigWarningCode } from './errors.js';
import { deepFreeze } from './config/deep-freeze.js';
import { validateWithReferencedScalars } from './config/referenced-scalars.js';
import { checkHostConfig, type HostConfig, type LoadHostConfigOptions } from './config/load-host-config.js';
import { join } from 'node:path';
import { packageNameProblem } from './discovery/package-name.js';
import { scanPlugins } from './discovery/scan-plugins.js';
import { findPackageDir, isPathRequest, searchFolders, type SearchOptions } from './discovery/search-paths.js';
import { readPlugin, type PluginReport } from './discovery/read-plugin.js';
import { runningSdk, type SdkInfo } from './discovery/sdk-info.js';
import { HostConfigError } from './config/host-config-error.js';
import { fingerprint } from './fingerprint.js';
import { hostPackageRoot } from './host-package.js';

export interface ValidateHostOptions extends LoadHostConfigOptions {
  /** The host's installation folder, searched after host.toml's folder. Default: this package's folder. */
  hostDir?: string;
  /** The SDK plugins are checked against. Default: the SDK this host runs. */
  sdk?: SdkInfo;
}

/** host.toml with every connector's plugin resolved and config validated: what `run` starts. */
export interface ValidatedHost {
  config: HostConfig;
  /** One per connector, in host.toml order. */
  connectors: readonly ConnectorSpec[];
  /** What is valid but probably not meant (a loop through an external broker); `validate` prints them, `run` logs them. */
  warnings: readonly ConfigProblem<ConfigWarningCode>[];
}

export type ValidateHostResult = ({ ok: true } & ValidatedHost) | { ok: false; problems: ConfigProblem[] };

type Table = Record<string, unknown>;

/**
 * Everything `validate` checks and `run` needs before it starts anything (docs/architecture.md §5.1): host.toml alone
 * (see checkHostConfig), then for every connector its plugin (resolved like Node from host.toml's folder upwards,
 * then from the host's installation; manifest, entry, sdk range, configSchema) and its `[connectors.config]`
 * against the plugin's configSchema (all errors, defaults applied to a clone). Returns the frozen specs, or every
 * problem of every connector at once.
 */
export function validateHost(file: string, options: ValidateHostOptions = {}): ValidateHostResult {
  const check = checkHostConfig(file, options);
  const { problems, doc } = check;
  if (!doc) return { ok: false, problems: problems.problems };
  const search = { fromDir: check.dir, hostDir: options.hostDir ?? hostPackageRoot() };
  const sdk = options.sdk ?? runningSdk();
  const reports = new Map<string, PluginReport | undefined>();
  const configs: (Record<string, unknown> | undefined)[] = [];
  const plugins: (PluginReport | undefined)[] = [];

  const connectors = Array.isArray(doc['connectors']) ? (doc['connectors'] as unknown[]) : [];
  connectors.forEach((entry, index) => {
    const connector = entry as Table | null;
    const request = connector?.['plugin'];
    const base: KeyPath = ['connectors', index];
    if (typeof request !== 'string' || request === '') return; // the schema reported it
    const nameProblem = isPathRequest(request) ? undefined : packageNameProblem(request);
    if (nameProblem !== undefined) {
      problems.add('DC_ERR_PLUGIN_NAME', [...base, 'plugin'], `"${request}" is neither an npm package name (${nameProblem}) nor a folder path (a path starts with ./, ../ or /)`);
      return;
    }
    if (!reports.has(request)) {
      const dir = findPackageDir(request, search);
      reports.set(request, dir === undefined ? undefined : readPlugin(dir, sdk));
    }
    const report = reports.get(request);
    if (report === undefined) {
      const where = isPathRequest(request) ? `no package.json in ${request} (relative to ${check.dir})` : notFoundHint(request, search, sdk);
      problems.add('DC_ERR_PLUGIN_NOT_FOUND', [...base, 'plugin'], `"${request}" was not found: ${where}`);
      return;
    }
    for (const issue of report.issues) problems.add(issue.code, [...base, 'plugin'], issue.message);
    plugins[index] = report;
    const config = connector?.['config'];
    if (config === null || typeof config !== 'object' || Array.isArray(config)) return; // the schema reported it
    configs[index] = validateConnectorConfig(report.validateConfig, config as Table, [...base, 'config'], check.references, (errors) =>
      addAjvErrors(problems, 'DC_ERR_CONNECTOR_CONFIG', errors, [...base, 'config'], check.skip),
    );
  });

  const valid = check.config;
  if (!valid || problems.size > 0) return { ok: false, problems: problems.problems };
  const specs = valid.connectors.map((settings, index): ConnectorSpec => {
    const plugin = plugins[index]?.plugin;
    const config = configs[index];
    if (!plugin || !config) throw new Error(`connector ${settings.name} was validated without a plugin or config`);
    const { pluginRequest: _request, ...rest } = settings;
    const configSchema = plugins[index]?.validateConfig?.schema;
    const resolved = configSchema === undefined ? plugin : { ...plugin, configSchema: structuredClone(configSchema) };
    const secrets = [...new Set([...secretValues(config, configSchema), ...secretValues(rest.danube), ...secretValues(rest.env), ...valid.fileSecrets])];
    const identity = { plugin: plugin.name, version: plugin.version, config, danube: rest.danube, tlsFiles: tlsFileDigests(rest.danube), runtime: rest.runtime, memoryMb: rest.memoryMb ?? null, env: rest.env };
    return { ...rest, plugin: resolved, config, workDir: check.dir, secrets, fingerprint: fingerprint(identity) };
  });
  return { ok: true, config: valid, connectors: deepFreeze(specs), warnings: endpointWarnings(new ProblemList<ConfigWarningCode>(file, doc), specs) };
}

/** DC_WARN_ENDPOINT_LOOP for each connector that publishes where another subscribes on the same broker. */
function endpointWarnings(warnings: ProblemList<ConfigWarningCode>, specs: readonly ConnectorSpec[]): ConfigProblem<ConfigWarningCode>[] {
  const owners = specs.flatMap((spec) => (spec.plugin.endpoints ? [{ name: spec.name, endpoints: spec.plugin.endpoints, config: spec.config }] : []));
  for (const loop of findEndpointLoops(owners)) {
    const index = specs.findIndex((spec) => spec.name === loop.writer);
    warnings.add('DC_WARN_ENDPOINT_LOOP', ['connectors', index, 'config', ...loop.path], loop.message);
  }
  return warnings.problems;
}

/**
 * Where the host looked for a package name and what it found there instead: the name may be misspelt, or the
 * package may not exist in the registry in use, so "npm i <name>" alone can mislead.
 */
function notFoundHint(request: string, search: SearchOptions, sdk: SdkInfo): string {
  const folders = searchFolders(search);
  const found = scanPlugins(search, sdk).filter((plugin) => !plugin.shadowed && plugin.name !== undefined);
  const shown = found.slice(0, 10).map((plugin) => `${plugin.name}@${plugin.version ?? '?'}`);
  const more = found.length > shown.length ? ` and ${found.length - shown.length} more` : '';
  const others = found.length === 0 ? 'which hold no danube-connect plugin' : `which hold ${found.length} other plugin${found.length === 1 ? '' : 's'}: ${shown.join(', ')}${more}`;
  return (
    `looked in ${folders[0] ?? join(search.fromDir, 'node_modules')} and ${Math.max(folders.length - 1, 0)} more node_modules folders ` +
    `(up from ${search.fromDir}, then up from the host's installation ${search.hostDir}), ${others}; ` +
    `install it (npm i ${request}, if your registry has it) or give its folder (plugin = "./path/to/plugin")`
  );
}

/**
 * sha256 of each TLS file a connector's Danube settings name (inline PEM is in the settings already), so a
 * rotated certificate or key changes the fingerprint of exactly the connectors that use it and a reload restarts
 * them. A file that cannot be read (checkSemantics reported it) counts as its error code.
 */
function tlsFileDigests(danube: ConnectorSpec['danube']): Record<string, string> {
  const digests: Record<string, string> = {};
  for (const [key, value] of Object.entries(danube.tls ?? {})) {
    if (key === 'serverName' || typeof value !== 'string' || value.includes('-----BEGIN')) continue;
    try {
      digests[key] = createHash('sha256').update(readFileSync(value)).digest('hex');
    } catch (err) {
      digests[key] = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    }
  }
  return digests;
}

/** As validateHost, throwing a HostConfigError with every problem. */
export function validateHostOrThrow(file: string, options: ValidateHostOptions = {}): ValidatedHost {
  const result = validateHost(file, options);
  if (!result.ok) throw new HostConfigError(result.problems);
  return { config: result.config, connectors: result.connectors, warnings: result.warnings };
}

/** Validates a clone of `config` (defaults applied to the clone); the clone when valid. */
function validateConnectorConfig(
  validate: ValidateFunction | undefined,
  config: Table,
  base: KeyPath,
  references: ReadonlySet<string>,
  report: (errors: ValidateFunction['errors']) => void,
): Record<string, unknown> | undefined {
  const clone = structuredClone(config);
  if (!validate) return clone;
  if (validateWithReferencedScalars(validate, clone, base, references)) return clone;
  report(validate.errors);
  return undefined;
}
