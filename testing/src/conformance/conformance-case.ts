import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { DanubeClient, type Producer, type RuntimeSettings } from '@danube-connect/sdk';
import type { PongMessage, StoppedMessage } from '@danube-connect/sdk/protocol';
import { ConnectorProcess } from '../connector-process.js';
import { TestBroker } from '../test-broker.js';
import type { ConformanceEnv, ConformanceOptions } from './conformance-options.js';
import { duplicateCount, formatRanges, missingRecords, orderViolation, parseNumber, violation, type Delivery } from './delivery-checks.js';
import { compileSchema, type PluginManifest } from './plugin-manifest.js';

/** The plugin under test and the kit's deadlines, resolved once per suite. */
export interface PluginUnderTest {
  manifest: PluginManifest;
  options: ConformanceOptions;
  readyTimeoutMs: number;
  deliveryTimeoutMs: number;
  stopTimeoutMs: number;
}

/** What one look at a running case saw: the child's pong and what had arrived by then. */
export interface Sample {
  pong: PongMessage;
  deliveries: Delivery[];
  /** Sources: messages Danube held just before the ping was sent (so never more than at the pong). */
  storedBeforePing: number;
}

interface WatchOptions {
  timeoutMs: number;
  /** Throws the error of a guarantee the sample shows broken. */
  check?: (sample: Sample) => void;
  /** The error when `done` is not reached in time. */
  timedOut: (sample: Sample | undefined) => Error;
}

/** Sinks: the kit sends record n with routing key `k<n % 3>`, so order is checked on several keys. */
const SINK_KEYS = 3;
/** Between two looks at a running case, ms. */
const SAMPLE_MS = 25;
/** Deadline of a case's cleanup (kill its children, stop its broker), ms. */
const CLOSE_TIMEOUT_MS = 30_000;
/** The feeder's pause between attempts while Danube refuses a send (the outage case), ms. */
const FEED_RETRY_MS = 100;

/**
 * One case of the kit: its own TestBroker, topic and work folder, the connector children it starts (each
 * killed when the test ends), and the kit's way of feeding records in and looking at what came out.
 */
export class ConformanceCase {
  readonly env: ConformanceEnv;
  private readonly children: ConnectorProcess[] = [];
  private client: DanubeClient | undefined;
  private feeder: Promise<Producer> | undefined;
  private config: Promise<Record<string, unknown>> | undefined;
  private feedError: unknown;

  private constructor(
    readonly plugin: PluginUnderTest,
    broker: TestBroker,
  ) {
    const id = randomBytes(4).toString('hex');
    this.env = { broker, topic: `/default/conformance-${id}`, workDir: mkdtempSync(join(tmpdir(), 'dc-conformance-')), connector: `conformance-${id}` };
    onTestFinished(() => this.close(), CLOSE_TIMEOUT_MS);
  }

  /** Opens a case; `maxUnackedMessages` is the broker's window per subscription (sinks' back-pressure case). */
  static async open(plugin: PluginUnderTest, maxUnackedMessages?: number): Promise<ConformanceCase> {
    // Redelivery when a consumer goes away (a stop, a kill); the ack timeout is far beyond any write of a case.
    const broker = await TestBroker.start({ maxUnackedMessages, failurePolicy: { ackTimeoutMs: 60_000, baseRedeliveryDelayMs: 50, maxRedeliveryDelayMs: 500 } });
    const testCase = new ConformanceCase(plugin, broker);
    if (plugin.manifest.kind === 'sink') broker.createTopic(testCase.env.topic, { dispatch: 'reliable' });
    return testCase;
  }

  get kind(): 'source' | 'sink' {
    return this.plugin.manifest.kind;
  }

  /** The case's config, validated against the plugin's schema with its defaults applied; the same on every start. */
  configFor(): Promise<Record<string, unknown>> {
    this.config ??= (async () => {
      const config = structuredClone(await this.plugin.options.config(this.env));
      const { configSchema, name } = this.plugin.manifest;
      if (configSchema) {
        const { validate } = compileSchema(configSchema);
        if (!validate(config)) throw new Error(`options.config() is not valid for ${name}: ${JSON.stringify(validate.errors)}`);
      }
      return config;
    })();
    return this.config;
  }

