import type { MetricsResponse } from '@danube-connect/sdk/protocol';
import type { Logger } from 'pino';
import type { ConnectorSpec } from '../connector-spec.js';
import type { ConnectorAction, ConnectorSnapshot } from './connector-state.js';
import { ConnectorSupervisor, type ConnectorStopResult } from './connector-supervisor.js';
import type { EmitSupervisorEvent, SupervisorEventName, SupervisorEvents, SupervisorListener } from './supervisor-events.js';

export interface SupervisorOptions {
  /** The host's logger. */
  logger: Logger;
  /**
   * Receives each NDJSON log line of every child's stdout (already carrying `connector`), without the newline.
   * Default: written to the host's stdout. Pass the destination of the host's pino logger so lines never interleave.
   */
  relay?: (line: string) => void;
  /** The child module; default `@danube-connect/sdk/plugin/child`. */
  childEntry?: string;
  /** Epoch ms now; default Date.now. */
  clock?: () => number;
  /** Jitter source of the restart policies; default Math.random. */
  random?: () => number;
  /** Past `shutdownTimeoutMs`, how long a stopping child may still take before SIGKILL, ms. Default 2000. */
  stopGraceMs?: number;
}

export interface SupervisorStopResult {
  /** Every child exited 0 by itself (nothing was killed, nothing gave up draining). */
  clean: boolean;
  connectors: ConnectorStopResult[];
}

export interface ReplaceResult {
  started: string[];
  /** Fingerprint changed, or was `failed`: stopped (if running) and started again. */
  restarted: string[];
  stopped: string[];
  unchanged: string[];
  /** Same fingerprint, and settings that apply without a new child (restart policy, deadlines, ping interval) changed: applied. */
  updated: string[];
  /** Changes that wait for the connector's next start, one line each. */
  needsRestart: string[];
}

export type ConnectorMetrics = MetricsResponse['metrics'];

export interface MetricsCollection {
  /** prom-client JSON per connector that answered in time (its metrics carry the `connector` label). */
  connectors: { connector: string; metrics: ConnectorMetrics }[];
  /** Connectors with a child that did not answer within the deadline (left out; counted in `metricsSkipped`). */
  skipped: string[];
}

/**
 * All connectors of the host: one ConnectorSupervisor each, started together, stopped together (`stop()` →
 * whether everything stopped cleanly), replaced by fingerprint on reload, with state/log/exit events for the
 * HTTP server and the CLI.
 */
export class Supervisor {
  private readonly connectorsByName = new Map<string, ConnectorSupervisor>();
  private readonly listeners = new Map<SupervisorEventName, Set<(event: never) => void>>();
  private readonly logger: Logger;
  private closed = false;
  /** replace() and stop() run one at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: SupervisorOptions) {
    this.logger = options.logger;
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends SupervisorEventName>(name: K, listener: SupervisorListener<K>): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener as (event: never) => void);
    return () => set.delete(listener as (event: never) => void);
  }

  private readonly emit: EmitSupervisorEvent = (name, event) => {
    for (const listener of this.listeners.get(name) ?? []) {
      try {
        (listener as (event: SupervisorEvents[typeof name]) => void)(event);
      } catch (err) {
        this.logger.error({ err, event: name }, 'a supervisor event listener threw');
      }
    }
  };

  /** Starts every connector (names must be unique). */
  start(specs: readonly ConnectorSpec[]): void {
    if (this.closed) throw new Error('the supervisor was stopped');
    const names = new Set<string>();
    for (const spec of specs) {
      if (names.has(spec.name) || this.connectorsByName.has(spec.name)) throw new Error(`duplicate connector name "${spec.name}"`);
      names.add(spec.name);
    }
    for (const spec of specs) this.add(spec);
  }

