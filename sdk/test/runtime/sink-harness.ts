import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { expect, onTestFinished, vi } from 'vitest';
import type { ConsumerConfig, SinkConnector } from '../../src/connector.js';
import { DanubeClient } from '../../src/danube/danube-client.js';
import type { Producer } from '../../src/danube/producer.js';
import type { SinkRecord } from '../../src/record.js';
import { ConnectorMetrics } from '../../src/runtime/connector-metrics.js';
import { resolveRuntimeSettings, type RuntimeSettings } from '../../src/runtime/runtime-settings.js';
import { SinkRuntime } from '../../src/runtime/sink-runtime.js';
import { TestBroker, type TestBrokerOptions } from '@danube-connect/testing';
import { accountingProblems } from './accounting.js';

/**
 * Vocabulary of the sink runtime suite: a real TestBroker on loopback, a producer client, SinkRuntimes with
 * their own client, and an `ExternalSystem` (an array) that test connectors write into, with switches to fail.
 */

/** Ack timeout short enough that redelivery cases finish quickly, long enough for a loaded 2-core machine. */
const FAST_POLICY = { ackTimeoutMs: 1_000, baseRedeliveryDelayMs: 50, maxRedeliveryDelayMs: 400 } as const;

export function uniqueTopic(prefix = 'sink'): string {
  return `/default/${prefix}-${randomBytes(4).toString('hex')}`;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export async function startBroker(options: TestBrokerOptions = {}): Promise<TestBroker> {
  const broker = await TestBroker.start({ ...options, failurePolicy: { ...FAST_POLICY, ...options.failurePolicy } });
  onTestFinished(() => broker.stop());
  return broker;
}

export function clientOf(broker: TestBroker): DanubeClient {
  const client = new DanubeClient({ serviceUrl: broker.serviceUrl, retry: { initialDelayMs: 20, maxDelayMs: 200 }, healthCheckIntervalMs: 200 });
  onTestFinished(() => client.close(1_000));
  return client;
}

/** The external system: what the connectors wrote, in write order. */
export class ExternalSystem {
  readonly rows: SinkRecord[] = [];

  texts(): string[] {
    return this.rows.map((r) => r.text());
  }

  /** Distinct rows by where they are stored in Danube (a redelivery keeps its place). */
  distinct(): Map<string, SinkRecord> {
    const seen = new Map<string, SinkRecord>();
    for (const row of this.rows) {
      const key = `${row.partition ?? '-'}@${row.offset}`;
      if (!seen.has(key)) seen.set(key, row);
    }
    return seen;
  }

  distinctTexts(): Set<string> {
    return new Set(this.texts());
  }

  async waitForTexts(expected: Iterable<string>, timeoutMs = 20_000): Promise<void> {
    const wanted = [...expected];
    await vi.waitFor(
      () => {
        const have = this.distinctTexts();
        const missing = wanted.filter((t) => !have.has(t));
        if (missing.length > 0) throw new Error(`${missing.length} of ${wanted.length} rows not written yet, e.g. ${missing.slice(0, 3).join(', ')}`);
      },
      { timeout: timeoutMs, interval: 20 },
    );
  }
}

/** The common start of a sink case: a broker, a client, a fresh topic with one subscription, its producer, the sink's target. */
export async function sinkSetup(options: { broker?: TestBrokerOptions; partitions?: number } = {}) {
  const broker = await startBroker(options.broker);
  const client = clientOf(broker);
  const topic = uniqueTopic();
  const configs = [{ topic, subscription: uniqueName('s') }];
  const producer = await client.createProducer({ topic, name: uniqueName('p'), ...(options.partitions === undefined ? {} : { partitions: options.partitions }) });
  return { broker, client, topic, configs, producer, external: new ExternalSystem() };
}

export type WriteHook = (records: readonly SinkRecord[]) => void | Promise<void>;

/**
 * A sink writing into `external`: with processBatch ('batch') or process ('single'). `before` runs before each
 * write and may throw to fail it; `calls` keeps every batch handed over, failed or not.
 */
export function testSink(
  external: ExternalSystem,
  configs: ConsumerConfig[],
  mode: 'batch' | 'single',
  before: WriteHook = () => {},
): SinkConnector & { calls: SinkRecord[][]; closed: boolean } {
  const calls: SinkRecord[][] = [];
  const write = async (records: readonly SinkRecord[]) => {
    calls.push([...records]);
    await before(records);
    external.rows.push(...records);
  };
  const base = {
    calls,
    closed: false,
    consumerConfigs: () => configs,
    close() {
      base.closed = true;
    },
  };
  return mode === 'batch'
    ? Object.assign(base, { processBatch: (records: readonly SinkRecord[]) => write(records) })
    : Object.assign(base, { process: (record: SinkRecord) => write([record]) });
}

export interface RuntimeHandle {
  runtime: SinkRuntime;
  metrics: ConnectorMetrics;
  /** NDJSON lines the runtime logged. */
  logs: string[];
}

/** A SinkRuntime with test-sized retry delays, its own metrics and a log capture; stopped when the case ends. */
export function sinkRuntime(
  connector: SinkConnector,
  client: DanubeClient,
  settings: Partial<RuntimeSettings> = {},
  options: { name?: string } = {},
): RuntimeHandle {
  const name = options.name ?? 'sink-test';
  const metrics = new ConnectorMetrics(name);
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(chunk.toString('utf8'));
      callback();
    },
  });
  const logger = pino({ level: 'debug', base: { connector: name } }, destination);
  const runtime = new SinkRuntime(connector, {
    name,
    client,
    metrics,
    logger,
    settings: resolveRuntimeSettings({ retryInitialDelayMs: 10, retryMaxDelayMs: 50, ...settings }),
  });
  onTestFinished(() => runtime.stop(1_000).then(() => undefined));
  return { runtime, metrics, logs };
}