  /** Starts a connector child and waits for `ready` (sinks: also for their subscription, which starts at the topic's end). */
  async start(runtime: Partial<RuntimeSettings> = {}): Promise<ConnectorProcess> {
    const { manifest, options, readyTimeoutMs } = this.plugin;
    const config = await this.configFor();
    const child = new ConnectorProcess();
    this.children.push(child);
    child.start({
      entry: manifest.entry,
      connector: this.env.connector,
      kind: manifest.kind,
      plugin: { name: manifest.name, version: manifest.version },
      config,
      danube: { serviceUrl: this.env.broker.serviceUrl },
      runtime: { pollIntervalMs: 20, ...options.runtime, ...runtime },
      logLevel: 'warn',
    });
    try {
      await child.next('ready', readyTimeoutMs);
    } catch (err) {
      throw violation('ready', (err as Error).message);
    }
    if (this.kind === 'sink') {
      const deadline = Date.now() + readyTimeoutMs;
      while ((await child.ping()).state !== 'connected') {
        if (Date.now() > deadline) throw violation('ready', `the sink did not report connected within ${readyTimeoutMs} ms of ready`);
        await sleep(SAMPLE_MS);
      }
    }
    return child;
  }

  /** Makes records from … from + count - 1 flow: into the external system (sources) or into Danube (sinks). */
  async feed(from: number, count: number): Promise<void> {
    if (this.kind === 'source') return (this.plugin.options.produce as NonNullable<ConformanceOptions['produce']>)(this.env, from, count);
    const producer = await this.feederProducer();
    for (let n = from; n < from + count; n++) {
      const deadline = Date.now() + this.plugin.deliveryTimeoutMs;
      // One at a time, each acknowledged before the next: `delayAcks` paces the feed, and a send Danube
      // refused (the outage case) is sent again, so the topic holds every record once, in order.
      for (;;) {
        try {
          await producer.send(String(n), { key: `k${n % SINK_KEYS}` });
          break;
        } catch (err) {
          if (Date.now() > deadline) throw new Error(`the kit could not send record ${n} to Danube within ${this.plugin.deliveryTimeoutMs} ms`, { cause: err });
          await sleep(FEED_RETRY_MS);
        }
      }
    }
  }

  /**
   * Feeds records while the case goes on watching; a failure of the feed fails the next look at the case.
   * Await the result before feeding again.
   */
  feedInBackground(from: number, count: number): Promise<void> {
    const feeding = this.feed(from, count);
    feeding.catch((err: unknown) => (this.feedError ??= err));
    return feeding;
  }

  /** What has arrived so far, in arrival order: Danube's log (sources) or what the sink wrote. */
  async deliveries(): Promise<Delivery[]> {
    if (this.kind === 'source') {
      return this.stored().flatMap((m) => {
        const number = parseNumber(m.payload.toString('utf8'));
        return number === undefined ? [] : [{ number, key: m.routingKey ?? '' }];
      });
    }
    const texts = await (this.plugin.options.written as NonNullable<ConformanceOptions['written']>)(this.env);
    return texts.flatMap((text) => {
      const number = parseNumber(text);
      return number === undefined ? [] : [{ number, key: `k${number % SINK_KEYS}` }];
    });
  }

  /** Everything delivered so far, the kit's records or not, duplicates included. */
  async deliveredCount(): Promise<number> {
    if (this.kind === 'source') return this.stored().length;
    return (await (this.plugin.options.written as NonNullable<ConformanceOptions['written']>)(this.env)).length;
  }

  /** One look at a child: Danube's count, its pong, then what was delivered, checked for commit after delivery. */
  async look(child: ConnectorProcess): Promise<Sample> {
    const storedBeforePing = this.kind === 'source' ? this.stored().length : 0;
    const pong = await child.ping();
    // Read after the pong: whatever the pong counts as committed must be delivered by now.
    const sample: Sample = { pong, deliveries: await this.deliveries(), storedBeforePing };
    this.checkCommittedAfterDelivery(sample);
    return sample;
  }

