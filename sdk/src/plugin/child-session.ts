import type { DanubeClient } from '../danube/danube-client.js';
import type { ConnectorError } from '../errors.js';
import type { RuntimeStatus } from '../runtime/connector-runtime.js';
import type { ChildChannel } from './child-channel.js';
import { isClosedChannelError } from './child-channel.js';
import { sumStats, ZERO_STATS } from './child-stats.js';
import { EventLoopMonitor } from './event-loop-monitor.js';
import { CHILD_EXIT_CODES, drainTimeoutFor, PROTOCOL_VERSION, type ChildMessage, type HostMessage, type StartMessage } from './protocol.js';
import { mergeHealth } from './connector-health.js';
import { buildConnector, connectorLabel, startFailure, startRuntime, type ConnectorParts } from './start-connector.js';
import { describeError, StartFailure } from './start-failure.js';

interface ChildSessionOptions {
  channel: ChildChannel;
  /** Ends the process (`process.exit`). */
  exit(code: number): void;
  sdkVersion: string;
  pid: number;
  /** Drain allowed when the host went away (IPC disconnect), ms. Default 2000. */
  disconnectDrainMs?: number;
  /** How long past a stop's `timeoutMs` the child still waits for the runtime to return its counts, ms. Default 1000. */
  stopGraceMs?: number;
  /** Longest wait for the last message to be written, and again for the Danube client to close, before exiting, ms. Default 2000. */
  exitFlushMs?: number;
  /**
   * Longest wait for the log buffer to reach stdout before exiting, ms; what is left is lost, so a log flood
   * nobody reads never holds up a stop. Default 500.
   */
  logFlushMs?: number;
  /** For errors that happen before a connector logger exists. */
  stderr: { write(text: string): unknown };
}

/** The lifecycle phases of a child. */
type Phase = 'waiting' | 'starting' | 'running' | 'stopping' | 'exiting';

type Outgoing = ChildMessage extends infer M ? (M extends ChildMessage ? Omit<M, 'v'> : never) : never;

const TIMEOUT = Symbol('timeout');

