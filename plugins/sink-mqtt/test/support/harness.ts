import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Producer } from '@danube-connect/sdk';
import type { ChildStats } from '@danube-connect/sdk/protocol';
import type { ConnectorProcess } from '@danube-connect/testing';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { onTestFinished } from 'vitest';
import { Arrivals, startPluginChild, uniqueTopic as uniqueTopicWith, type Danube } from '../../../../test/support/plugin-harness.js';

export { configProblems, itWithTestBroker, startDanube, startMosquitto, type Danube } from '../../../../test/support/plugin-harness.js';

/** A Danube topic no other case or earlier run uses (a real broker keeps its topics). */
export const uniqueTopic = (prefix = 'sink') => uniqueTopicWith(prefix);

/** A reliable producer on `topic` (created now, so the sink's subscription finds the topic). */
export async function danubeProducer(danube: Danube, topic: string, partitions = 0): Promise<Producer> {
  const producer = await danube.client.createProducer({ topic, name: `test-${randomBytes(4).toString('hex')}`, partitions, dispatch: 'reliable' });
  onTestFinished(() => producer.close());
  return producer;
}

/** An MQTT subscriber recording every PUBLISH it gets, in arrival order. */
export class MqttTap extends Arrivals<IPublishPacket> {
  private constructor(readonly client: MqttClient) {
    super((p) => Buffer.from(p.payload).toString('utf8'));
  }

  get packets(): readonly IPublishPacket[] {
    return this.arrived;
  }

  static async open(url: string, filter: string, options: IClientOptions & { qos?: 0 | 1 | 2 } = {}): Promise<MqttTap> {
    const client = await mqtt.connectAsync(url, { clientId: `tap-${randomBytes(4).toString('hex')}`, protocolVersion: 5, reconnectPeriod: 100, ...options });
    onTestFinished(async () => {
      await client.endAsync(true);
    });
    const tap = new MqttTap(client);
    client.on('message', (_topic, _payload, packet) => {
      tap.arrive(packet);
    });
    await client.subscribeAsync(filter, { qos: options.qos ?? 2 });
    return tap;
  }

  /** As Arrivals.untilSequence, with the longer default wait (a minute) these sink cases have always had. */
  override untilSequence(from: number, count: number, timeoutMs = 60_000): Promise<void> {
    return super.untilSequence(from, count, timeoutMs);
  }
}

const ENTRY = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

/** Forks the built plugin in a real connector child, as the host does, and waits for `ready`. */
export function startSink(
  danube: Danube,
  config: Record<string, unknown>,
  options: { connector?: string; runtime?: Record<string, unknown>; logLevel?: 'info' | 'warn' | 'debug'; entry?: string } = {},
): Promise<ConnectorProcess> {
  return startPluginChild(danube, {
    entry: options.entry ?? ENTRY,
    kind: 'sink',
    plugin: { name: '@danube-plugin/sink-mqtt', version: '0.1.0' },
    connector: options.connector ?? `sink-${randomBytes(4).toString('hex')}`,
    config,
    runtime: options.runtime,
    logLevel: options.logLevel,
  });
}

/** A deliberately wrong build of the sink (test/fixtures/acks-before-publish.js): Danube acks before the publish. */
export const ACKS_BEFORE_PUBLISH = fileURLToPath(new URL('../fixtures/acks-before-publish.js', import.meta.url));

/** The sink without `pipelined` (test/fixtures/batching.js): the runtime hands it one batch (a window of 10) at a time. */
export const BATCHING = fileURLToPath(new URL('../fixtures/batching.js', import.meta.url));

/** A deliberately slow build (test/fixtures/serial.js): one publish and its PUBACK per message. */
export const SERIAL = fileURLToPath(new URL('../fixtures/serial.js', import.meta.url));

/** Resolves once the child's stats satisfy `check`, pinging on every answer; rejects after `timeoutMs`. */
export async function untilStats(child: ConnectorProcess, check: (stats: ChildStats) => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { stats } = await child.ping();
    if (check(stats)) return;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms (stats ${JSON.stringify(stats)})`);
  }
}

/** Sends the decimal numbers from..from+count-1, keyed `k<n % keys>`, pipelined by the producer's window. */
export async function sendSequence(producer: Producer, from: number, count: number, keys = 3): Promise<void> {
  const sends: Promise<unknown>[] = [];
  for (let i = from; i < from + count; i++) sends.push(producer.send(String(i), { key: `k${i % keys}` }));
  await Promise.all(sends);
}
