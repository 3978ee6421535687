import { scrubSecretValues } from '@danube-connect/sdk/core';
import { drainTimeoutFor, type ChildMessage, type MetricsResponse, type StoppedMessage } from '@danube-connect/sdk/protocol';
import type { Logger } from 'pino';
import type { ConnectorSpec } from '../connector-spec.js';
import { ConnectorAttempt } from './connector-attempt.js';
import { childEnv } from './child-env.js';
import { relayedLine, type ChildEnvelope } from './child-log-line.js';
import { ConnectorChild, type ChildExit } from './connector-child.js';
import type { ConnectorSnapshot, ConnectorState, ExitRecord, PongRecord } from './connector-state.js';
import { classifyExit } from './exit-reason.js';
import { RestartPolicy } from './restart-policy.js';
import type { EmitSupervisorEvent } from './supervisor-events.js';

/**
 * Each half of a child's V8 young generation, MB. A connector allocates fast and keeps little (a window of messages),
 * so V8's default (semi-spaces growing to 16 MB) mostly buys RSS: a source-mqtt child at 1,000 msg/s grew from
 * ~90 MB idle to ~174 MB with it and to ~114 MB with 2 MB. QoS 1 throughput at 2, 4, 8 MB and the default stayed
 * within this machine's run-to-run spread (bench/source-mqtt, README "Benchmarks").
 */
const YOUNG_GENERATION_SEMI_SPACE_MB = 2;

export interface ConnectorSupervisorOptions {
  /** The host's logger; the supervisor's own lines get `{ connector, plugin }`. */
  logger: Logger;
  /** Receives each NDJSON log line of the child's stdout, without the newline, to write to the host's log stream. */
  relay(line: string): void;
  emit: EmitSupervisorEvent;
  /** The child module; default the SDK's. */
  childEntry?: string;
  /** Epoch ms now, for the restart policy and the records; default Date.now. */
  clock?: () => number;
  /** Jitter source of the restart policy; default Math.random. */
  random?: () => number;
  /** Past `shutdownTimeoutMs`, how long a stopping child may still take to exit before SIGKILL, ms. Default 2000. */
  stopGraceMs?: number;
}

/** How one connector's stop ended: exit 0, a non-zero exit of its own (e.g. drain timeout), SIGKILL, or nothing to stop. */
export type StopOutcome = 'stopped' | 'unclean_exit' | 'killed' | 'not_running';

export interface ConnectorStopResult {
  connector: string;
  outcome: StopOutcome;
  exit: ChildExit | undefined;
  /** The child's `stopped` report, when it sent one. */
  report: { drained: number; abandoned: number } | undefined;
}

/** Characters of a cut stderr line kept in the exit record. */
const STDERR_RECORD_CHARS = 1_000;

/** Pings a child may leave unanswered before it counts as hung. */
const SILENT_INTERVALS = 3;

/**
 * Runs one connector (docs/architecture.md §5): forks its child, sends `start`, waits for `ready` within `readyTimeoutMs`,
 * pings every `pingIntervalMs` (silent for 3 intervals = hung: SIGKILL), follows `status` and pongs between
 * running and degraded, attributes every end (ExitRecord), restarts by the RestartPolicy or gives up
 * (`failed`), and stops with `stop` → `shutdownTimeoutMs` (+ grace) → SIGKILL.
 */
export class ConnectorSupervisor {
  private current: ConnectorState = 'stopped';
  private detail: string | undefined;
  private attempt: ConnectorAttempt | undefined;
  private backoffTimer: NodeJS.Timeout | undefined;
  private nextAttemptAt: number | undefined;
  private restarts = 0;
  private lastExit: ExitRecord | undefined;
  private lastPong: PongRecord | undefined;
  private metricsSkipped = 0;
  private truncatedLines = 0;
  private stopping: Promise<ConnectorStopResult> | undefined;
  private readonly policy: RestartPolicy;
  private readonly clock: () => number;
  private readonly log: Logger;
  /** `name@version`, as every log line of this connector carries it. */
  private readonly pluginLabel: string;

  /** Set by pause(): the stop in progress ends in `paused` instead of `stopped`. */
  private pausing = false;
  private currentSpec: ConnectorSpec;

  constructor(
    spec: ConnectorSpec,
    private readonly options: ConnectorSupervisorOptions,
  ) {
    this.currentSpec = spec;
    this.clock = options.clock ?? Date.now;
    this.policy = new RestartPolicy(spec.restart, { clock: this.clock, ...(options.random ? { random: options.random } : {}) });
    this.pluginLabel = `${spec.plugin.name}@${spec.plugin.version}`;
    this.log = options.logger.child({ connector: spec.name, plugin: this.pluginLabel });
  }

