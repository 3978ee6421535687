import type { ConnectorContext, ConnectorHealth } from '../connector.js';
import { DanubeClient } from '../danube/danube-client.js';
import { createConnectorLogger, type Logger } from '../logging.js';
import { ConnectorMetrics } from '../runtime/connector-metrics.js';
import type { ConnectorRuntime } from '../runtime/connector-runtime.js';
import { resolveRuntimeSettings } from '../runtime/runtime-settings.js';
import { SinkRuntime } from '../runtime/sink-runtime.js';
import { SourceRuntime } from '../runtime/source-runtime.js';
import { loadPlugin } from './load-plugin.js';
import { probeConnectorHealth } from './connector-health.js';
import type { StartFailureCode, StartMessage } from './protocol.js';
import { describeError, StartFailure } from './start-failure.js';

/** Everything a started connector consists of; the session drives and finally closes it. */
export interface ConnectorParts {
  logger: Logger;
  metrics: ConnectorMetrics;
  client: DanubeClient;
  /** Aborts the context's signal: the connector is asked to stop. */
  abort: AbortController;
  runtime: ConnectorRuntime;
  /** The connector's own view of its external system (its `health()`, bounded in time). */
  health: () => Promise<ConnectorHealth>;
  /** The longest drain a stop allows (runtime settings' `drainTimeoutMs`), ms. */
  drainTimeoutMs: number;
}

/** `connector "x" (plugin p@1.2.3)`: the prefix of every start failure message. */
export function connectorLabel(start: Pick<StartMessage, 'connector' | 'plugin'>): string {
  return `connector "${start.connector}" (plugin ${start.plugin.name}@${start.plugin.version})`;
}

/** A StartFailure whose message names connector, plugin, the failed step and the cause. */
export function startFailure(start: StartMessage, code: StartFailureCode, what: string, cause: unknown): StartFailure {
  return new StartFailure(code, `${connectorLabel(start)}: ${what}: ${describeError(cause)}`, { cause });
}

// By name, not instanceof: a plugin may throw DanubeErrors of its own SDK copy; the runtime may wrap them.
function isDanubeFailure(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (e.name === 'DanubeError') return true;
  }
  return false;
}

/**
 * Builds a connector from a start message, up to the constructed runtime (not started): logger (NDJSON on stdout, relayed by the host), metrics,
 * Danube client (which dials lazily: a broker that is down does not fail this), context, plugin, `create`,
 * runtime. Throws a StartFailure naming connector, plugin and cause.
 */
export async function buildConnector(start: StartMessage): Promise<ConnectorParts> {
  const plugin = `${start.plugin.name}@${start.plugin.version}`;
  const logger = createConnectorLogger({ connector: start.connector, plugin }, start.logLevel, undefined, { secrets: start.secrets ?? [] });
  const metrics = new ConnectorMetrics(start.connector);
  let client: DanubeClient;
  try {
    client = new DanubeClient({
      serviceUrl: start.danube.serviceUrl,
      ...(start.danube.token !== undefined ? { token: start.danube.token } : {}),
      ...(start.danube.tls !== undefined ? { tls: start.danube.tls } : {}),
      ...(start.danube.requestTimeoutMs !== undefined ? { requestTimeoutMs: start.danube.requestTimeoutMs } : {}),
      ...(start.danube.namespaceAdminUrl !== undefined ? { createNamespacesVia: start.danube.namespaceAdminUrl } : {}),
      logger: logger.child({ component: 'danube' }),
    });
  } catch (err) {
    throw startFailure(start, 'danube_connect_failed', `invalid Danube settings for ${start.danube.serviceUrl}`, err);
  }
  try {
    const definition = await loadPluginFor(start);
    const abort = new AbortController();
    const context: ConnectorContext = { name: start.connector, logger, signal: abort.signal, danube: client, metricsRegistry: metrics.registry };
    let connector: unknown;
    try {
      connector = await definition.create(start.config, context);
    } catch (err) {
      throw startFailure(start, 'create_threw', 'create() threw', err);
    }
    if (typeof connector !== 'object' || connector === null) {
      throw new StartFailure('create_threw', `${connectorLabel(start)}: create() returned ${connector === null ? 'null' : typeof connector}, expected a ${definition.kind} connector object`);
    }
    const settings = resolveRuntimeSettings(start.runtime);
    const deps = { name: start.connector, client, settings, metrics, logger };
    let runtime: ConnectorRuntime;
    try {
      runtime = definition.kind === 'source' ? new SourceRuntime(connector as never, deps) : new SinkRuntime(connector as never, deps);
    } catch (err) {
      throw startFailure(start, 'start_failed', `the ${definition.kind} runtime rejected the connector`, err);
    }
    const probed = connector as { health?: () => ConnectorHealth | Promise<ConnectorHealth> };
    return { logger, metrics, client, abort, runtime, health: () => probeConnectorHealth(probed), drainTimeoutMs: settings.drainTimeoutMs };
  } catch (err) {
    void client.close(0).catch(() => {});
    throw err;
  }
}

async function loadPluginFor(start: StartMessage) {
  try {
    return await loadPlugin(start.entry, start.kind);
  } catch (err) {
    if (err instanceof StartFailure) throw new StartFailure(err.code, `${connectorLabel(start)}: ${err.message}`, { cause: err.cause });
    throw startFailure(start, 'entry_import_failed', 'cannot load the plugin', err);
  }
}

/** Starts the runtime; a rejection becomes a StartFailure (`danube_connect_failed` when Danube refused us). */
export async function startRuntime(start: StartMessage, runtime: ConnectorRuntime): Promise<void> {
  try {
    await runtime.start();
  } catch (err) {
    throw isDanubeFailure(err)
      ? startFailure(start, 'danube_connect_failed', 'Danube refused the connector', err)
      : startFailure(start, 'start_failed', 'start failed', err);
  }
}
