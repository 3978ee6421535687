import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { isChildMessage, PROTOCOL_VERSION, type ChildMessage, type HostMessage, type MetricsResponse } from '@danube-connect/sdk/protocol';
import { LineSplitter } from './line-splitter.js';
import { orphanWatchdog } from './orphan-watchdog.js';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

type Outgoing = HostMessage extends infer M ? (M extends HostMessage ? Omit<M, 'v'> : never) : never;

export interface ConnectorChildOptions {
  /** The child module; default `@danube-connect/sdk/plugin/child`. */
  childEntry?: string;
  /** Node flags, e.g. `--max-old-space-size=256`; the host's own flags are never inherited. */
  execArgv: string[];
  /** Working directory of the child. */
  cwd: string;
  /** The child's whole environment (childEnv); the host's own is never inherited. */
  env: NodeJS.ProcessEnv;
  onMessage(message: ChildMessage): void;
  /** A line of the child's stdout or stderr, without its newline; `truncated` when cut at MAX_LINE_BYTES. */
  onLine(stream: 'stdout' | 'stderr', line: string, truncated: boolean): void;
}

/** The longest line relayed from a child, bytes; the rest of a longer line is discarded. */
const MAX_LINE_BYTES = 64 * 1024;

/** After the exit, how long to wait for the rest of the output (a grandchild may hold the pipes open), ms. */
const OUTPUT_AFTER_EXIT_MS = 1_000;

/** The connector child of the installed SDK: `<sdk>/dist/plugin/child.js`. */
function defaultChildEntry(): string {
  return createRequire(import.meta.url).resolve('@danube-connect/sdk/plugin/child');
}

/**
 * Children alive right now, killed if the host exits without stopping them (a backstop: they also exit on
 * disconnect, and the orphan watchdog kills their groups when the host dies without running exit handlers).
 */
const live = new Set<ConnectorChild>();
let exitHookInstalled = false;

function killLiveChildren(): void {
  for (const child of live) child.kill();
}

/**
 * One forked connector child: the process in its own process group (so a terminal's Ctrl-C reaches the host
 * only, which then stops children in order, and a kill takes the plugin's own subprocesses with it), its
 * protocol messages, its output split into lines, and its end. Knows nothing about restarts.
 */
export class ConnectorChild {
  readonly pid: number | undefined;
  /** Resolves once the process exited and its output was read (bounded); never rejects. */
  readonly exited: Promise<ChildExit>;
  private readonly process: ChildProcess;
  private readonly metricsWaiters = new Map<number, (response: MetricsResponse | undefined) => void>();
  private nextMetricsId = 1;
  private ended = false;

  constructor(private readonly options: ConnectorChildOptions) {
    this.process = fork(options.childEntry ?? defaultChildEntry(), [], {
      serialization: 'json',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: options.execArgv,
      env: options.env,
      cwd: options.cwd,
      detached: true,
    });
    this.pid = this.process.pid;
    if (this.pid !== undefined) orphanWatchdog.watch(this.pid);
    // A send to a child that just died fails with EPIPE: a symptom, the exit tells the story.
    this.process.on('error', () => {});
    this.process.on('message', (message: unknown) => {
      if (!isChildMessage(message)) return;
      if (message.type === 'metrics') this.metricsWaiters.get(message.id)?.(message);
      options.onMessage(message);
    });
    live.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', killLiveChildren);
    }
    this.exited = this.watchExit();
  }

  get alive(): boolean {
    return !this.ended && this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Sends a protocol message; false when the channel is gone. */
  send(message: Outgoing): boolean {
    if (!this.process.connected) return false;
    try {
      this.process.send({ v: PROTOCOL_VERSION, ...message }, () => {});
      return true;
    } catch {
      return false;
    }
  }

  /** Asks for the child's metrics; undefined when it does not answer within `timeoutMs` or ends first. */
  metrics(timeoutMs: number): Promise<MetricsResponse | undefined> {
    const id = this.nextMetricsId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(undefined), timeoutMs);
      const settle = (response: MetricsResponse | undefined) => {
        clearTimeout(timer);
        this.metricsWaiters.delete(id);
        resolve(response);
      };
      this.metricsWaiters.set(id, settle);
      if (!this.send({ type: 'metrics', id })) settle(undefined);
    });
  }

  /** SIGKILLs the child's process group (the child and anything it spawned). */
  kill(): void {
    if (this.pid === undefined || !this.alive) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      try {
        this.process.kill('SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }

  /** Reads the stream at full speed (a blocked pipe would block the child's synchronous logger) into bounded lines. */
  private lines(stream: Readable | null, name: 'stdout' | 'stderr'): Promise<void> {
    if (!stream) return Promise.resolve();
    const splitter = new LineSplitter(MAX_LINE_BYTES, (line, truncated) => this.options.onLine(name, line, truncated));
    stream.on('data', (chunk: Buffer) => splitter.push(chunk));
    stream.once('end', () => splitter.end());
    stream.on('error', () => {});
    return new Promise((resolve) => stream.once('close', resolve));
  }

  private async watchExit(): Promise<ChildExit> {
    const output = Promise.all([this.lines(this.process.stdout, 'stdout'), this.lines(this.process.stderr, 'stderr')]);
    const exit = await new Promise<ChildExit>((resolve) => {
      this.process.once('exit', (code: number | null, signal: NodeJS.Signals | null) => resolve({ code, signal }));
      // A fork that could not spawn (EAGAIN, ENOMEM) emits 'error' and never 'exit'.
      if (this.pid === undefined) this.process.once('error', () => resolve({ code: null, signal: null }));
    });
    this.ended = true;
    live.delete(this);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([output, new Promise<void>((resolve) => (timer = setTimeout(resolve, OUTPUT_AFTER_EXIT_MS)))]);
    clearTimeout(timer);
    for (const settle of [...this.metricsWaiters.values()]) settle(undefined);
    // Anything the plugin left behind in the group goes with it.
    if (this.pid !== undefined) {
      try {
        process.kill(-this.pid, 'SIGKILL');
      } catch {
        // The group is empty.
      }
      orphanWatchdog.unwatch(this.pid);
    }
    return exit;
  }
}