  get name(): string {
    return this.spec.name;
  }

  /** The spec it runs with: the one it was created with, or the last update(). */
  get spec(): ConnectorSpec {
    return this.currentSpec;
  }

  get state(): ConnectorState {
    return this.current;
  }

  /** Starts the connector from `stopped`, `failed` or `paused` (forgetting earlier crashes); no-op otherwise. */
  start(): void {
    if (this.current !== 'stopped' && this.current !== 'failed' && this.current !== 'paused') return;
    this.pausing = false;
    this.policy.reset();
    this.restarts = 0;
    this.stopping = undefined;
    this.launch();
  }

  /**
   * Pause (an operator's): stops the connector as stop() does and leaves it `paused`, never restarted, until
   * start() (resume, restart or a reload). Resolves once nothing runs.
   */
  async pause(): Promise<void> {
    if (this.current === 'paused') return;
    this.pausing = true;
    await this.stop();
    if (this.pausing && (this.current as ConnectorState) !== 'paused') this.setState('paused', undefined);
  }

  /**
   * Takes the settings of a reload that need no new child (same fingerprint): restart policy, ready, shutdown
   * and ping deadlines apply from now on (the ping timer of a running child is re-armed); a new log level only
   * reaches the next child. Says whether live settings changed, and what waits for a restart.
   */
  update(spec: ConnectorSpec): { live: boolean; needsRestart: string[] } {
    const before = this.currentSpec;
    const liveOf = (s: ConnectorSpec) => JSON.stringify([s.restart, s.readyTimeoutMs, s.pingIntervalMs, s.shutdownTimeoutMs]);
    const live = liveOf(before) !== liveOf(spec);
    const needsRestart =
      before.logLevel === spec.logLevel ? [] : [`connector "${spec.name}": log_level ${before.logLevel} → ${spec.logLevel} takes effect when it restarts (danube-connect restart ${spec.name})`];
    this.currentSpec = spec;
    this.policy.configure(spec.restart);
    const attempt = this.attempt;
    if (attempt && attempt.endedBy === undefined && before.pingIntervalMs !== spec.pingIntervalMs) {
      clearInterval(attempt.pingTimer);
      attempt.pingTimer = setInterval(() => this.heartbeat(attempt), spec.pingIntervalMs);
    }
    return { live, needsRestart };
  }

  snapshot(): ConnectorSnapshot {
    return {
      name: this.spec.name,
      plugin: { name: this.spec.plugin.name, version: this.spec.plugin.version },
      state: this.current,
      detail: this.detail,
      pid: this.attempt?.child.pid,
      startedAt: this.attempt?.startedAt,
      readyAt: this.attempt?.readyAt,
      restarts: this.restarts,
      crashes: this.policy.crashes,
      nextAttemptAt: this.current === 'backoff' ? this.nextAttemptAt : undefined,
      lastExit: this.lastExit,
      lastPong: this.lastPong,
      metricsSkipped: this.metricsSkipped,
      truncatedLines: this.truncatedLines,
      fingerprint: this.spec.fingerprint,
    };
  }

  /**
   * The child's metrics (prom-client JSON); `skipped` when its child did not answer within `timeoutMs` (counted
   * in `metricsSkipped`); undefined when there is no child to ask (or it ended meanwhile).
   */
  async metrics(timeoutMs: number): Promise<MetricsResponse['metrics'] | 'skipped' | undefined> {
    const attempt = this.attempt;
    if (!attempt || this.current === 'stopping') return undefined;
    const response = await attempt.child.metrics(timeoutMs);
    if (response) return response.metrics;
    if (!attempt.child.alive) return undefined;
    this.metricsSkipped += 1;
    this.log.warn({ timeoutMs }, 'no metrics answer in time: left out of this scrape');
    return 'skipped';
  }

  /**
   * Stops the connector: a child gets `stop` with `shutdownTimeoutMs` and is SIGKILLed if still alive after it
   * plus the grace; a pending restart is cancelled. Resolves once nothing runs. Idempotent.
   */
  stop(): Promise<ConnectorStopResult> {
    this.stopping ??= this.stopNow();
    return this.stopping;
  }

