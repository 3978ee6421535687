import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { DanubeMessage } from '@danube-connect/sdk';
import type { ConnectorProcess } from '@danube-connect/testing';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { onTestFinished } from 'vitest';
import { Arrivals, startPluginChild, uniqueTopic as uniqueTopicWith, type Danube } from '../../../../test/support/plugin-harness.js';

export { configProblems, itWithTestBroker, startDanube, startMosquitto, type Danube } from '../../../../test/support/plugin-harness.js';

/** A Danube topic no other case or earlier run uses (a real broker keeps its topics). */
export const uniqueTopic = (prefix = 'mqtt') => uniqueTopicWith(prefix);

/** Everything that arrives on a Danube topic, from before the connector publishes (a new subscription starts at the end). */
export class DanubeTap extends Arrivals<DanubeMessage> {
  private constructor() {
    super((m) => m.payload.toString('utf8'));
  }

  get messages(): readonly DanubeMessage[] {
    return this.arrived;
  }

  static async open(danube: Danube, topic: string, settings: { partitions?: number; reliable?: boolean } = {}): Promise<DanubeTap> {
    // Create the topic as the connector will (same partitions and dispatch), so the subscription can exist first.
    const producer = await danube.client.createProducer({
      topic,
      name: `tap-${randomBytes(4).toString('hex')}`,
      partitions: settings.partitions ?? 0,
      dispatch: settings.reliable === false ? 'non_reliable' : 'reliable',
    });
    await producer.close();
    const consumer = await danube.client.subscribe({ topic, name: `tap-${randomBytes(4).toString('hex')}`, subscription: `tap-${randomBytes(4).toString('hex')}`, type: 'exclusive', bufferSize: 1024 });
    const tap = new DanubeTap();
    void (async () => {
      for (;;) {
        let message: DanubeMessage;
        try {
          message = await consumer.receive();
        } catch {
          return; // closed at the end of the case
        }
        tap.arrive(message);
        consumer.ack(message).catch(() => {});
      }
    })();
    return tap;
  }
}

/** An MQTT.js client for the test's own publishing and observing, closed at the end of the case. */
export async function mqttClient(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { clientId: `test-${randomBytes(4).toString('hex')}`, reconnectPeriod: 100, ...options });
  onTestFinished(async () => {
    await client.endAsync(true);
  });
  return client;
}

/** Publishes the decimal numbers from..from+count-1 to `topic`, waiting for each PUBACK in batches of `inFlight`. */
export async function publishSequence(client: MqttClient, topic: string | ((i: number) => string), from: number, count: number, qos: 0 | 1 = 1, inFlight = 50): Promise<void> {
  for (let start = from; start < from + count; start += inFlight) {
    const batch: Promise<unknown>[] = [];
    for (let i = start; i < Math.min(start + inFlight, from + count); i++) batch.push(client.publishAsync(typeof topic === 'string' ? topic : topic(i), String(i), { qos }));
    await Promise.all(batch);
  }
}

/**
 * Publishes the decimal numbers 0..count-1 to `topic` at about `ratePerS` (ticks of 10 ms) and `qos`, at most
 * `inFlight` unfinished (for QoS 2 below mosquitto's Receive Maximum, which refuses more with "Quota exceeded");
 * resolves when every PUBACK (PUBCOMP) came.
 */
export async function publishPaced(client: MqttClient, topic: string, count: number, { ratePerS = 1_000, qos = 1, inFlight = 50 }: { ratePerS?: number; qos?: 1 | 2; inFlight?: number } = {}): Promise<void> {
  const pending = new Set<Promise<unknown>>();
  const started = performance.now();
  const perTick = Math.max(1, Math.round(ratePerS / 100));
  for (let i = 0; i < count; i++) {
    while (pending.size >= inFlight) await Promise.race(pending);
    const sent: Promise<unknown> = client.publishAsync(topic, String(i), { qos }).finally(() => pending.delete(sent));
    pending.add(sent);
    if (i % perTick === perTick - 1) {
      const due = started + ((i + 1) / ratePerS) * 1_000;
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    }
  }
  await Promise.all(pending);
}

/** The sequence numbers 0..count-1 that never reached `tap`. */
export const missing = (tap: DanubeTap, count: number): number[] => {
  const seen = new Set(tap.texts().map(Number));
  return Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
};

/** How many of `tap`'s messages are copies of an earlier one. */
export const duplicates = (tap: DanubeTap): number => tap.texts().length - new Set(tap.texts()).size;

const ENTRY = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

/** Forks the built plugin in a real connector child, as the host does, and waits for `ready`. */
export function startSource(
  danube: Danube,
  config: Record<string, unknown>,
  options: { connector?: string; runtime?: Record<string, unknown>; logLevel?: 'info' | 'warn' | 'debug'; waitReady?: boolean } = {},
): Promise<ConnectorProcess> {
  return startPluginChild(danube, {
    entry: ENTRY,
    kind: 'source',
    plugin: { name: '@danube-plugin/source-mqtt', version: '0.1.0' },
    connector: options.connector ?? `mqtt-${randomBytes(4).toString('hex')}`,
    config,
    runtime: options.runtime,
    logLevel: options.logLevel,
    waitReady: options.waitReady,
  });
}