  /**
   * Reload: connectors whose fingerprint changed are stopped and started with the new spec, new ones started,
   * removed ones stopped, `failed` and `paused` ones started again; the others keep running, taking the settings
   * that need no new child (ConnectorSupervisor.update) and naming those that do.
   */
  replace(specs: readonly ConnectorSpec[]): Promise<ReplaceResult> {
    return this.serially(async () => {
      if (this.closed) throw new Error('the supervisor was stopped');
      const wanted = new Map(specs.map((spec) => [spec.name, spec]));
      if (wanted.size !== specs.length) throw new Error('duplicate connector names');
      const result: ReplaceResult = { started: [], restarted: [], stopped: [], unchanged: [], updated: [], needsRestart: [] };
      const work: Promise<unknown>[] = [];
      for (const [name, current] of this.connectorsByName) {
        const spec = wanted.get(name);
        if (!spec) {
          result.stopped.push(name);
          work.push(current.stop().then(() => this.connectorsByName.delete(name)));
        } else if (spec.fingerprint !== current.spec.fingerprint) {
          result.restarted.push(name);
          work.push(current.stop().then(() => this.add(spec)));
        } else {
          const { live, needsRestart } = current.update(spec);
          if (current.state === 'failed' || current.state === 'paused') {
            // host.toml is what should run: a reload clears a failure and ends a pause.
            result.restarted.push(name);
            current.start();
          } else {
            result.needsRestart.push(...needsRestart);
            (live ? result.updated : needsRestart.length > 0 ? [] : result.unchanged).push(name);
          }
        }
      }
      for (const spec of specs) {
        if (this.connectorsByName.has(spec.name)) continue;
        result.started.push(spec.name);
        this.add(spec);
      }
      await Promise.all(work);
      this.logger.info(result, 'connectors replaced');
      return result;
    });
  }

  /**
   * Restarts (stop, then start with its crash history forgotten: clears `failed`), pauses (stop, then `paused`
   * until resumed) or resumes (starts a `paused` one; otherwise nothing) one connector, in turn with reloads and
   * stop. Resolves with its snapshot once done (a pause once the child exited), undefined for an unknown name.
   */
  control(name: string, action: ConnectorAction): Promise<ConnectorSnapshot | undefined> {
    return this.serially(async () => {
      if (this.closed) throw new Error('the supervisor was stopped');
      const connector = this.connectorsByName.get(name);
      if (!connector) return undefined;
      if (action === 'pause') await connector.pause();
      else if (action === 'resume') {
        if (connector.state === 'paused') connector.start();
      } else {
        await connector.stop();
        connector.start();
      }
      this.logger.info({ connector: name, action, state: connector.state }, `connector ${name}: ${action}`);
      return connector.snapshot();
    });
  }

  /** Stops every connector (in parallel; see ConnectorSupervisor.stop); the supervisor cannot start again. */
  stop(): Promise<SupervisorStopResult> {
    return this.serially(async () => {
      this.closed = true;
      const connectors = await Promise.all([...this.connectorsByName.values()].map((connector) => connector.stop()));
      const clean = connectors.every((c) => c.outcome === 'stopped' || c.outcome === 'not_running');
      this.logger[clean ? 'info' : 'warn']({ outcomes: Object.fromEntries(connectors.map((c) => [c.connector, c.outcome])) }, clean ? 'all connectors stopped' : 'connectors stopped, not all cleanly');
      return { clean, connectors };
    });
  }

  connectors(): ConnectorSnapshot[] {
    return [...this.connectorsByName.values()].map((connector) => connector.snapshot());
  }

  connector(name: string): ConnectorSnapshot | undefined {
    return this.connectorsByName.get(name)?.snapshot();
  }

  /** The spec a connector runs with (its config is unmasked: mask before showing it). */
  spec(name: string): ConnectorSpec | undefined {
    return this.connectorsByName.get(name)?.spec;
  }

  /** Asks every child for its metrics at once; those not answering within `timeoutMs` are left out and counted. */
  async metrics(timeoutMs: number): Promise<MetricsCollection> {
    const collection: MetricsCollection = { connectors: [], skipped: [] };
    const live = [...this.connectorsByName.values()].filter((c) => c.state === 'starting' || c.state === 'running' || c.state === 'degraded');
    const answers = await Promise.all(live.map(async (connector) => ({ connector, metrics: await connector.metrics(timeoutMs) })));
    for (const { connector, metrics } of answers) {
      if (metrics === 'skipped') collection.skipped.push(connector.name);
      else if (metrics) collection.connectors.push({ connector: connector.name, metrics });
    }
    return collection;
  }

  private add(spec: ConnectorSpec): void {
    const { logger, relay, childEntry, clock, random, stopGraceMs } = this.options;
    const connector = new ConnectorSupervisor(spec, {
      logger,
      relay: relay ?? ((line) => process.stdout.write(`${line}\n`)),
      emit: this.emit,
      ...(childEntry !== undefined ? { childEntry } : {}),
      ...(clock !== undefined ? { clock } : {}),
      ...(random !== undefined ? { random } : {}),
      ...(stopGraceMs !== undefined ? { stopGraceMs } : {}),
    });
    this.connectorsByName.set(spec.name, connector);
    connector.start();
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
