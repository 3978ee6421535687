import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBroker } from '@danube-connect/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';

// Planted secrets, each under a different kind of key, through the built CLI: none may reach any output surface
// (stdout, stderr, /connectors, /metrics, /readyz, validate --print, validation errors, crash reports).
const CLI = fileURLToPath(new URL('../host/dist/cli.js', import.meta.url));
const PLUGIN = fileURLToPath(new URL('../host/test/fixtures/plugins/leaks-secrets', import.meta.url));
const WAIT = { timeout: 30_000, interval: 50 };

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dc-secrets-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function connector(name: string, crash: boolean): string {
  return `
[[connectors]]
name = "${name}"
plugin = "${PLUGIN}"
[connectors.restart]
max_crashes = 1
[connectors.config]
url = "mqtt://user:PLANTED-url-pw@127.0.0.1:1883"
mqtt_password = "PLANTED-mqtt-password"
api_token = "PLANTED-api-token"
accessToken = "PLANTED-access-token"
pwd = "PLANTED-pwd"
private-key = "PLANTED-private-key"
pin = "PLANTED-pin"
hmac = "PLANTED-hmac"
token_endpoint = "https://idp.example/oauth/token"
routes = [{ from = "sensors/#", key = "topic" }]
crash = ${crash}
`;
}

interface Host {
  process: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

function startHost(toml: string, env: NodeJS.ProcessEnv): Host {
  const child = spawn(process.execPath, [CLI, 'run', toml], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exit;
  });
  return { process: child, output: () => out, exit };
}

const lines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('secrets on every output surface', () => {
  it('no planted secret appears in validate --print, validation errors, logs, /connectors, /metrics, /readyz or crash reports', async () => {
    const broker = await TestBroker.start();
    cleanups.push(() => broker.stop());
    const dir = tempDir();
    const env = { PATH: process.env['PATH'], HOME: process.env['HOME'], DANUBE_TOKEN: 'PLANTED-danube-token' };
    const toml = join(dir, 'host.toml');
    writeFileSync(toml, `[host]\nhttp = "127.0.0.1:0"\nshutdown_timeout_ms = 5000\n[danube]\nservice_url = "${broker.serviceUrl}"\n${connector('ok', false)}${connector('crashy', true)}`);

    const printed = spawnSync(process.execPath, [CLI, 'validate', toml, '--print'], { encoding: 'utf8', env });
    expect(printed.status, printed.stderr).toBe(0);
    const effective = JSON.parse(printed.stdout.replace(/ok: 2 connectors\n$/, '')) as { danube: { token: string }; connectors: { config: Record<string, unknown> }[] };
    expect(effective.danube.token).toBe('***');
    expect(effective.connectors[0]?.config).toMatchObject({
      url: 'mqtt://user:***@127.0.0.1:1883',
      mqtt_password: '***',
      pin: '***',
      hmac: '***',
      token_endpoint: 'https://idp.example/oauth/token',
      routes: [{ from: 'sensors/#', key: 'topic' }],
    });

    const badToml = join(dir, 'bad.toml');
    writeFileSync(badToml, `[danube]\nservice_url = "http://admin:PLANTED-service-pw@broker"\n${connector('ok', false)}\npin_code = 1\n`);
    const invalid = spawnSync(process.execPath, [CLI, 'validate', badToml], { encoding: 'utf8', env });
    expect(invalid.status).toBe(2);
    expect(invalid.stderr).toContain('danube/service_url "http://admin:***@broker" is invalid');

    const host = startHost(toml, env);
    const running = await vi.waitFor(() => {
      const line = lines(host.output()).find((l) => l.msg === 'danube-connect running');
      expect(line, host.output()).toBeDefined();
      return line as { http: string };
    }, WAIT);
    const http = `http://${running.http}`;
    const connectors = await vi.waitFor(async () => {
      const body = (await (await fetch(`${http}/connectors`)).json()) as { connectors: { name: string; state: string; lastError?: { message: string } }[] };
      expect(body.connectors.map((c) => [c.name, c.state])).toEqual([
        ['ok', 'running'],
        ['crashy', 'failed'],
      ]);
      return body;
    }, WAIT);
    expect(connectors.connectors[1]?.lastError?.message).toContain('login refused for ***');
    const surfaces = [
      JSON.stringify(connectors),
      await (await fetch(`${http}/connectors`)).text(),
      await (await fetch(`${http}/metrics`)).text(),
      await (await fetch(`${http}/readyz`)).text(),
    ];
    host.process.kill('SIGTERM');
    expect(await host.exit).toBe(0);
    const all = [printed.stdout, printed.stderr, invalid.stdout, invalid.stderr, ...surfaces, host.output()].join('\n');
    expect(host.output()).toContain('leaks-secrets raw stderr: ***');
    expect(host.output()).toContain('leaks-secrets: pin ***, hmac ***, connecting to mqtt://user:***@127.0.0.1:1883');
    expect(all.match(/.{0,80}PLANTED.{0,40}/g) ?? []).toEqual([]);
  });

  it("children get a fixed environment allowlist plus their own [connectors.env], never the host's DANUBE_TOKEN", async () => {
    const broker = await TestBroker.start();
    cleanups.push(() => broker.stop());
    const dir = tempDir();
    const env = {
      PATH: process.env['PATH'],
      HOME: '/home/someone',
      TZ: 'UTC',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      HTTPS_PROXY: 'http://proxy:3128',
      no_proxy: 'localhost',
      DANUBE_TOKEN: 'PLANTED-danube-token',
      AWS_REGION: 'eu-west-1',
      HOST_ONLY_VARIABLE: 'host only',
    };
    const toml = join(dir, 'host.toml');
    const extra = `[connectors.env]\nAWS_REGION = "\${AWS_REGION}"\nPLUGIN_MODE = "fast"\n`;
    writeFileSync(toml, `[host]\nhttp = "127.0.0.1:0"\n[danube]\nservice_url = "${broker.serviceUrl}"\n${connector('ok', false).replace('[connectors.config]', `${extra}[connectors.config]`)}`);
    const host = startHost(toml, env);
    const names = await vi.waitFor(() => {
      const line = lines(host.output()).find((l) => l.msg === 'leaks-secrets: environment');
      expect(line, host.output()).toBeDefined();
      return (line as { env_names: string[] }).env_names;
    }, WAIT);
    host.process.kill('SIGTERM');
    expect(await host.exit).toBe(0);
    // Node may add its own (NODE_CHANNEL_FD for the IPC channel, NODE_UNIQUE_ID…): only NODE_* are tolerated.
    expect(names.filter((n) => !n.startsWith('NODE_'))).toEqual(['AWS_REGION', 'HOME', 'HTTPS_PROXY', 'LANG', 'LC_ALL', 'PATH', 'PLUGIN_MODE', 'TZ', 'no_proxy']);
  });
});
