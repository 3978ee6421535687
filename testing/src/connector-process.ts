import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { isChildMessage, PROTOCOL_VERSION, type ChildMessage, type HostMessage, type StartMessage } from '@danube-connect/sdk/protocol';

type ChildMessageOf<T extends ChildMessage['type']> = Extract<ChildMessage, { type: T }>;
type Outgoing = HostMessage extends infer M ? (M extends HostMessage ? Omit<M, 'v'> : never) : never;

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Default deadline of a wait for a message or the exit, ms: generous, for loaded 2-core machines. */
const WAIT_MS = 15_000;

/** The connector child the host forks: `<sdk>/dist/plugin/child.js` of the SDK this kit resolves. */
export function childEntryPath(): string {
  return createRequire(import.meta.url).resolve('@danube-connect/sdk/plugin/child');
}

export interface ConnectorProcessOptions {
  /** Node flags of the child, e.g. `--max-old-space-size=64`; the parent's own flags are never inherited. */
  execArgv?: string[];
  /** The child module; default the built child of the SDK (`childEntryPath()`). */
  childEntry?: string;
}

/**
 * A connector child forked exactly as the host forks it (IPC channel, JSON serialization), with its protocol
 * messages, output and exit observable: the harness of the SDK's own process tests and of the conformance kit.
 */
export class ConnectorProcess {
  readonly process: ChildProcess;
  /** Every protocol message received, in order. */
  readonly messages: ChildMessage[] = [];
  /** Resolves once the process exited, its output ended and its channel closed. */
  readonly exited: Promise<ChildExit>;
  private stdoutText = '';
  private stderrText = '';
  private readonly consumed = new Set<number>();
  private readonly waiters = new Set<() => void>();
  private closed = false;

  constructor(options: ConnectorProcessOptions = {}) {
    this.process = fork(options.childEntry ?? childEntryPath(), [], {
      serialization: 'json',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: options.execArgv ?? [],
    });
    this.process.stdout?.on('data', (chunk: Buffer) => (this.stdoutText += chunk.toString()));
    this.process.stderr?.on('data', (chunk: Buffer) => (this.stderrText += chunk.toString()));
    this.process.on('message', (message: unknown) => {
      if (!isChildMessage(message)) return;
      this.messages.push(message);
      this.wake();
    });
    // A send to a child that just died is expected; the exit tells the story.
    this.process.on('error', () => {});
    // 'close' does not fire when the parent disconnected first, so wait for each part: the exit, the end of
    // stdout and stderr, and the channel (whose last messages arrive before its 'disconnect').
    this.exited = new Promise((resolve) => {
      let pending = 4;
      let exit: ChildExit = { code: null, signal: null };
      const part = () => {
        if (--pending > 0) return;
        this.closed = true;
        this.wake();
        resolve(exit);
      };
      this.process.once('exit', (code: number | null, signal: NodeJS.Signals | null) => {
        exit = { code, signal };
        part();
      });
      this.process.stdout?.once('close', part);
      this.process.stderr?.once('close', part);
      if (this.process.connected) this.process.once('disconnect', part);
      else part();
    });
  }

  get pid(): number {
    return this.process.pid as number;
  }

