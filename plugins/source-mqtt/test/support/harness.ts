import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DanubeClient, type DanubeMessage } from '@danube-connect/sdk';
import { ConnectorProcess, TestBroker } from '@danube-connect/sdk/testing';
import { Mosquitto, type MosquittoOptions } from '@danube-connect/mqtt/testing';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { it, onTestFinished } from 'vitest';

/**
 * Where Danube runs: the in-process TestBroker by default, or the broker at DANUBE_SERVICE_URL (as the SDK's
 * contract suite does, sdk/test/contract/target.ts).
 */
const EXTERNAL_URL = process.env.DANUBE_SERVICE_URL || undefined;
/** For cases that need TestBroker fault injection (held or failing acknowledgements): skipped against a real broker. */
export const itWithTestBroker = it.skipIf(EXTERNAL_URL !== undefined);

export interface Danube {
  serviceUrl: string;
  /** Present only for the in-process TestBroker. */
  broker: TestBroker | undefined;
  client: DanubeClient;
}

export async function startDanube(): Promise<Danube> {
  let broker: TestBroker | undefined;
  let serviceUrl = EXTERNAL_URL;
  if (!serviceUrl) {
    broker = await TestBroker.start();
    onTestFinished(() => broker?.stop());
    serviceUrl = broker.serviceUrl;
  }
  const token = process.env.DANUBE_TOKEN || undefined;
  const client = new DanubeClient({ serviceUrl, ...(token ? { token } : {}), retry: { initialDelayMs: 20, maxDelayMs: 500 } });
  onTestFinished(() => client.close(1_000));
  return { serviceUrl, broker, client };
}

/** A Danube topic no other case or earlier run uses (a real broker keeps its topics). */
export const uniqueTopic = (prefix = 'mqtt') => `/default/${prefix}-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

/** Everything that arrives on a Danube topic, from before the connector publishes (a new subscription starts at the end). */
export class DanubeTap {
  readonly messages: DanubeMessage[] = [];
  private readonly waiters = new Set<() => void>();

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
        tap.messages.push(message);
        for (const wake of [...tap.waiters]) wake();
        consumer.ack(message).catch(() => {});
      }
    })();
    return tap;
  }

  /** The payloads as text. */
  texts(): string[] {
    return this.messages.map((m) => m.payload.toString('utf8'));
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
        reject(new Error(`${what} did not arrive within ${timeoutMs} ms; ${this.messages.length} messages arrived`));
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
  untilSequence(from: number, count: number, timeoutMs = 30_000): Promise<void> {
    const seen = new Set<number>();
    let scanned = 0;
    return this.until(() => {
      for (; scanned < this.messages.length; scanned++) seen.add(Number((this.messages[scanned] as DanubeMessage).payload.toString('utf8')));
      for (let i = from; i < from + count; i++) if (!seen.has(i)) return false;
      return true;
    }, timeoutMs, `sequence numbers ${from}..${from + count - 1}`);
  }
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const broker = await Mosquitto.start(options);
  onTestFinished(() => broker.dispose());
  return broker;
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

const ENTRY = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

/** Forks the built plugin in a real connector child, as the host does, and waits for `ready`. */
export async function startSource(
  danube: Danube,
  config: Record<string, unknown>,
  options: { connector?: string; runtime?: Record<string, unknown>; logLevel?: 'info' | 'warn' | 'debug'; waitReady?: boolean } = {},
): Promise<ConnectorProcess> {
  const child = new ConnectorProcess();
  onTestFinished(async () => {
    await child.kill();
  });
  const token = process.env.DANUBE_TOKEN || undefined;
  child.start({
    entry: ENTRY,
    connector: options.connector ?? `mqtt-${randomBytes(4).toString('hex')}`,
    kind: 'source',
    plugin: { name: '@danube-plugin/source-mqtt', version: '0.1.0' },
    config,
    danube: { serviceUrl: danube.serviceUrl, ...(token ? { token } : {}) },
    runtime: options.runtime ?? {},
    logLevel: options.logLevel ?? 'info',
  });
  if (options.waitReady !== false) await child.next('ready', 20_000);
  return child;
}