export async function sendAll(producer: Producer, texts: string[], options: { key?: (i: number) => string; attributes?: Record<string, string> } = {}): Promise<void> {
  for (let i = 0; i < texts.length; i++) {
    await producer.send(texts[i] as string, {
      ...(options.key ? { key: options.key(i) } : {}),
      ...(options.attributes ? { attributes: options.attributes } : {}),
    });
  }
}

export const texts = (prefix: string, count: number, from = 0) => Array.from({ length: count }, (_, i) => `${prefix}-${from + i}`);

/** received = processed + dead_lettered + dropped + in_flight, and the expected counts where given. */
export async function expectAccounting(
  metrics: ConnectorMetrics,
  topic: string,
  expected: Partial<{ received: number; processed: number; deadLettered: number; dropped: number; inFlight: number }> = {},
): Promise<void> {
  const snapshot = await metrics.snapshot();
  const counts = snapshot[topic];
  expect(counts, `metrics for ${topic}`).toBeDefined();
  expect(accountingProblems(snapshot)).toEqual([]);
  const { received, processed, deadLettered, dropped, inFlight } = counts!;
  expect({ received, processed, deadLettered, dropped, inFlight }).toMatchObject(expected);
}

export type TopicCounts = Awaited<ReturnType<ConnectorMetrics['snapshot']>>[string];

/** Waits until the topic's counts satisfy `check` (polling the metrics, which have no events). */
export async function waitForCounts(metrics: ConnectorMetrics, topic: string, check: (counts: TopicCounts) => boolean, timeoutMs = 10_000): Promise<void> {
  await vi.waitFor(
    async () => {
      const counts = (await metrics.snapshot())[topic];
      if (!counts || !check(counts)) throw new Error(`counts of ${topic} not there yet: ${JSON.stringify(counts)}`);
    },
    { timeout: timeoutMs, interval: 20 },
  );
}

/** Payloads never reach the logs (docs/delivery-semantics.md §8): no line may contain one of them. */
export function expectNoPayloadInLogs(logs: string[], payloads: Iterable<string>): void {
  const all = logs.join('');
  for (const payload of payloads) expect(all.includes(`"${payload}"`), `payload ${payload} in logs`).toBe(false);
}

/**
 * Shows that every message so far was acked: a new runtime under the same consumer name gets the unacked
 * ones redelivered first (the broker releases them on reattach, docs/danube-protocol.md §9.1), so when a fresh marker
 * arrives, anything unacked would have arrived before it.
 */
export async function redeliveredAfterRestart(
  client: DanubeClient,
  producer: Producer,
  configs: ConsumerConfig[],
  name = 'sink-test',
): Promise<string[]> {
  const external = new ExternalSystem();
  const { runtime } = sinkRuntime(testSink(external, configs, 'single'), client, {}, { name });
  await runtime.start();
  const marker = `marker-${randomBytes(3).toString('hex')}`;
  await producer.send(marker);
  await external.waitForTexts([marker]);
  await runtime.stop(5_000);
  return external.texts().filter((t) => t !== marker);
}

/**
 * Breaks `runtime` on purpose: the `nth` message delivered (0-based) is taken as if buffered (and so counted as
 * received) but forgotten: never written, acked or tracked. The accounting check must catch this.
 */
export function forgetOneMessage(runtime: SinkRuntime, nth: number): void {
  type Partition = { offer(entry: unknown): boolean };
  const internals = runtime as unknown as { partition(subscription: number, key: unknown): Partition };
  const partitionOf = internals.partition.bind(runtime);
  const wrapped = new WeakSet<Partition>();
  let seen = 0;
  internals.partition = (subscription, key) => {
    const partition = partitionOf(subscription, key);
    if (!wrapped.has(partition)) {
      wrapped.add(partition);
      const offer = partition.offer.bind(partition);
      partition.offer = (entry) => (seen++ === nth ? true : offer(entry));
    }
    return partition;
  };
}
