import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBroker } from '@danube-connect/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';

// `danube-connect run` as users run it: the built CLI in its own process, a real plugin package, a Danube
// (TestBroker) on loopback, the HTTP endpoints, SIGHUP reload and a SIGTERM drain.
const CLI = fileURLToPath(new URL('../host/dist/cli.js', import.meta.url));
const SOURCE_PLUGIN = fileURLToPath(new URL('../sdk/test/fixtures/plugins/example-file-source', import.meta.url));
const SECRET = 'jwt-never-shown-9f3a';
const WAIT = { timeout: 20_000, interval: 50 };

interface Host {
  process: ChildProcess;
  lines: () => Record<string, unknown>[];
  output: () => string;
  exit: Promise<number | null>;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function startHost(toml: string): Host {
  const child = spawn(process.execPath, [CLI, 'run', toml], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exit;
  });
  // Complete stdout lines only: a chunk may end mid-line, and stderr chunks would split a line of `out`.
  const lines = () =>
    stdout
      .split('\n')
      .slice(0, -1)
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { process: child, lines, output: () => out, exit };
}

/**
 * Whether a process still runs. An exited child whose parent was killed stays a zombie until whoever adopted it
 * reaps it (in a container without an init, nobody may), so a zombie counts as exited.
 */
/** The host's "running" log line, which carries the address it serves HTTP on. */
function runningLine(host: Host): Promise<{ http: string }> {
  return vi.waitFor(() => {
    const line = host.lines().find((l) => l.msg === 'danube-connect running');
    expect(line, host.output()).toBeDefined();
    return line as { http: string };
  }, WAIT);
}

