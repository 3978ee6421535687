import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DanubeClient, type Producer } from '@danube-connect/sdk';
import type { ChildStats } from '@danube-connect/sdk/protocol';
import { ConnectorProcess, TestBroker, type TestBrokerOptions } from '@danube-connect/testing';
import { Mosquitto, type MosquittoOptions } from '@danube-connect/mqtt/testing';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { it, onTestFinished } from 'vitest';

/** The in-process TestBroker by default, or the broker at DANUBE_SERVICE_URL (as source-mqtt's tests do). */
const EXTERNAL_URL = process.env.DANUBE_SERVICE_URL || undefined;
/** For cases that need TestBroker fault injection: skipped against a real broker. */
export const itWithTestBroker = it.skipIf(EXTERNAL_URL !== undefined);

export interface Danube {
  serviceUrl: string;
  broker: TestBroker | undefined;
  client: DanubeClient;
}

export async function startDanube(options: TestBrokerOptions = {}): Promise<Danube> {
  let broker: TestBroker | undefined;
  let serviceUrl = EXTERNAL_URL;
  if (!serviceUrl) {
    broker = await TestBroker.start(options);
    onTestFinished(() => broker?.stop());
    serviceUrl = broker.serviceUrl;
  }
  const token = process.env.DANUBE_TOKEN || undefined;
  const client = new DanubeClient({ serviceUrl, ...(token ? { token } : {}), retry: { initialDelayMs: 20, maxDelayMs: 500 } });
  onTestFinished(() => client.close(1_000));
  return { serviceUrl, broker, client };
}

/** A Danube topic no other case or earlier run uses (a real broker keeps its topics). */
export const uniqueTopic = (prefix = 'sink') => `/default/${prefix}-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

/** A reliable producer on `topic` (created now, so the sink's subscription finds the topic). */
export async function danubeProducer(danube: Danube, topic: string, partitions = 0): Promise<Producer> {
  const producer = await danube.client.createProducer({ topic, name: `test-${randomBytes(4).toString('hex')}`, partitions, dispatch: 'reliable' });
  onTestFinished(() => producer.close());
  return producer;
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const broker = await Mosquitto.start(options);
  onTestFinished(() => broker.dispose());
  return broker;
}

/** An MQTT subscriber recording every PUBLISH it gets, in arrival order. */
export class MqttTap {
  readonly packets: IPublishPacket[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(readonly client: MqttClient) {}

  static async open(url: string, filter: string, options: IClientOptions & { qos?: 0 | 1 | 2 } = {}): Promise<MqttTap> {
    const client = await mqtt.connectAsync(url, { clientId: `tap-${randomBytes(4).toString('hex')}`, protocolVersion: 5, reconnectPeriod: 100, ...options });
    onTestFinished(async () => {
      await client.endAsync(true);
    });
    const tap = new MqttTap(client);
    client.on('message', (_topic, _payload, packet) => {
      tap.packets.push(packet);
      for (const wake of [...tap.waiters]) wake();
    });
    await client.subscribeAsync(filter, { qos: options.qos ?? 2 });
    return tap;
  }

  texts(): string[] {
    return this.packets.map((p) => Buffer.from(p.payload).toString('utf8'));
  }

  /** Resolves once `check()` holds, re-checked on every arrival; fails after `timeoutMs` saying what arrived. */
  until(check: () => boolean, timeoutMs = 30_000, what = 'the expected messages'): Promise<void> {
    return new Promise((resolve, reject) => {
      const test = () => {
        if (!check()) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${what} did not arrive within ${timeoutMs} ms; ${this.packets.length} messages arrived`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(test);
      };
      this.waiters.add(test);
      test();
    });
  }

  /** Waits until every sequence number from..from+count-1 (payload text) arrived at least once. */
  untilSequence(from: number, count: number, timeoutMs = 60_000): Promise<void> {
    const seen = new Set<number>();
    let scanned = 0;
    return this.until(
      () => {
        for (; scanned < this.packets.length; scanned++) seen.add(Number(Buffer.from((this.packets[scanned] as IPublishPacket).payload).toString('utf8')));
        for (let i = from; i < from + count; i++) if (!seen.has(i)) return false;
        return true;
      },
      timeoutMs,
      `sequence numbers ${from}..${from + count - 1}`,
    );
  }
}

const ENTRY = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

/** Forks the built plugin in a real connector child, as the host does, and waits for `ready`. */
export async function startSink(
  danube: Danube,
  config: Record<string, unknown>,
  options: { connector?: string; runtime?: Record<string, unknown>; logLevel?: 'info' | 'warn' | 'debug'; entry?: string } = {},
): Promise<ConnectorProcess> {
  const child = new ConnectorProcess();
  onTestFinished(async () => {
    await child.kill();
  });
  const token = process.env.DANUBE_TOKEN || undefined;
  child.start({
    entry: options.entry ?? ENTRY,
    connector: options.connector ?? `sink-${randomBytes(4).toString('hex')}`,
    kind: 'sink',
    plugin: { name: '@danube-plugin/sink-mqtt', version: '0.1.0' },
    config,
    danube: { serviceUrl: danube.serviceUrl, ...(token ? { token } : {}) },
    runtime: options.runtime ?? {},
    logLevel: options.logLevel ?? 'info',
  });
  await child.next('ready', 20_000);
  return child;
}

/** A deliberately wrong build of the sink (test/fixtures/acks-before-publish.js): Danube acks before the publish. */
export const ACKS_BEFORE_PUBLISH = fileURLToPath(new URL('../fixtures/acks-before-publish.js', import.meta.url));

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
