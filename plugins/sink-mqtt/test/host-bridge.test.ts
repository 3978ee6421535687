// End to end through the host: `danube-connect run` with source-mqtt and sink-mqtt (MQTT in → Danube → MQTT
// out), each a plugin package of its own in its own connector child, a TestBroker (or DANUBE_SERVICE_URL) and
// one mosquitto on loopback. Every message arrives, in order per MQTT topic.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { describe, expect, it, onTestFinished } from 'vitest';
import { MqttTap, startDanube, startMosquitto, uniqueTopic } from './support/harness.js';

const CLI = fileURLToPath(new URL('../../../host/dist/cli.js', import.meta.url));
const SOURCE = fileURLToPath(new URL('../../source-mqtt', import.meta.url));
const SINK = fileURLToPath(new URL('..', import.meta.url));

function runHost(toml: string): { lines: () => Record<string, unknown>[]; output: () => string } {
  const child = spawn(process.execPath, [CLI, 'run', toml], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exit;
  });
  const lines = () =>
    stdout
      .split('\n')
      .slice(0, -1)
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { lines, output: () => `${stdout}\n${stderr}` };
}

/** Resolves once `check()` holds, re-checked every 50 ms (the host's HTTP state has no event to wait on); rejects after `timeoutMs`. */
async function until<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('host end to end', () => {
  it('source-mqtt and sink-mqtt in one host: MQTT in → Danube → MQTT out, every message, in order per MQTT topic', async () => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
    const topic = uniqueTopic('bridge');
    const dir = mkdtempSync(join(tmpdir(), 'dc-bridge-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const toml = join(dir, 'host.toml');
    writeFileSync(
      toml,
      `
[host]
http = "127.0.0.1:0"
ping_interval_ms = 1000

[danube]
service_url = "${danube.serviceUrl}"

[[connectors]]
name = "bridge-in"
plugin = "${SOURCE}"
[connectors.config]
url = "${mosquitto.url}"
[[connectors.config.routes]]
from = "in/#"
to = "${topic}"

[[connectors]]
name = "bridge-out"
plugin = "${SINK}"
[connectors.config]
url = "${mosquitto.url}"
[[connectors.config.routes]]
from = "${topic}"
to = "out/{attr:mqtt.topic}"
`,
    );
    const tap = await MqttTap.open(mosquitto.url, 'out/#', { qos: 1 });
    const host = runHost(toml);
    const http = await until(() => host.lines().find((l) => l.msg === 'danube-connect running')?.http as string | undefined, 30_000, `the host running: ${host.output()}`);
    // A new subscription starts at the topic's end: publish only once both connectors report running.
    await until(
      async () => {
        const { connectors } = (await (await fetch(`http://${http}/connectors`)).json()) as { connectors: Array<{ name: string; state: string }> };
        return connectors.length === 2 && connectors.every((c) => c.state === 'running') ? true : undefined;
      },
      30_000,
      'both connectors running',
    );
    const publisher = await mqtt.connectAsync(mosquitto.url, { clientId: `bridge-publisher-${process.pid}` });
    onTestFinished(() => publisher.endAsync(true));
    const count = 600;
    for (let i = 0; i < count; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => publisher.publishAsync(`in/dev${(i + j) % 4}`, String(i + j), { qos: 1 })));
    await tap.untilSequence(0, count, 60_000);
    const last = new Map<string, number>();
    for (const p of tap.packets) {
      const n = Number(Buffer.from(p.payload).toString());
      expect(p.topic).toBe(`out/in/dev${n % 4}`);
      expect(n, `${p.topic}: ${n} after ${last.get(p.topic)}`).toBeGreaterThan(last.get(p.topic) ?? -1);
      last.set(p.topic, n);
    }
    expect(tap.packets.find((p) => p.properties?.userProperties?.['danube-origin'] === 'bridge-out')).toBeDefined();
  });
});
