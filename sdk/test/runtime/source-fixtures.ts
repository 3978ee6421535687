import { Writable } from 'node:stream';
import { pino } from 'pino';
import { expect, onTestFinished } from 'vitest';
import type { ProducerConfig, SourceConnector, SourceOutput } from '../../src/connector.js';
import { DanubeClient } from '../../src/danube/danube-client.js';
import type { ConnectorError } from '../../src/errors.js';
import { textRecord, type SourceRecord, type SourceRecordOptions } from '../../src/record.js';
import { ConnectorMetrics } from '../../src/runtime/connector-metrics.js';
import type { RuntimeStatus } from '../../src/runtime/connector-runtime.js';
import { resolveRuntimeSettings, type RuntimeSettings } from '../../src/runtime/runtime-settings.js';
import { SourceRuntime } from '../../src/runtime/source-runtime.js';
import type { TestBroker } from '@danube-connect/testing';
import { uniqueName } from '../contract/target.js';
import { accountingProblems } from './accounting.js';

export const silentLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** Resolves when `predicate` holds, re-checked each time `notify` is called. */
export class Condition {
  private waiters: Array<{ predicate: () => boolean; resolve: () => void }> = [];

  until(predicate: () => boolean): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ predicate, resolve }));
  }

  notify(): void {
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.predicate()) return true;
      waiter.resolve();
      return false;
    });
  }
}

/** What a test source saw of the runtime: acks (payload texts, in call order) and commits. */
class SourceLog {
  readonly acked: string[] = [];
  readonly commits: string[][] = [];
  readonly changed = new Condition();

  /** Options for a record whose ack is logged here. */
  track(text: string, options: SourceRecordOptions = {}): SourceRecordOptions {
    return {
      ...options,
      ack: () => {
        this.acked.push(text);
        this.changed.notify();
      },
    };
  }

  untilAcked(count: number): Promise<void> {
    return this.changed.until(() => this.acked.length >= count);
  }

  commit(records: readonly SourceRecord[]): void {
    this.commits.push(records.map((r) => r.payload.toString('utf8')));
    this.changed.notify();
  }
}

/** A push source fed by the test through `send`. */
export class PushSource implements SourceConnector {
  readonly log = new SourceLog();
  output: SourceOutput | undefined;
  pauses = 0;
  resumes = 0;
  stopped = false;
  closed = false;

  constructor(private readonly configs: ProducerConfig[] = []) {}

  producerConfigs(): ProducerConfig[] {
    return this.configs;
  }

  start(output: SourceOutput): void {
    this.output = output;
  }

  pause(): void {
    this.pauses++;
  }

  resume(): void {
    this.resumes++;
  }

  commit(records: readonly SourceRecord[]): void {
    this.log.commit(records);
  }

  stop(): void {
    this.stopped = true;
  }

  close(): void {
    this.closed = true;
  }

  /** Sends a text record whose ack is logged; resolves true once accepted, false when not accepted. */
  send(topic: string, text: string, options: SourceRecordOptions = {}): Promise<boolean> {
    if (!this.output) throw new Error('push source not started');
    return this.output.send(textRecord(topic, text, this.log.track(text, options)));
  }
}

/** A pull source over a list of texts, handing out up to `batch` per poll. */
export class ArraySource implements SourceConnector {
  readonly log = new SourceLog();
  polls = 0;
  private next = 0;

  constructor(
    private readonly topic: string,
    private readonly texts: string[],
    private readonly batch = 5,
    private readonly beforePoll: () => void | Promise<void> = () => {},
  ) {}

  async poll(): Promise<SourceRecord[]> {
    this.polls++;
    await this.beforePoll();
    const slice = this.texts.slice(this.next, this.next + this.batch);
    this.next += slice.length;
    return slice.map((text) => textRecord(this.topic, text, this.log.track(text)));
  }

