import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, onTestFinished, vi } from 'vitest';

// The built CLI as a process of its own, for the end-to-end fault tests.
export const CLI = fileURLToPath(new URL('../host/dist/cli.js', import.meta.url));
export const WAIT = { timeout: 30_000, interval: 50 };

export interface HostProcess {
  process: ChildProcess;
  pid: number;
  lines: () => Record<string, unknown>[];
  output: () => string;
  exit: Promise<number | null>;
}

/**
 * `danube-connect run <toml>`, its stdout and stderr collected; SIGKILLed when the test ends if still running.
 * `ownGroup`: the host leads a process group of its own, as a shell's foreground job does (a terminal's Ctrl-C
 * is `kill(-pid, SIGINT)`). `cli`: another build of the CLI (an installed one), default the workspace's. `env`: the
 * host's environment instead of the test's.
 */
export function startHost(toml: string, { ownGroup = false, cli = CLI, env }: { ownGroup?: boolean; cli?: string; env?: NodeJS.ProcessEnv } = {}): HostProcess {
  const child = spawn(process.execPath, [cli, 'run', toml], { stdio: ['ignore', 'pipe', 'pipe'], detached: ownGroup, ...(env ? { env } : {}) });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exit;
  });
  const lines = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  return { process: child, pid: child.pid as number, lines, output: () => out, exit };
}

/** The host's "running" log line, which carries the address it serves HTTP on. */
export function runningLine(host: HostProcess): Promise<{ http: string }> {
  return vi.waitFor(() => {
    const line = host.lines().find((l) => l.msg === 'danube-connect running');
    expect(line, host.output()).toBeDefined();
    return line as { http: string };
  }, WAIT);
}

export interface ConnectorJson {
  name: string;
  state: string;
  pid?: number;
  restarts: number;
  lastError?: { message: string };
}

export async function connectors(http: string): Promise<ConnectorJson[]> {
  return ((await (await fetch(`http://${http}/connectors`)).json()) as { connectors: ConnectorJson[] }).connectors;
}

/** The value of one sample of the host's /metrics (`name{labels}`), undefined when absent. */
export async function metric(http: string, sample: string): Promise<number | undefined> {
  const text = await (await fetch(`http://${http}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

/**
 * Whether a process still runs. An exited child whose parent was killed stays a zombie until whoever adopted it
 * reaps it (in a container without an init, nobody may), so a zombie counts as exited.
 */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return true;
  }
}

/** Resident memory of a process, MB (Linux /proc). */
export function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}
