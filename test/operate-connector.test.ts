import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBroker } from '@danube-connect/testing';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { CLI, connectors, runningLine, startHost, WAIT } from './host-process.js';

// Operating one connector of a running host: `danube-connect restart|pause|resume <name>` and the HTTP routes
// behind them, and what a reload says about settings it cannot apply live.
const SOURCE_PLUGIN = fileURLToPath(new URL('../sdk/test/fixtures/plugins/example-file-source', import.meta.url));

function cli(...args: string[]): { code: number | null; out: string; err: string } {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

describe('operating one connector', () => {
  it('pause, resume and restart one connector by name over the CLI and HTTP; reload says what needs a restart', async () => {
    const broker = await TestBroker.start();
    onTestFinished(() => broker.stop());
    const dir = mkdtempSync(join(tmpdir(), 'dc-operate-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const connector = (name: string) =>
      `[[connectors]]\nname = "${name}"\nplugin = "${SOURCE_PLUGIN}"\n[connectors.config]\npath = "${join(dir, `${name}.txt`)}"\ntopic = "/default/${name}"\nstate_file = "${join(dir, `${name}.offset`)}"\n`;
    const toml = join(dir, 'host.toml');
    writeFileSync(toml, `[host]\nhttp = "127.0.0.1:0"\n[danube]\nservice_url = "${broker.serviceUrl}"\n${connector('a')}${connector('b')}`);
    const host = startHost(toml);
    const { http } = await runningLine(host);
    const pids = await vi.waitFor(async () => {
      const now = await connectors(http);
      expect(now.map((c) => c.state)).toEqual(['running', 'running']);
      return now.map((c) => c.pid);
    }, WAIT);

    const paused = cli('pause', 'a', '--http', http);
    expect(paused).toMatchObject({ code: 0, out: 'a: paused\n' });
    expect((await connectors(http)).map((c) => [c.name, c.state, c.pid])).toEqual([
      ['a', 'paused', undefined],
      ['b', 'running', pids[1]],
    ]);
    // A pause is the operator's: the host stays ready.
    const readyz = await fetch(`http://${http}/readyz`);
    expect(readyz.status).toBe(200);
    expect(await readyz.json()).toMatchObject({ ready: true, connectors: [{ name: 'a', state: 'paused', ready: false }, { name: 'b', ready: true }] });

    const resumed = await fetch(`http://${http}/connectors/a/resume`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(resumed.status).toBe(200);
    expect(await resumed.json()).toMatchObject({ connector: 'a', action: 'resume', state: 'starting' });
    await vi.waitFor(async () => expect((await connectors(http)).map((c) => c.state)).toEqual(['running', 'running']), WAIT);

    const restarted = cli('restart', 'b', '--http', http);
    expect(restarted).toMatchObject({ code: 0, out: 'b: restarted (starting)\n' });
    await vi.waitFor(async () => {
      const b = (await connectors(http))[1];
      expect(b).toMatchObject({ state: 'running' });
      expect(b?.pid).not.toBe(pids[1]);
    }, WAIT);

    const unknown = await fetch(`http://${http}/connectors/nobody/restart`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'no connector "nobody"' });
    expect(cli('pause', 'nobody', '--http', http)).toMatchObject({ code: 1, err: `no connector "nobody" on the host at ${http}\n` });

    // [host] log_level is applied to the host live; the connectors inheriting it and [host] http need a restart:
    // the answer says so.
    writeFileSync(toml, readFileSync(toml, 'utf8').replace('http = "127.0.0.1:0"', 'http = "127.0.0.1:0"\nlog_level = "warn"').replace('127.0.0.1:0', '127.0.0.2:0'));
    const reload = await fetch(`http://${http}/-/reload`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(await reload.json()).toMatchObject({
      reloaded: true,
      updated: ['[host] log_level'],
      needsRestart: [
        '[host] http 127.0.0.1:0 → 127.0.0.2:0 takes effect when the host restarts',
        'connector "a": log_level info → warn takes effect when it restarts (danube-connect restart a)',
        'connector "b": log_level info → warn takes effect when it restarts (danube-connect restart b)',
      ],
    });
  });
});