/** Resolves with the promise's value, or TIMEOUT after `ms`; a rejection passes through. */
async function settleBy<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<typeof TIMEOUT>((resolve) => (timer = setTimeout(resolve, Math.max(0, ms), TIMEOUT)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The message loop of a connector child (docs/architecture.md §5): waits for `start`, builds and starts the connector, sends
 * `ready`; answers `ping` and `metrics`; pushes `status`; drains on `stop` or when the host goes away; reports
 * fatal and uncaught errors before a non-zero exit (CHILD_EXIT_CODES). Every exit path reports first, and no
 * path waits without a deadline, so the child never outlives its host.
 */
export class ChildSession {
  private phase: Phase = 'waiting';
  private exiting = false;
  private startMessage: StartMessage | undefined;
  private parts: ConnectorParts | undefined;
  /** Settles when the start attempt ends: true once the runtime started, false when it did not. Never rejects. */
  private starting: Promise<boolean> = Promise.resolve(false);
  private readonly loop = new EventLoopMonitor();
  private readonly disconnectDrainMs: number;
  /** The host went away: logs are silenced (see hostGone). */
  private hostLost = false;
  private readonly stopGraceMs: number;
  private readonly exitFlushMs: number;
  private readonly logFlushMs: number;

  constructor(private readonly options: ChildSessionOptions) {
    this.disconnectDrainMs = options.disconnectDrainMs ?? 2_000;
    this.stopGraceMs = options.stopGraceMs ?? 1_000;
    this.exitFlushMs = options.exitFlushMs ?? 2_000;
    this.logFlushMs = options.logFlushMs ?? 500;
    options.channel.onMessage((message) => this.handle(message));
    options.channel.onDisconnect(() => this.hostGone());
    // The host may have gone before this module ran: then the 'disconnect' event came and went.
    if (!options.channel.connected) queueMicrotask(() => this.hostGone());
  }

  handle(message: HostMessage): void {
    switch (message.type) {
      case 'start':
        return this.begin(message);
      case 'ping':
        return void this.pong(message.id).catch((err) => this.logError(err, 'answering a ping failed'));
      case 'metrics':
        return void this.metrics(message.id).catch((err) => this.logError(err, 'answering a metrics request failed'));
      case 'stop':
        return void this.stop(message.timeoutMs, 'stop', message.drainTimeoutMs);
      default: {
        const unexpected: never = message;
        return unexpected;
      }
    }
  }

  /** An uncaughtException or unhandledRejection of the process: report it as fatal, exit `uncaught`. */
  uncaught(err: unknown, origin: 'uncaughtException' | 'unhandledRejection'): void {
    // A write to the dead channel or pipe after the host died: the disconnect path is already ending the child.
    if (isClosedChannelError(err) && !this.options.channel.connected) return;
    const what = origin === 'unhandledRejection' ? 'unhandled rejection' : 'uncaught exception';
    const message = `${this.label()}: ${what}: ${describeError(err)}`;
    this.logError(err, message, 'fatal');
    if (this.exiting) return;
    void this.finish(CHILD_EXIT_CODES.uncaught, { type: 'fatal', code: 'DC_ERR_UNCAUGHT', message });
  }

  private label(): string {
    return this.startMessage ? connectorLabel(this.startMessage) : 'connector child';
  }

  private logError(err: unknown, message: string, level: 'error' | 'fatal' = 'error'): void {
    if (this.parts) this.parts.logger[level]({ err }, message);
    else this.options.stderr.write(`${message}${err instanceof Error && !message.includes(err.message) ? `: ${describeError(err)}` : ''}\n`);
  }

  private send(message: Outgoing): Promise<boolean> {
    return this.options.channel.send({ v: PROTOCOL_VERSION, ...message } as ChildMessage);
  }

  private begin(start: StartMessage): void {
    if (this.phase !== 'waiting') {
      this.parts?.logger.warn({ phase: this.phase }, 'ignoring a second start message');
      return;
    }
    this.phase = 'starting';
    this.startMessage = start;
    this.starting = this.run(start);
  }

  private async run(start: StartMessage): Promise<boolean> {
    try {
      this.parts = await buildConnector(start);
      if (this.hostLost) this.parts.logger.level = 'silent';
      const { runtime, logger } = this.parts;
      runtime.onStatus((status) => this.statusChanged(status));
      runtime.onFatal((error) => this.fatal(error));
      // A stop (or a fatal) while building: never start intake.
      if (this.phase !== 'starting') return false;
      await startRuntime(start, runtime);
      if (this.phase !== 'starting') return true;
      this.phase = 'running';
      logger.info({ sdkVersion: this.options.sdkVersion }, 'connector ready');
      await this.send({ type: 'ready', pid: this.options.pid, sdkVersion: this.options.sdkVersion });
      // Changes during the start were not pushed (the host waits for ready first); report a degraded start now.
      const status = runtime.status();
      if (status.state !== 'connected') this.statusChanged(status);
      return true;
    } catch (err) {
      const failure = err instanceof StartFailure ? err : startFailure(start, 'start_failed', 'start failed', err);
      if (this.phase !== 'starting') {
        // Asked to stop meanwhile (or already exiting): the stop path reports.
        this.parts?.logger.info({ err: failure }, 'the start ended after a stop or a fatal error');
        return false;
      }
      this.logError(failure, failure.message);
      await this.finish(CHILD_EXIT_CODES.startFailed, { type: 'failed', code: failure.code, message: failure.message }, () => this.closeClient(this.parts?.client));
      return false;
    }
  }

  private statusChanged(status: RuntimeStatus): void {
    if (this.phase !== 'running' && this.phase !== 'stopping') return;
    void this.send({ type: 'status', state: status.state, ...(status.detail !== undefined ? { detail: status.detail } : {}) });
  }

  private currentStatus(): RuntimeStatus {
    if ((this.phase === 'running' || this.phase === 'stopping') && this.parts) return this.parts.runtime.status();
    const detail = { waiting: 'waiting for the start message', starting: 'starting', exiting: 'exiting' } as const;
    return { state: 'degraded', detail: detail[this.phase === 'running' || this.phase === 'stopping' ? 'starting' : this.phase] };
  }

  private async pong(id: number): Promise<void> {
    const runtimeStatus = this.currentStatus();
    const { state, detail } = this.phase === 'running' && this.parts ? mergeHealth(runtimeStatus, await this.parts.health()) : runtimeStatus;
    const stats = this.parts ? { ...sumStats(await this.parts.metrics.snapshot()), offsetGaps: this.parts.metrics.offsetGapTotal } : { ...ZERO_STATS, offsetGaps: 0 };
    const { rss, heapUsed } = process.memoryUsage();
    await this.send({
      type: 'pong',
      id,
      state,
      ...(detail !== undefined ? { detail } : {}),
      stats,
      memory: { rssBytes: rss, heapUsedBytes: heapUsed },
      eventLoopDelayP99Ms: this.loop.takeP99Ms(),
      logLinesDropped: this.parts?.metrics.logLinesDropped ?? 0,
    });
  }

  private async metrics(id: number): Promise<void> {
    await this.send({ type: 'metrics', id, metrics: this.parts ? await this.parts.metrics.toJSON() : [] });
  }

  private async inFlight(): Promise<number> {
    return this.parts ? sumStats(await this.parts.metrics.snapshot()).inFlight : 0;
  }

  /**
   * Stop intake (the context's signal aborts), drain until the drain deadline (`drainTimeoutMs`, the runtime's
   * `drainTimeoutMs` at most), report `stopped`, close the Danube client and exit within `timeoutMs`: `ok`, or
   * `drainTimeout` when records were abandoned or the runtime returned only at (or never before) the deadline. A
   * stop while stopping is ignored (the first deadline holds); a stop before `start` exits at once; a stop during
   * the start aborts the context's signal and waits for the start to settle within the same deadline.
   */
  private async stop(timeoutMs: number, reason: 'stop' | 'disconnect', drainTimeoutMs = drainTimeoutFor(timeoutMs)): Promise<void> {
    if (this.phase === 'stopping' || this.phase === 'exiting') {
      this.parts?.logger.debug({ reason, phase: this.phase }, 'already stopping');
      return;
    }
    const previous = this.phase;
    this.phase = 'stopping';
    const deadline = Date.now() + (Number.isFinite(timeoutMs) && timeoutMs > 0 ? timeoutMs : 0);
    const remaining = () => Math.max(0, deadline - Date.now());
    this.parts?.logger.info({ reason, timeoutMs }, 'stopping');
    if (previous === 'waiting') return this.finish(CHILD_EXIT_CODES.ok, { type: 'stopped', drained: 0, abandoned: 0 });
    this.parts?.abort.abort();
    if (previous === 'starting') {
      const started = await settleBy(this.starting, remaining());
      this.parts?.abort.abort();
      if (started === TIMEOUT) {
        this.parts?.logger.warn({ timeoutMs }, 'the start did not settle within the stop timeout');
        return this.finish(CHILD_EXIT_CODES.drainTimeout, { type: 'stopped', drained: 0, abandoned: await this.inFlight() });
      }
      if (!started) return this.finish(CHILD_EXIT_CODES.ok, { type: 'stopped', drained: 0, abandoned: 0 }, () => this.closeClient(this.parts?.client));
    }
    const { runtime, client, logger, drainTimeoutMs: configuredDrainMs } = this.parts as ConnectorParts;
    const drainMs = Math.min(remaining(), Math.max(0, drainTimeoutMs), configuredDrainMs);
    const drainDeadline = Date.now() + drainMs;
    let counts: { drained: number; abandoned: number };
    let timedOut = false;
    try {
      const result = await settleBy(runtime.stop(drainMs), remaining() + this.stopGraceMs);
      timedOut = result === TIMEOUT;
      counts = result === TIMEOUT ? { drained: 0, abandoned: await this.inFlight() } : result;
    } catch (err) {
      logger.error({ err }, 'the runtime failed to stop');
      counts = { drained: 0, abandoned: await this.inFlight() };
    }
    // A runtime gives up at its drain deadline: returning at or after it means something did not finish in time.
    timedOut ||= timeoutMs > 0 && Date.now() >= drainDeadline;
    const code = timedOut || counts.abandoned > 0 ? CHILD_EXIT_CODES.drainTimeout : CHILD_EXIT_CODES.ok;
    logger[code === CHILD_EXIT_CODES.ok ? 'info' : 'warn']({ ...counts, timedOut, reason }, 'stopped');
    await this.finish(code, { type: 'stopped', ...counts }, () => this.closeClient(client));
  }

  private hostGone(): void {
    // Our stdout is a socket the host read. With the host gone nobody reads these logs any more (the bounded
    // log buffer would only fill up and drop): silence them before anything else.
    this.hostLost = true;
    if (this.parts) this.parts.logger.level = 'silent';
    // A stop in progress ends the process within its own deadline; its messages are dropped.
    if (this.phase === 'stopping' || this.phase === 'exiting') return;
    void this.stop(this.disconnectDrainMs, 'disconnect');
  }

  private fatal(error: ConnectorError): void {
    const message = `${this.label()}: ${error.message}`;
    if (this.phase === 'starting') {
      this.logError(error, message);
      void this.finish(CHILD_EXIT_CODES.startFailed, { type: 'failed', code: 'start_failed', message }, () => this.closeClient(this.parts?.client));
      return;
    }
    if (this.phase !== 'running') {
      // While stopping the stop path reports; while exiting there is already a reason.
      this.parts?.logger.error({ err: error }, 'fatal error while stopping');
      return;
    }
    this.logError(error, message, 'fatal');
    void this.finish(CHILD_EXIT_CODES.fatal, { type: 'fatal', code: String(error.code), message }, () => this.closeClient(this.parts?.client));
  }

  /** Flushes producers and closes connections; bounded by the caller. */
  private async closeClient(client: DanubeClient | undefined): Promise<void> {
    await client?.close(this.exitFlushMs);
  }

  /** Reports (bounded), cleans up (bounded), exits. Only the first call counts. */
  private async finish(code: number, message?: Outgoing, cleanup?: () => Promise<void>): Promise<void> {
    if (this.exiting) return;
    this.exiting = true;
    this.phase = 'exiting';
    // Whatever hangs below, the process ends.
    const backstop = setTimeout(() => this.options.exit(code), 2 * this.exitFlushMs + this.logFlushMs + 500);
    if (message) await settleBy(this.send(message), this.exitFlushMs);
    if (cleanup) {
      await settleBy(
        cleanup().catch((err: unknown) => this.logError(err, 'cleanup before exit failed')),
        this.exitFlushMs,
      );
    }
    const logOutput = this.parts?.logOutput;
    if (logOutput) await settleBy(new Promise<void>((resolve) => logOutput.flush(() => resolve())), this.logFlushMs);
    clearTimeout(backstop);
    this.loop.stop();
    this.options.exit(code);
  }
}
