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
// them, and every message reaches Danube once. Then what the StatefulSet is for: while replica 1 is away the MQTT
// broker keeps queuing its share for its session (mosquitto does, docs/architecture.md §7.1), and only a replica
// with the same name, hence the same client id, collects it.
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

it('two replicas of the Kubernetes example split a shared MQTT subscription with a client id each, Danube gets every message once, and a replica back under its name collects what the broker queued for it', async () => {
  const example = loadKubernetesExample();
  const secret = example.ofKind('Secret');
  const [broker, mosquitto] = await Promise.all([TestBroker.start(), startMosquitto({ users: { [secret.stringData.username]: secret.stringData.password } })]);
  onTestFinished(() => broker.stop());

  // The one change to the example's host.toml: loopback and any free port, as two hosts share this machine.
  const toml = example.hostToml.replace(/^http = "0\.0\.0\.0:9464"$/m, 'http = "127.0.0.1:0"');
  expect(toml).not.toBe(example.hostToml);
  const file = join(dir, 'host.toml');
  writeFileSync(file, toml);

  /** Pod `ordinal` of the StatefulSet: its host, once it subscribed, and the address of its /metrics. */
  const startReplica = async (ordinal: number) => {
    const env = example.podEnv(ordinal);
    expect(Object.keys(env)).toEqual(expect.arrayContaining(['MQTT_URL', 'DANUBE_SERVICE_URL']));
    const host = startHost(file, { env: { PATH: process.env.PATH, ...env, MQTT_URL: mosquitto.url, DANUBE_SERVICE_URL: broker.serviceUrl } });
    const { http } = await runningLine(host);
    await vi.waitFor(() => expect(host.lines().some((l) => l.msg === 'MQTT subscribed'), host.output()).toBe(true), WAIT);
    return { host, http };
  };
  const replicas: { host: HostProcess; http: string }[] = await Promise.all([startReplica(0), startReplica(1)]);
  for (const ordinal of [0, 1]) expect(mosquitto.log).toContain(` as iot-danube-connect-${ordinal} `);
  const processed = (ordinal: number) => counter(replicas[ordinal]?.http as string, 'danube_connector_messages_processed_total', 'iot-sensors');

  const publisher = await mqtt.connectAsync(mosquitto.url, { clientId: `publisher-${Date.now()}`, username: secret.stringData.username, password: secret.stringData.password });
  onTestFinished(() => publisher.endAsync());
  const publish = async (from: number, count: number) => {
    for (let i = from; i < from + count; i++) await publisher.publishAsync(`sensors/s${i % 10}/temperature`, String(i), { qos: 1 });
  };
  const partitions = Array.from({ length: 6 }, (_, p) => `/default/temperature-part-${p}`);
  const stored = () => partitions.flatMap((topic) => broker.storedMessages(topic).map((m) => Number(m.payload.toString())));
  const allOf = (count: number) => vi.waitFor(() => expect(stored().length, replicas.map((r) => r.host.output()).join('\n')).toBeGreaterThanOrEqual(count), WAIT);
  const sequence = (count: number) => Array.from({ length: count }, (_, i) => i);

  await publish(0, READINGS);
  await allOf(READINGS);
  expect(stored().sort((a, b) => a - b)).toEqual(sequence(READINGS));
  const counts = await Promise.all([processed(0), processed(1)]);
  for (const [ordinal, count] of counts.entries()) expect(count, `messages replica ${ordinal} published`).toBeGreaterThan(0);
  expect(counts[0] + counts[1]).toBe(READINGS);

  // Pod 1 goes away (a rollout, a node drain); the broker queues its share meanwhile; pod 1 comes back by name.
  const away = replicas[1] as { host: HostProcess };
  away.host.process.kill('SIGTERM');
  expect(await away.host.exit).toBe(0);
  await publish(READINGS, READINGS);
  replicas[1] = await startReplica(1);
  await allOf(2 * READINGS);
  expect(stored().sort((a, b) => a - b)).toEqual(sequence(2 * READINGS));
  expect(await processed(1), 'the queued share the returning replica 1 collected').toBeGreaterThan(0);
});