  private async stopNow(): Promise<ConnectorStopResult> {
    const result = (outcome: StopOutcome, exit?: ChildExit, report?: StoppedMessage): ConnectorStopResult => ({
      connector: this.spec.name,
      outcome,
      exit,
      report: report ? { drained: report.drained, abandoned: report.abandoned } : undefined,
    });
    clearTimeout(this.backoffTimer);
    this.backoffTimer = undefined;
    const attempt = this.attempt;
    if (!attempt) {
      // backoff is cancelled; failed stays failed (the record says why), stopped stays stopped.
      if (this.current === 'backoff') this.setState(this.pausing ? 'paused' : 'stopped', undefined);
      return result('not_running');
    }
    attempt.endedBy = 'stop';
    attempt.clearTimers();
    this.setState('stopping', undefined);
    const { shutdownTimeoutMs } = this.spec;
    // The drain ends a little before the kill, so the child can still report what it abandoned and exit.
    attempt.child.send({ type: 'stop', timeoutMs: shutdownTimeoutMs, drainTimeoutMs: drainTimeoutFor(shutdownTimeoutMs) });
    let killed = false;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => (timer = setTimeout(resolve, shutdownTimeoutMs + (this.options.stopGraceMs ?? 2_000), 'deadline')));
    if ((await Promise.race([attempt.child.exited, deadline])) === 'deadline') {
      killed = attempt.child.alive;
      this.log.warn({ shutdownTimeoutMs }, 'did not exit within the shutdown timeout: SIGKILL');
      attempt.child.kill();
    }
    clearTimeout(timer);
    const exit = await attempt.child.exited;
    // The exit handler has run (it is attached first): the state is stopped.
    const outcome: StopOutcome = killed ? 'killed' : exit.code === 0 ? 'stopped' : 'unclean_exit';
    return result(outcome, exit, attempt.stopped);
  }

  private launch(): void {
    this.nextAttemptAt = undefined;
    const { spec } = this;
    const child = new ConnectorChild({
      ...(this.options.childEntry ? { childEntry: this.options.childEntry } : {}),
      // DEP0123: grpc-js sets the TLS ServerName to the host of https://<IP> too; Node warns on every start, and the
      // certificate is still checked against the IP. Nothing for an operator to do, so not printed.
      execArgv: ['--disable-warning=DEP0123', `--max-semi-space-size=${YOUNG_GENERATION_SEMI_SPACE_MB}`, ...(spec.memoryMb !== undefined ? [`--max-old-space-size=${spec.memoryMb}`] : [])],
      env: childEnv(spec.env),
      cwd: spec.workDir,
      onMessage: (message) => this.onMessage(attempt, message),
      onLine: (stream, line, truncated) => this.onLine(attempt, stream, line, truncated),
    });
    const attempt = new ConnectorAttempt(child, this.clock());
    this.attempt = attempt;
    this.lastPong = undefined;
    void child.exited.then((exit) => this.onExit(attempt, exit));
    child.send({
      type: 'start',
      entry: spec.plugin.entry,
      connector: spec.name,
      kind: spec.plugin.kind,
      plugin: { name: spec.plugin.name, version: spec.plugin.version },
      config: spec.config,
      danube: spec.danube,
      runtime: spec.runtime,
      logLevel: spec.logLevel,
      secrets: [...spec.secrets],
    });
    attempt.readyTimer = setTimeout(() => this.kill(attempt, 'ready_timeout'), spec.readyTimeoutMs);
    attempt.pingTimer = setInterval(() => this.heartbeat(attempt), spec.pingIntervalMs);
    this.log.info({ childPid: child.pid, memoryMb: spec.memoryMb }, 'connector child forked');
    this.setState('starting', undefined);
  }

  private heartbeat(attempt: ConnectorAttempt): void {
    const silentMs = attempt.heardAt === undefined ? 0 : this.clock() - attempt.heardAt;
    // Until its first message the ready deadline covers a child (it may still be loading the SDK).
    if (silentMs > SILENT_INTERVALS * this.spec.pingIntervalMs) return this.kill(attempt, 'hung');
    attempt.child.send({ type: 'ping', id: attempt.nextPingId() });
  }

  private kill(attempt: ConnectorAttempt, why: 'ready_timeout' | 'hung'): void {
    if (attempt !== this.attempt || attempt.endedBy !== undefined) return;
    attempt.endedBy = why;
    attempt.clearTimers();
    this.log.warn({ childPid: attempt.child.pid, reason: why }, why === 'hung' ? 'child is hung: SIGKILL' : 'child not ready in time: SIGKILL');
    attempt.child.kill();
  }

  private onMessage(attempt: ConnectorAttempt, message: ChildMessage): void {
    attempt.heardAt = this.clock();
    switch (message.type) {
      case 'ready':
        if (attempt.endedBy !== undefined) return;
        clearTimeout(attempt.readyTimer);
        attempt.readyAt = this.clock();
        this.policy.running();
        this.log.info({ childPid: message.pid, sdkVersion: message.sdkVersion, startMs: attempt.readyAt - attempt.startedAt }, 'connector ready');
        return this.setState('running', undefined);
      case 'pong':
        this.lastPong = {
          at: this.clock(),
          state: message.state,
          detail: message.detail,
          stats: message.stats,
          memory: message.memory,
          eventLoopDelayP99Ms: message.eventLoopDelayP99Ms,
        };
        return this.connection(message.state, message.detail);
      case 'status':
        return this.connection(message.state, message.detail);
      case 'failed':
        attempt.failed = message;
        return;
      case 'fatal':
        attempt.fatal = message;
        return;
      case 'stopped':
        attempt.stopped = message;
        return;
      case 'metrics':
        return; // answered through ConnectorChild.metrics
      default: {
        const unexpected: never = message;
        return unexpected;
      }
    }
  }

  private connection(state: 'connected' | 'degraded', detail: string | undefined): void {
    if (this.current !== 'running' && this.current !== 'degraded') return;
    const next = state === 'connected' ? 'running' : 'degraded';
    if (next !== this.current || (next === 'degraded' && detail !== this.detail)) this.setState(next, next === 'degraded' ? detail : undefined);
  }

  private onLine(attempt: ConnectorAttempt, stream: 'stdout' | 'stderr', raw: string, truncated: boolean): void {
    if (truncated) this.truncatedLines += 1;
    // The child's logger scrubs its own lines; raw output (console, stderr, Node's reports) is scrubbed here.
    const line = scrubSecretValues(raw, this.spec.secrets);
    // Raw text from the plugin or from Node itself (warnings, V8's out-of-memory report) is kept for the record.
    if (stream === 'stderr') attempt.addStderr(truncated ? line.slice(0, STDERR_RECORD_CHARS) : line);
    this.options.relay(relayedLine(this.envelope(attempt), stream, line, truncated));
    this.options.emit('log', { connector: this.spec.name, stream, line });
  }

  private envelope(attempt: ConnectorAttempt): ChildEnvelope {
    return { connector: this.spec.name, plugin: this.pluginLabel, pid: attempt.child.pid };
  }

  private onExit(attempt: ConnectorAttempt, exit: ChildExit): void {
    attempt.clearTimers();
    if (this.attempt === attempt) this.attempt = undefined;
    const { spec } = this;
    const verdict = classifyExit({
      ...exit,
      endedBy: attempt.endedBy,
      readyTimeoutMs: spec.readyTimeoutMs,
      pingIntervalMs: spec.pingIntervalMs,
      memoryMb: spec.memoryMb,
      failed: attempt.failed,
      fatal: attempt.fatal,
      stderr: attempt.stderr,
    });
    const record: ExitRecord = {
      at: this.clock(),
      pid: attempt.child.pid,
      code: exit.code,
      signal: exit.signal,
      reason: verdict.reason,
      errorCode: verdict.errorCode,
      message: verdict.message,
      stderr: [...attempt.stderr],
    };
    this.lastExit = record;
    if (verdict.crashKind === undefined) {
      this.log.info({ code: exit.code, signal: exit.signal, report: attempt.stopped && { drained: attempt.stopped.drained, abandoned: attempt.stopped.abandoned } }, 'connector stopped');
      this.options.emit('exit', { connector: spec.name, exit: record, next: 'stopped' });
      return this.setState(this.pausing ? 'paused' : 'stopped', undefined);
    }
    const decision = this.policy.crashed(verdict.crashKind);
    const logged = { code: exit.code, signal: exit.signal, reason: verdict.reason, errorCode: verdict.errorCode, stderr: record.stderr.slice(-5) };
    if (decision.action === 'give_up') {
      const why = decision.reason === 'crash_loop' ? `crash loop: ${spec.restart.maxCrashes} crashes within ${spec.restart.windowMs} ms; last: ${verdict.message}` : `not restarted: ${verdict.message}`;
      this.log.error(logged, `connector failed (${why})`);
      this.options.emit('exit', { connector: spec.name, exit: record, next: 'failed' });
      return this.setState('failed', why);
    }
    this.nextAttemptAt = record.at + decision.delayMs;
    this.log.warn({ ...logged, delayMs: decision.delayMs, attempt: decision.attempt }, `connector crashed (${verdict.message}): restarting in ${decision.delayMs} ms`);
    this.options.emit('exit', { connector: spec.name, exit: record, next: 'restart' });
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = undefined;
      this.restarts += 1;
      this.launch();
    }, decision.delayMs);
    this.setState('backoff', `${verdict.reason}: ${verdict.message}`);
  }

  private setState(state: ConnectorState, detail: string | undefined): void {
    const previous = this.current;
    this.current = state;
    this.detail = detail;
    if (previous === state && state !== 'degraded') return;
    this.options.emit('state', { connector: this.spec.name, state, previous, at: this.clock(), detail });
  }
}
