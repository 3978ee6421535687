import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestBroker } from '@danube-connect/testing';
import mqtt from 'mqtt';
import { afterAll, expect, it, onTestFinished, vi } from 'vitest';
import { runningLine, startHost, WAIT, type HostProcess } from './host-process.js';
import { loadKubernetesExample } from './support/kubernetes-example.js';
import { startMosquitto } from './support/plugin-harness.js';

// The Kubernetes example's recipe (docs/architecture.md §7) run for real: its ConfigMap's host.toml in two hosts
// with the environment of the StatefulSet's pods 0 and 1, against one mosquitto that checks the Secret's
// credentials. Each replica connects with its own client id, the shared subscription splits the messages between
// them, and every message reaches Danube once.
const dir = mkdtempSync(join(tmpdir(), 'dc-scale-out-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const READINGS = 60;

/** The sum of a counter's samples for one connector in a host's /metrics. */
async function counter(http: string, name: string, connector: string): Promise<number> {
  const text = await (await fetch(`http://${http}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && line.includes(`connector="${connector}"`))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

it('two replicas of the Kubernetes example split a shared MQTT subscription, each with its own client id, and Danube gets every message once', async () => {
  const example = loadKubernetesExample();
  const secret = example.ofKind('Secret');
  const [broker, mosquitto] = await Promise.all([TestBroker.start(), startMosquitto({ users: { [secret.stringData.username]: secret.stringData.password } })]);
  onTestFinished(() => broker.stop());

  // The one change to the example's host.toml: loopback and any free port, as two hosts share this machine.
  const toml = example.hostToml.replace(/^http = "0\.0\.0\.0:9464"$/m, 'http = "127.0.0.1:0"');
  expect(toml).not.toBe(example.hostToml);
  const file = join(dir, 'host.toml');
  writeFileSync(file, toml);

  const hosts: HostProcess[] = [0, 1].map((ordinal) => {
    const env = example.podEnv(ordinal);
    expect(Object.keys(env)).toEqual(expect.arrayContaining(['MQTT_URL', 'DANUBE_SERVICE_URL']));
    return startHost(file, { env: { PATH: process.env.PATH, ...env, MQTT_URL: mosquitto.url, DANUBE_SERVICE_URL: broker.serviceUrl } });
  });
  const https = await Promise.all(hosts.map(async (host) => (await runningLine(host)).http));
  for (const host of hosts) await vi.waitFor(() => expect(host.lines().some((l) => l.msg === 'MQTT subscribed'), host.output()).toBe(true), WAIT);
  for (const ordinal of [0, 1]) expect(mosquitto.log).toContain(` as iot-danube-connect-${ordinal} `);

  const publisher = await mqtt.connectAsync(mosquitto.url, { clientId: `publisher-${Date.now()}`, username: secret.stringData.username, password: secret.stringData.password });
  onTestFinished(() => publisher.endAsync());
  for (let i = 0; i < READINGS; i++) await publisher.publishAsync(`sensors/s${i % 10}/temperature`, String(i), { qos: 1 });

  const partitions = Array.from({ length: 6 }, (_, p) => `/default/temperature-part-${p}`);
  const stored = () => partitions.flatMap((topic) => broker.storedMessages(topic).map((m) => m.payload.toString()));
  await vi.waitFor(() => expect(stored().length, hosts.map((h) => h.output()).join('\n')).toBeGreaterThanOrEqual(READINGS), WAIT);
  expect(stored().map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: READINGS }, (_, i) => i));

  const processed = await Promise.all(https.map((http) => counter(http, 'danube_connector_messages_processed_total', 'iot-sensors')));
  for (const [ordinal, count] of processed.entries()) expect(count, `messages replica ${ordinal} published`).toBeGreaterThan(0);
  expect(processed.reduce((sum, count) => sum + count, 0)).toBe(READINGS);
});