function alive(pid: number): boolean {
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

describe('danube-connect run', () => {
  it('runs connectors end to end: Danube gets every line, HTTP reports them, SIGHUP restarts only the changed one, SIGTERM drains and leaves no child', async () => {
    const broker = await TestBroker.start();
    cleanups.push(() => broker.stop());
    const dir = mkdtempSync(join(tmpdir(), 'dc-run-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const toml = join(dir, 'host.toml');
    const hostToml = (batchLinesOfB: number) => `
[host]
http = "127.0.0.1:0"
shutdown_timeout_ms = 5000
# Three missed pings mark a child hung: at 200 ms a loaded machine got a healthy child SIGKILLed.
ping_interval_ms = 1000

[danube]
service_url = "${broker.serviceUrl}"
token = "${SECRET}"

[[connectors]]
name = "files-a"
plugin = "${SOURCE_PLUGIN}"
[connectors.config]
path = "${join(dir, 'a.txt')}"
topic = "/default/files-a"
state_file = "${join(dir, 'a.offset')}"

[[connectors]]
name = "files-b"
plugin = "${SOURCE_PLUGIN}"
[connectors.config]
path = "${join(dir, 'b.txt')}"
topic = "/default/files-b"
state_file = "${join(dir, 'b.offset')}"
batch_lines = ${batchLinesOfB}
`;
    writeFileSync(toml, hostToml(100));
    const host = startHost(toml);
    const running = await runningLine(host);
    const http = `http://${running.http}`;
    expect(running.http).toMatch(/^127\.0\.0\.1:\d+$/);

    appendFileSync(join(dir, 'a.txt'), 'a1\na2\na3\n');
    appendFileSync(join(dir, 'b.txt'), 'b1\nb2\n');
    const stored = (topic: string) => broker.storedMessages(topic).map((m) => m.payload.toString());
    await vi.waitFor(() => {
      expect(stored('/default/files-a')).toEqual(['a1', 'a2', 'a3']);
      expect(stored('/default/files-b')).toEqual(['b1', 'b2']);
    }, WAIT);

    const readyz = await fetch(`${http}/readyz`);
    expect(readyz.status).toBe(200);
    const connectors = (await (await fetch(`${http}/connectors`)).json()) as { connectors: Array<{ name: string; state: string; pid: number; config: Record<string, unknown> }> };
    expect(connectors.connectors.map((c) => [c.name, c.state])).toEqual([
      ['files-a', 'running'],
      ['files-b', 'running'],
    ]);
    const metrics = await (await fetch(`${http}/metrics`)).text();
    expect(metrics).toContain('danube_connector_messages_received_total{connector="files-a",topic="/default/files-a"} 3');
    expect(metrics).toContain('danube_connector_messages_processed_total{connector="files-b",topic="/default/files-b"} 2');
    const pids = Object.fromEntries(connectors.connectors.map((c) => [c.name, c.pid]));

    // Reload with only files-b changed: files-a keeps its process.
    writeFileSync(toml, hostToml(7));
    host.process.kill('SIGHUP');
    await vi.waitFor(async () => {
      const now = (await (await fetch(`${http}/connectors`)).json()) as typeof connectors;
      const b = now.connectors.find((c) => c.name === 'files-b');
      expect(b?.pid).not.toBe(pids['files-b']);
      expect(b?.state).toBe('running');
      expect(now.connectors.find((c) => c.name === 'files-a')?.pid).toBe(pids['files-a']);
    }, WAIT);
    appendFileSync(join(dir, 'b.txt'), 'b3\n');
    await vi.waitFor(() => expect(stored('/default/files-b')).toEqual(['b1', 'b2', 'b3']), WAIT);

    // A broken host.toml is refused over HTTP and the running set is kept.
    writeFileSync(toml, hostToml(0));
    const refused = await fetch(`${http}/-/reload`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toContain('connector "files-b": config/batch_lines must be >= 1');
    const cli = spawnSync(process.execPath, [CLI, 'reload', '--http', running.http], { encoding: 'utf8' });
    expect(cli.status).toBe(2);
    expect(cli.stderr).toContain('the running connectors are kept');

    const childPids = ((await (await fetch(`${http}/connectors`)).json()) as typeof connectors).connectors.map((c) => c.pid);
    const everything = [await (await fetch(`${http}/connectors`)).text(), await (await fetch(`${http}/metrics`)).text(), host.output()].join('\n');
    expect(everything).not.toContain(SECRET);

    host.process.kill('SIGTERM');
    expect(await host.exit).toBe(0);
    expect(host.lines().some((l) => l.msg === 'danube-connect stopped' && l.clean === true)).toBe(true);
    for (const pid of childPids) expect(alive(pid), `child ${pid} outlived the host`).toBe(false);
    expect(host.output()).not.toContain(SECRET);
  });

  it("resolves a plugin's relative file paths from host.toml's folder, not from where the host was started", async () => {
    const broker = await TestBroker.start();
    cleanups.push(() => broker.stop());
    const dir = mkdtempSync(join(tmpdir(), 'dc-run-cwd-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const toml = join(dir, 'host.toml');
    // The host runs from this test's cwd (the repository); the plugin's config names files relative to host.toml.
    writeFileSync(toml, `[host]\nhttp = "127.0.0.1:0"\n\n[danube]\nservice_url = "${broker.serviceUrl}"\n\n[[connectors]]\nname = "relative"\nplugin = "${SOURCE_PLUGIN}"\n[connectors.config]\npath = "lines.txt"\ntopic = "/default/relative"\nstate_file = "lines.offset"\n`);
    const host = startHost(toml);
    await runningLine(host);
    appendFileSync(join(dir, 'lines.txt'), 'r1\nr2\n');
    await vi.waitFor(() => expect(broker.storedMessages('/default/relative').map((m) => m.payload.toString())).toEqual(['r1', 'r2']), WAIT);
    await vi.waitFor(() => expect(readFileSync(join(dir, 'lines.offset'), 'utf8')).toBe('6'), WAIT);
    host.process.kill('SIGTERM');
    expect(await host.exit).toBe(0);
  });

  it('a SIGKILLed host leaves no orphan: every child notices the lost channel and exits by itself', async () => {
    const broker = await TestBroker.start();
    cleanups.push(() => broker.stop());
    const dir = mkdtempSync(join(tmpdir(), 'dc-run-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const toml = join(dir, 'host.toml');
    const connector = (name: string) =>
      `[[connectors]]\nname = "${name}"\nplugin = "${SOURCE_PLUGIN}"\n[connectors.config]\npath = "${join(dir, `${name}.txt`)}"\ntopic = "/default/${name}"\nstate_file = "${join(dir, `${name}.offset`)}"\n`;
    writeFileSync(toml, `[host]\nhttp = "127.0.0.1:0"\n[danube]\nservice_url = "${broker.serviceUrl}"\n${connector('k1')}${connector('k2')}`);
    const host = startHost(toml);
    const running = await runningLine(host);
    const pids = await vi.waitFor(async () => {
      const { connectors } = (await (await fetch(`http://${running.http}/connectors`)).json()) as { connectors: Array<{ state: string; pid: number }> };
      expect(connectors.map((c) => c.state)).toEqual(['running', 'running']);
      return connectors.map((c) => c.pid);
    }, WAIT);
    host.process.kill('SIGKILL');
    await host.exit;
    await vi.waitFor(() => {
      for (const pid of pids) expect(alive(pid), `child ${pid} outlived a SIGKILLed host`).toBe(false);
    }, WAIT);
  });

  it('exits 2 and starts nothing when host.toml is invalid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dc-run-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const toml = join(dir, 'host.toml');
    writeFileSync(toml, `[[connectors]]\nname = "x"\nplugin = "@nobody/no-such-plugin"\n`);
    const host = startHost(toml);
    expect(await host.exit).toBe(2);
    expect(host.output()).toContain('connector "x"');
    expect(host.output()).toContain('nothing started');
  });
});
