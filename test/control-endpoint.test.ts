import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished, vi } from 'vitest';

const CLI = fileURLToPath(new URL('../host/dist/cli.js', import.meta.url));

describe('the control endpoint of a running host', () => {
  it('bound to 0.0.0.0 it warns at start; danube-connect reload still works and a foreign Host is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dc-control-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const toml = join(dir, 'host.toml');
    writeFileSync(toml, '[host]\nhttp = "0.0.0.0:0"\n');
    const child = spawn(process.execPath, [CLI, 'run', toml], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    onTestFinished(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exit;
    });
    // Complete lines only: the last one may still be arriving.
    const lines = () => out.split('\n').slice(0, -1).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const running = await vi.waitFor(() => {
      const line = lines().find((l) => l.msg === 'danube-connect running');
      expect(line, out).toBeDefined();
      return line as { http: string };
    }, { timeout: 20_000, interval: 50 });
    // The warning follows the running line: wait for it rather than expect it in the same chunk.
    await vi.waitFor(() => {
      const warning = lines().find((l) => l.level === 40 && String(l.msg).startsWith('the status endpoint listens on every interface'));
      expect(warning, out).toBeDefined();
    }, { timeout: 20_000, interval: 50 });
    const port = running.http.split(':').at(-1);

    const reload = spawnSync(process.execPath, [CLI, 'reload', '--http', `127.0.0.1:${port}`], { encoding: 'utf8' });
    expect(reload.stderr).toBe('');
    expect(reload.stdout).toBe('reloaded: restarted none; started none; stopped none; updated live none\n');
    expect(reload.status).toBe(0);
    const rebinding = await fetch(`http://127.0.0.1:${port}/connectors`, { headers: { origin: 'http://evil.example' } });
    expect(rebinding.status).toBe(403);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);

    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(lines().find((l) => l.msg === 'stopping every connector')?.signal).toBe('SIGTERM');
  });
});