  commit(records: readonly SourceRecord[]): void {
    this.log.commit(records);
  }
}

export interface RuntimeHandle {
  runtime: SourceRuntime;
  metrics: ConnectorMetrics;
  client: DanubeClient;
  name: string;
  statuses: RuntimeStatus[];
  /** Settles with the first fatal error. */
  fatal: Promise<ConnectorError>;
  status: Condition;
  /** Lines the runtime logged at info and above, parsed. */
  logs: Array<Record<string, unknown>>;
}

/** A DanubeClient with short retries for a TestBroker, closed when the case ends. */
export function testClient(serviceUrl: string): DanubeClient {
  const client = new DanubeClient({ serviceUrl, retry: { initialDelayMs: 20, maxDelayMs: 200 }, healthCheckIntervalMs: 200, requestTimeoutMs: 2_000 });
  onTestFinished(() => client.close(500));
  return client;
}

/** A SourceRuntime for `connector` against `broker`, stopped (and its client closed) when the case ends. */
export function sourceRuntime(connector: SourceConnector, target: TestBroker | string, settings: Partial<RuntimeSettings> = {}): RuntimeHandle {
  const name = uniqueName('src');
  const client = testClient(typeof target === 'string' ? target : target.serviceUrl);
  const metrics = new ConnectorMetrics(name);
  const logs: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      callback();
    },
  });
  const runtime = new SourceRuntime(connector, {
    name,
    client,
    metrics,
    logger: pino({ level: 'info' }, destination),
    settings: resolveRuntimeSettings({ retryInitialDelayMs: 20, retryMaxDelayMs: 200, ...settings }),
  });
  const statuses: RuntimeStatus[] = [];
  const status = new Condition();
  runtime.onStatus((s) => {
    statuses.push(s);
    status.notify();
  });
  const fatal = new Promise<ConnectorError>((resolve) => runtime.onFatal(resolve));
  onTestFinished(async () => {
    await runtime.stop(1_000);
  });
  return { runtime, metrics, client, name, statuses, fatal, status, logs };
}

/** received = processed + dead_lettered + dropped + in_flight, for every topic; returns the totals. */
export async function expectBalanced(metrics: ConnectorMetrics): Promise<{ received: number; processed: number; deadLettered: number; dropped: number; inFlight: number }> {
  const totals = { received: 0, processed: 0, deadLettered: 0, dropped: 0, inFlight: 0 };
  const snapshot = await metrics.snapshot();
  expect(accountingProblems(snapshot)).toEqual([]);
  for (const c of Object.values(snapshot)) {
    totals.received += c.received;
    totals.processed += c.processed;
    totals.deadLettered += c.deadLettered;
    totals.dropped += c.dropped;
    totals.inFlight += c.inFlight;
  }
  return totals;
}

/** Payload texts stored in a topic (or partition), in offset order. */
export function storedTexts(broker: TestBroker, topic: string): string[] {
  return broker.storedMessages(topic).map((m) => m.payload.toString('utf8'));
}

/** First occurrence of each text, in order: duplicates are allowed (at-least-once), reordering is not. */
export function firstOccurrences(texts: string[]): string[] {
  return [...new Set(texts)];
}

export const range = (count: number, prefix = 'm'): string[] => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

/**
 * Breaks `runtime` on purpose: the `nth` accepted record (0-based) is counted as received, then forgotten (never
 * published, committed or tracked; its window slot is freed). The accounting check must catch this.
 */
export function forgetOneRecord(runtime: SourceRuntime, metrics: ConnectorMetrics, nth: number): void {
  const internals = runtime as unknown as { admit(record: SourceRecord): void; window: { release(count?: number): void } };
  const admit = internals.admit.bind(runtime);
  let seen = 0;
  internals.admit = (record) => {
    if (seen++ !== nth) return admit(record);
    metrics.recordReceived(record.topic, record.payload.length);
    internals.window.release(1);
  };
}
