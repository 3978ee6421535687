import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBroker } from '@danube-connect/testing';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { alive, CLI, connectors, metric, rssMb, runningLine, startHost, WAIT } from './host-process.js';

// Faults a plugin or the host's surroundings provoke, against the built CLI in its own process: the host keeps
// running and keeps its other connectors running.
const FIXTURES = fileURLToPath(new URL('../host/test/fixtures/plugins/', import.meta.url));
const SDK_FIXTURES = fileURLToPath(new URL('../sdk/test/fixtures/plugins/', import.meta.url));

async function project(body: (dir: string, serviceUrl: string) => string): Promise<string> {
  const broker = await TestBroker.start();
  onTestFinished(() => broker.stop());
  const dir = mkdtempSync(join(tmpdir(), 'dc-faults-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const toml = join(dir, 'host.toml');
  writeFileSync(toml, body(dir, broker.serviceUrl));
  return toml;
}

const source = (name: string, dir: string) =>
  `[[connectors]]\nname = "${name}"\nplugin = "${join(SDK_FIXTURES, 'example-file-source')}"\n[connectors.config]\npath = "${join(dir, `${name}.txt`)}"\ntopic = "/default/${name}"\nstate_file = "${join(dir, `${name}.offset`)}"\n`;

describe('host faults', () => {
  it('a stalled stdout: the host drops and counts log lines, its buffer stays bounded, and the flooding child is not killed as hung', async () => {
    const toml = await project(
      (dir, serviceUrl) =>
        `[host]\nhttp = "127.0.0.1:0"\nping_interval_ms = 500\n[danube]\nservice_url = "${serviceUrl}"\n` +
        `[[connectors]]\nname = "flood"\nplugin = "${join(FIXTURES, 'floods-logs')}"\n${source('quiet', dir)}`,
    );
    const host = startHost(toml);
    const { http } = await runningLine(host);
    // Nobody reads the host's stdout from here on: its pipe fills and every write of the host would wait. A
    // host blocked on it for 3 ping intervals (1.5 s) would kill the flooding child as hung. The stall lasts
    // until 150,000 lines are dropped (~3 s here, longer on a loaded machine); a shorter interval made a child
    // that was only starved of CPU look hung when other processes kept both cores busy.
    host.process.stdout?.pause();
    const rssBefore = rssMb(host.pid);
    await vi.waitFor(async () => expect(await metric(http, 'danube_connect_log_lines_dropped_total')).toBeGreaterThan(150_000), { ...WAIT, timeout: 60_000 });
    const buffered = await metric(http, 'danube_connect_log_buffered_bytes');
    expect(buffered).toBeLessThanOrEqual(8 * 1024 * 1024);
    const rssAfter = rssMb(host.pid);
    expect(rssAfter - rssBefore, `host RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MB`).toBeLessThan(100);
    const states = await connectors(http);
    expect(states.map((c) => [c.name, c.state, c.restarts, c.lastError])).toEqual([
      ['flood', 'running', 0, undefined],
      ['quiet', 'running', 0, undefined],
    ]);
    // Once stdout is read again the host logs again: its stop line counts what it dropped. (The flooding child's
    // own logger buffers what the host could not take yet, so its stop may outlast the shutdown timeout.)
    host.process.stdout?.resume();
    host.process.kill('SIGTERM');
    expect([0, 1]).toContain(await host.exit);
    const stopped = host.lines().find((l) => l.msg === 'danube-connect stopped');
    expect(stopped?.droppedLogLines).toBeGreaterThan(150_000);
  }, 90_000);

  it('a 600 MiB line with no newline (RangeError: Invalid string length before) is cut and counted; host memory stays flat, the neighbour runs', async () => {
    const toml = await project(
      (dir, serviceUrl) =>
        `[host]\nhttp = "127.0.0.1:0"\n[danube]\nservice_url = "${serviceUrl}"\n` +
        `[[connectors]]\nname = "huge"\nplugin = "${join(FIXTURES, 'writes-huge-line')}"\n[connectors.config]\nmib = 600\n${source('neighbour', dir)}`,
    );
    const host = startHost(toml);
    const { http } = await runningLine(host);
    await vi.waitFor(() => expect(host.lines().some((l) => l.connector === 'huge' && l.msg === 'writes-huge-line: done')).toBe(true), { ...WAIT, timeout: 50_000 });
    const peakMb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${host.pid}/status`, 'utf8'))?.[1]) / 1024;
    expect(peakMb, `host peak RSS ${peakMb.toFixed(0)} MB`).toBeLessThan(200);
    // At least one cut line (one of the child's own log lines may land inside the huge one and split it).
    expect(await metric(http, 'danube_connect_log_lines_truncated_total{connector="huge"}')).toBeGreaterThanOrEqual(1);
    expect(Math.max(...host.output().split('\n').map((l) => Buffer.byteLength(l)))).toBeLessThan(66 * 1024);
    expect((await connectors(http)).map((c) => [c.name, c.state, c.restarts])).toEqual([
      ['huge', 'running', 0],
      ['neighbour', 'running', 0],
    ]);
  }, 90_000);

  it('a SIGKILLed host leaves no orphan even when a child cannot notice: one in a busy loop, one SIGSTOPped', async () => {
    const toml = await project(
      (dir, serviceUrl) =>
        // Pings far apart: the host must not find the busy child hung before it is killed itself.
        `[host]\nhttp = "127.0.0.1:0"\nping_interval_ms = 600000\n[danube]\nservice_url = "${serviceUrl}"\n` +
        `[[connectors]]\nname = "spin"\nplugin = "${join(FIXTURES, 'hangs')}"\n[connectors.config]\nafterMs = 300\n${source('frozen', dir)}`,
    );
    const host = startHost(toml);
    const { http } = await runningLine(host);
    const pids = await vi.waitFor(async () => {
      const now = await connectors(http);
      expect(now.map((c) => c.state)).toEqual(['running', 'running']);
      return Object.fromEntries(now.map((c) => [c.name, c.pid as number]));
    }, WAIT);
    const children = [pids['spin'] as number, pids['frozen'] as number];
    onTestFinished(() => {
      for (const pid of children) if (alive(pid)) process.kill(pid, 'SIGKILL');
    });
    await vi.waitFor(() => expect(host.lines().some((l) => l.connector === 'spin' && l.msg === 'hangs: entering a busy loop')).toBe(true), WAIT);
    process.kill(pids['frozen'] as number, 'SIGSTOP');
    host.process.kill('SIGKILL');
    await host.exit;
    await vi.waitFor(() => {
      for (const pid of children) expect(alive(pid), `child ${pid} outlived a SIGKILLed host`).toBe(false);
    }, { ...WAIT, timeout: 15_000 });
  });
});
