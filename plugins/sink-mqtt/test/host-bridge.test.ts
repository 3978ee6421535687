// End to end through the host: `danube-connect run` with source-mqtt and sink-mqtt (MQTT in → Danube → MQTT
// out), each a plugin package of its own in its own connector child, a TestBroker (or DANUBE_SERVICE_URL) and
// one mosquitto on loopback. Every message arrives, in order per MQTT topic; and a bridge whose sink writes back
// onto the topics its source reads does not loop (sink-mqtt's danube-origin mark, source-mqtt's ignore_origins).
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

/** The sum of a counter's series in the host's merged /metrics whose labels include every one of `labels`. */
async function counter(http: string, name: string, labels: string[]): Promise<number> {
  const text = await (await fetch(`http://${http}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && labels.every((l) => line.includes(l))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** A host running `toml`, resolved with its HTTP address and log lines once every connector is running. */
async function runningHost(toml: string, connectors: number): Promise<{ http: string; lines: () => Record<string, unknown>[] }> {
  const host = runHost(toml);
  const http = await until(() => host.lines().find((l) => l.msg === 'danube-connect running')?.http as string | undefined, 30_000, `the host running: ${host.output()}`);
  // A new subscription starts at the topic's end: publish only once every connector reports running.
  await until(
    async () => {
      const { connectors: states } = (await (await fetch(`http://${http}/connectors`)).json()) as { connectors: Array<{ name: string; state: string }> };
      return states.length === connectors && states.every((c) => c.state === 'running') ? true : undefined;
    },
    30_000,
    'every connector running',
  );
  return { http, lines: host.lines };
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
    const { lines: hostLines } = await runningHost(toml, 2);
    // out/… never matches in/#: the host's static loop check stays quiet.
    expect(hostLines().filter((l) => l.code === 'DC_WARN_ENDPOINT_LOOP')).toEqual([]);
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

  for (const [name, ignoreOrigins, loops] of [
    ['source-mqtt skips what the sink marked (the defaults)', undefined, false],
    ['a deliberately open loop (ignore_origins = [])', [], true],
  ] as const) {
    it(`a bridge whose sink writes back onto the topics its source reads: ${name}; loops: ${loops}`, async () => {
      const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
      const topic = uniqueTopic('loop');
      const dir = mkdtempSync(join(tmpdir(), 'dc-loop-'));
      onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
      const toml = join(dir, 'host.toml');
      writeFileSync(
        toml,
        `
[host]
http = "127.0.0.1:0"

[danube]
service_url = "${danube.serviceUrl}"

[[connectors]]
name = "loop-in"
plugin = "${SOURCE}"
[connectors.config]
url = "${mosquitto.url}"
${ignoreOrigins === undefined ? '' : `ignore_origins = ${JSON.stringify(ignoreOrigins)}`}
[[connectors.config.routes]]
from = "loop/#"
to = "${topic}"

[[connectors]]
name = "loop-out"
plugin = "${SINK}"
[connectors.config]
url = "${mosquitto.url}"
[[connectors.config.routes]]
from = "${topic}"
to = "{attr:mqtt.topic}"
`,
      );
      const tap = await MqttTap.open(mosquitto.url, 'loop/#', { qos: 1 });
      const { http, lines } = await runningHost(toml, 2);
      // The host saw the loop in host.toml before starting anything (README "Loop warnings"), whatever ignore_origins says.
      expect(lines().filter((l) => l.code === 'DC_WARN_ENDPOINT_LOOP').map((l) => l.msg)).toEqual([
        `${toml}: connector "loop-out": config/routes/0/to "{attr:mqtt.topic}" publishes mqtt topics that connector "loop-in" subscribes to with "loop/#" (config/routes/0/from) ` +
          `on the same broker ${new URL(mosquitto.url).host}: what this connector publishes there comes back into Danube, and loops if it reaches this connector again`,
      ]);
      // source-mqtt's warning that a sink's messages reach it (rate-limited): the configuration loops.
      const loopWarnings = () => lines().filter((l) => l.connector === 'loop-in' && l.level === 40 && String(l.msg).includes('published by a Danube sink'));
      const publisher = await mqtt.connectAsync(mosquitto.url, { clientId: `loop-publisher-${process.pid}`, protocolVersion: 5 });
      onTestFinished(() => publisher.endAsync(true));
      const count = 20;
      await Promise.all(Array.from({ length: count }, (_, i) => publisher.publishAsync(`loop/dev${i % 4}`, String(i), { qos: 1 })));
      const intoDanube = () => counter(http, 'danube_connector_messages_processed_total', ['connector="loop-in"']);
      if (loops) {
        // Every message comes back from the sink and goes into Danube again, and again.
        await until(async () => ((await intoDanube()) >= 3 * count ? true : undefined), 60_000, `${3 * count} messages into Danube`);
        expect(loopWarnings(), 'no warning when ignore_origins = [] takes them in on purpose').toEqual([]);
        return;
      }
      // Each message arrives twice on MQTT (the original, the sink's copy); the copy is skipped, not taken in again.
      await until(async () => ((await counter(http, 'danube_connector_mqtt_loop_ignored_total', ['connector="loop-in"'])) >= count ? true : undefined), 60_000, `${count} copies skipped`);
      expect(await intoDanube()).toBe(count);
      expect(await counter(http, 'danube_connector_mqtt_loop_ignored_total', ['connector="loop-in"'])).toBe(count);
      const copiesOf = () => tap.packets.filter((p) => p.properties?.userProperties?.['danube-origin'] === 'loop-out');
      await tap.until(() => copiesOf().length >= count, 30_000, 'the sink\'s copies');
      const copies = copiesOf();
      expect(copies.map((p) => Buffer.from(p.payload).toString()).sort()).toEqual(Array.from({ length: count }, (_, i) => String(i)).sort());
      const [warning] = await until(() => (loopWarnings().length > 0 ? loopWarnings() : undefined), 30_000, 'the loop warning');
      expect(warning).toMatchObject({ origin: 'loop-out' });
      expect(String(warning?.topic)).toMatch(/^loop\/dev[0-3]$/);
    });
  }
});