  get alive(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  send(message: Outgoing): void {
    if (this.process.connected) this.process.send({ v: PROTOCOL_VERSION, ...message }, () => {});
  }

  /** Sends a raw value, bypassing the protocol type (for guard tests). */
  sendRaw(value: unknown): void {
    if (this.process.connected) this.process.send(value as object, () => {});
  }

  /** Sends `start`; resolve readiness with `next('ready')`. */
  start(start: Omit<StartMessage, 'v' | 'type'>): StartMessage {
    const message: StartMessage = { v: PROTOCOL_VERSION, type: 'start', ...start };
    if (this.process.connected) this.process.send(message, () => {});
    return message;
  }

  /**
   * The next message of `type` not returned before (earlier ones first). Rejects when the child exits without
   * it or after `timeoutMs`, with what was received and the child's stderr.
   */
  next<T extends ChildMessage['type']>(type: T, timeoutMs = WAIT_MS): Promise<ChildMessageOf<T>> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const index = this.messages.findIndex((m, i) => m.type === type && !this.consumed.has(i));
        if (index >= 0) {
          this.consumed.add(index);
          done();
          resolve(this.messages[index] as ChildMessageOf<T>);
        } else if (this.closed) {
          done();
          reject(new Error(`child exited (code ${this.process.exitCode}, signal ${this.process.signalCode}) without a "${type}" message; ${this.describe()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no "${type}" message within ${timeoutMs} ms; ${this.describe()}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Sends a ping and returns its pong. */
  async ping(id = Math.floor(Math.random() * 1e9)): Promise<ChildMessageOf<'pong'>> {
    this.send({ type: 'ping', id });
    const pong = await this.next('pong');
    if (pong.id !== id) throw new Error(`pong for ${pong.id}, expected ${id}`);
    return pong;
  }

  /** Asks for the child's metrics (prom-client JSON). */
  async metrics(id = Math.floor(Math.random() * 1e9)): Promise<ChildMessageOf<'metrics'>['metrics']> {
    this.send({ type: 'metrics', id });
    const response = await this.next('metrics');
    if (response.id !== id) throw new Error(`metrics for ${response.id}, expected ${id}`);
    return response.metrics;
  }

  /** Sends `stop` and waits for the exit; returns the `stopped` report when the child sent one. */
  async stop(timeoutMs = 10_000): Promise<{ stopped: ChildMessageOf<'stopped'> | undefined; exit: ChildExit }> {
    this.send({ type: 'stop', timeoutMs });
    const exit = await this.exit(timeoutMs + WAIT_MS);
    return { stopped: this.messages.find((m): m is ChildMessageOf<'stopped'> => m.type === 'stopped'), exit };
  }

  /** Kills the child (SIGKILL by default) and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ChildExit> {
    if (this.alive) this.process.kill(signal);
    return this.exited;
  }

  /** The exit, within a deadline. */
  async exit(timeoutMs = WAIT_MS): Promise<ChildExit> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.exited,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`child did not exit within ${timeoutMs} ms; ${this.describe()}`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The first log line matching `predicate`, waiting for it up to `timeoutMs`. */
  async log(predicate: (line: Record<string, unknown>) => boolean, timeoutMs = WAIT_MS): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.logs().find(predicate);
      if (line) return line;
      if (this.closed) throw new Error(`child exited without the log line; ${this.describe()}`);
      if (Date.now() > deadline) throw new Error(`no such log line within ${timeoutMs} ms; ${this.describe()}`);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.process.stdout?.off('data', done).off('close', done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, deadline - Date.now()) + 1);
        this.process.stdout?.once('data', done).once('close', done);
      });
    }
  }

  /**
   * Stops reading the child's stdout (a host whose relay falls behind): the pipe fills and the child's writes
   * wait. Messages (IPC), stderr and the exit are still observed; `resumeStdout()` reads again.
   */
  pauseStdout(): void {
    this.process.stdout?.pause();
  }

  resumeStdout(): void {
    this.process.stdout?.resume();
  }

  stdout(): string {
    return this.stdoutText;
  }

  stderr(): string {
    return this.stderrText;
  }

  /** The child's NDJSON log lines, parsed: complete ones only (a read may end mid-line). */
  logs(): Record<string, unknown>[] {
    return this.stdoutText
      .split('\n')
      .slice(0, -1)
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  private describe(): string {
    return `received [${this.messages.map((m) => m.type).join(', ')}]; stderr: ${this.stderrText.slice(-2_000) || '(empty)'}; last log lines: ${this.stdoutText.split('\n').slice(-6).join('\n')}`;
  }
}