  /**
   * Looks at the running case every 25 ms until `done`, failing on a broken guarantee: the one every look
   * checks (nothing is committed before it is delivered) and the caller's `check`.
   */
  async watch(child: ConnectorProcess, done: (sample: Sample) => boolean, options: WatchOptions): Promise<Sample> {
    const deadline = Date.now() + options.timeoutMs;
    let last: Sample | undefined;
    for (;;) {
      if (this.feedError) throw this.feedError;
      const sample = await this.look(child);
      last = sample;
      options.check?.(sample);
      if (done(sample)) return sample;
      if (Date.now() > deadline) throw options.timedOut(last);
      await sleep(SAMPLE_MS);
    }
  }

  /** Waits until records 0 … count - 1 all arrived, then checks each key's order. */
  async expectAll(child: ConnectorProcess, count: number, phase: string, check?: (sample: Sample) => void): Promise<Sample> {
    const timeoutMs = this.plugin.deliveryTimeoutMs;
    const sample = await this.watch(child, (s) => missingRecords(count, s.deliveries).length === 0, {
      timeoutMs,
      check,
      timedOut: (s) => {
        const deliveries = s?.deliveries ?? [];
        const missing = missingRecords(count, deliveries);
        return violation(
          'at-least-once',
          `${phase}: ${missing.length} of ${count} records never arrived within ${timeoutMs} ms (missing ${formatRanges(missing)}; ${deliveries.length} delivered, ${duplicateCount(deliveries)} of them duplicates)`,
        );
      },
    });
    this.expectOrder(sample.deliveries, phase);
    return sample;
  }

  expectOrder(deliveries: readonly Delivery[], phase: string): void {
    const problem = orderViolation(deliveries);
    if (problem) throw violation('per-key order', `${phase}: ${problem}`);
  }

  /** Stops a child and requires its stop report: counts that add up, and exit code 0 (or 73 when it abandoned records). */
  async stop(child: ConnectorProcess): Promise<StoppedMessage> {
    const { stopped, exit } = await child.stop(this.plugin.stopTimeoutMs);
    if (!stopped) throw violation('stop report', `the connector exited (code ${exit.code}, signal ${exit.signal}) without a "stopped" report; stderr: ${child.stderr().slice(-1_000) || '(empty)'}`);
    if (!(Number.isInteger(stopped.drained) && stopped.drained >= 0 && Number.isInteger(stopped.abandoned) && stopped.abandoned >= 0)) {
      throw violation('stop report', `the stop report's counts are not whole numbers >= 0: ${JSON.stringify(stopped)}`);
    }
    // Exit 73 says the drain gave up on records, which then are redelivered upstream.
    const allowed = stopped.abandoned > 0 ? [0, 73] : [0];
    if (exit.code === null || !allowed.includes(exit.code)) {
      throw violation('stop report', `the connector exited with code ${exit.code} (signal ${exit.signal}) after reporting ${JSON.stringify(stopped)}; expected ${allowed.join(' or ')}`);
    }
    return stopped;
  }

  private checkCommittedAfterDelivery({ pong, deliveries }: Sample): void {
    // Counted against every delivery so far, duplicates and earlier children included: never too strict.
    if (pong.stats.processed <= deliveries.length) return;
    throw violation(
      'ack after write',
      this.kind === 'sink'
        ? `the connector acknowledged ${pong.stats.processed} records to Danube as written while only ${deliveries.length} were in the external system: process/processBatch may resolve only once the write succeeded, and must throw when it failed`
        : `${pong.stats.processed} records were committed while Danube held ${deliveries.length}`,
    );
  }

  private stored() {
    try {
      return this.env.broker.storedMessages(this.env.topic);
    } catch {
      return []; // the topic does not exist before the source's producer creates it
    }
  }

  private feederProducer(): Promise<Producer> {
    this.client ??= new DanubeClient({ serviceUrl: this.env.broker.serviceUrl });
    const client = this.client;
    this.feeder ??= client.createProducer({ topic: this.env.topic, name: `${this.env.connector}-feeder` });
    return this.feeder;
  }

  private async close(): Promise<void> {
    await Promise.all(this.children.map((child) => child.kill()));
    await this.client?.close(1_000);
    await this.env.broker.stop();
    rmSync(this.env.workDir, { recursive: true, force: true });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
