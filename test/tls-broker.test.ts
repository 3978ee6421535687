import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBroker } from '@danube-connect/testing';
import { describe, expect, it, onTestFinished, vi } from 'vitest';

const CLI = fileURLToPath(new URL('../host/dist/cli.js', import.meta.url));
const SOURCE_PLUGIN = fileURLToPath(new URL('../sdk/test/fixtures/plugins/example-file-source', import.meta.url));

describe('a host on a TLS broker addressed by IP', () => {
  it('connects with [danube.tls] ca and prints no Node warning (DEP0123: TLS ServerName set to an IP)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dc-tls-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=test-ca');
    writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=broker');
    openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'server.ext');
    const { readFileSync } = await import('node:fs');
    const broker = await TestBroker.start({ tls: { cert: readFileSync(join(dir, 'server.pem')), key: readFileSync(join(dir, 'server.key')) } });
    onTestFinished(() => broker.stop());
    expect(broker.serviceUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const toml = join(dir, 'host.toml');
    writeFileSync(
      toml,
      `[host]\nhttp = "127.0.0.1:0"\n[danube]\nservice_url = "${broker.serviceUrl}"\n[danube.tls]\nca = "ca.pem"\n[[connectors]]\nname = "files"\nplugin = "${SOURCE_PLUGIN}"\n[connectors.config]\npath = "${join(dir, 'in.txt')}"\ntopic = "/default/tls"\nstate_file = "${join(dir, 'offset')}"\n`,
    );
    writeFileSync(join(dir, 'in.txt'), 'over tls\n');
    const host = spawn(process.execPath, [CLI, 'run', toml], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    host.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    host.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exit = new Promise<number | null>((resolve) => host.once('exit', (code) => resolve(code)));
    onTestFinished(async () => {
      if (host.exitCode === null) host.kill('SIGKILL');
      await exit;
    });
    await vi.waitFor(() => expect(broker.storedMessages('/default/tls').map((m) => m.payload.toString()), out).toEqual(['over tls']), { timeout: 30_000, interval: 100 });
    host.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(out).not.toContain('DEP0123');
    expect(out).not.toContain('Warning');
  });
});
