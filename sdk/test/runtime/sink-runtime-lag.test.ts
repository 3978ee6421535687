import { describe, expect, it, onTestFinished } from 'vitest';
import type { SinkConnector } from '../../src/connector.js';
import type { SinkRecord } from '../../src/record.js';
import { DanubeClient } from '../../src/danube/danube-client.js';
import { until } from '../broker.js';
import { expectAccounting, sendAll, sinkRuntime, sinkSetup, startBroker, testSink, texts, uniqueTopic, waitForCounts } from './sink-harness.js';

describe('SinkRuntime keeps up with its subscription (docs/danube-protocol.md §9.4)', () => {
  it.each(['single', 'batch'] as const)(
    'writes record after record without waiting for each ack round trip; acks are pipelined within the window (%s)',
    async (mode) => {
      const { broker, client, topic, configs, producer, external } = await sinkSetup();
      const handle = sinkRuntime(testSink(external, configs, mode), client, { batchSize: 1, batchTimeoutMs: 0 });
      await handle.runtime.start();
      // Every ack's round trip lasts until the broker is told to answer.
      broker.holdAcks();
      const sent = texts('m', 10);
      await sendAll(producer, sent);
      // The whole window is written and its acks are on the wire together.
      await until(() => broker.heldAcks === 10 && external.rows.length === 10, 5_000).catch(() => {
        throw new Error(`held acks ${broker.heldAcks}, rows written ${external.rows.length}: the sink waited for an ack before the next write`);
      });
      broker.releaseAcks();
      const more = texts('n', 20);
      await sendAll(producer, more);
      await external.waitForTexts([...sent, ...more]);
      await handle.runtime.stop(5_000);
      await expectAccounting(handle.metrics, topic, { processed: 30, inFlight: 0 });
    },
  );

  it.each(['batch', 'single'] as const)(
    'a pipelined sink (%s) gets the next record while earlier writes are open, and each record is acked as soon as it and those before it are written: the 11th message does not wait for a whole batch of 10',
    async (mode) => {
      const { client, topic, configs, producer, external } = await sinkSetup();
      // Each record's write lasts until the test releases that record.
      const releases = new Map<string, () => void>();
      const opened: string[] = [];
      const gate = (text: string) => new Promise<void>((resolve) => releases.set(text, resolve));
      const base = testSink(external, configs, mode, (records) => {
        opened.push(...records.map((r) => r.text()));
        return Promise.all(records.map((r) => gate(r.text()))).then(() => undefined);
      });
      // As a pipelined connector does: each record is reported written as soon as it is, before its call resolves.
      const sink: SinkConnector = {
        ...base,
        pipelined: true,
        ...(mode === 'batch'
          ? {
              processBatch: (records: readonly SinkRecord[], _signal: AbortSignal, written?: (record: SinkRecord) => void) => {
                opened.push(...records.map((r) => r.text()));
                return Promise.all(records.map((r) => gate(r.text()).then(() => {
                  external.rows.push(r);
                  written?.(r);
                }))).then(() => undefined);
              },
            }
          : {}),
      };
      // The defaults (batch_size 100, batch_timeout_ms 100): a batching runtime would hand over the window of 10 as one batch.
      const handle = sinkRuntime(sink, client);
      await handle.runtime.start();
      const sent = texts('m', 20);
      await sendAll(producer, sent);
      await until(() => opened.length === 10, 5_000).catch(() => {
        throw new Error(`${opened.length} records handed over while the first write is open: writes of one partition do not overlap`);
      });
      expect(opened).toEqual(sent.slice(0, 10));
      // m-0 alone is written: it is acked, the broker refills the window by one, and m-10 is handed over while m-1..m-9 are still open.
      releases.get('m-0')?.();
      await until(() => opened.includes('m-10'), 5_000).catch(() => {
        throw new Error(`after m-0 was written, handed over: ${opened.join(' ')}; the 11th message waits for the whole batch of 10`);
      });
      expect(opened).toEqual(sent.slice(0, 11));
      for (let i = 1; i < 20; i++) {
        await until(() => releases.has(`m-${i}`), 5_000);
        releases.get(`m-${i}`)?.();
      }
      await external.waitForTexts(sent);
      expect(opened).toEqual(sent);
      await handle.runtime.stop(5_000);
      await expectAccounting(handle.metrics, topic, { processed: 20, inFlight: 0 });
    },
  );

  it('a lagging Exclusive subscription that loses messages says so: gap metrics, an error log naming the range, degraded', async () => {
    const { client, topic, configs, producer, external } = await sinkSetup({ broker: { liveTailCapacity: 20 } });
    const subscription = configs[0]!.subscription;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const sink = testSink(external, [{ ...configs[0]!, type: 'exclusive' }], 'single', () => gate);
    const handle = sinkRuntime(sink, client, { batchSize: 1, batchTimeoutMs: 0 });
    const statuses: string[] = [];
    handle.runtime.onStatus((s) => statuses.push(`${s.state}: ${s.detail ?? ''}`));
    await handle.runtime.start();
    // The first write hangs while 100 messages are published: the subscription falls 90 behind the live tail.
    await sendAll(producer, texts('m', 100));
    open();
    await waitForCounts(handle.metrics, topic, (c) => c.processed === 30);

    const metrics = JSON.stringify(await handle.metrics.toJSON());
    const value = (name: string) => {
      const metric = (JSON.parse(metrics) as Array<{ name: string; values: Array<{ value: number; labels: Record<string, string> }> }>).find((m) => m.name === name);
      return metric?.values.find((v) => v.labels.topic === topic && v.labels.subscription === subscription)?.value;
    };
    expect(value('danube_connector_offset_gaps_total')).toBe(1);
    expect(value('danube_connector_skipped_messages_total')).toBe(70);
    const errors = handle.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ topic, subscription, firstOffset: '10', lastOffset: '79', count: 70 });
    expect(String(errors[0]?.msg)).toMatch(/skipped/);
    expect(handle.runtime.status().state).toBe('degraded');
    expect(statuses.join('\n')).toMatch(new RegExp(`${subscription}.*10.*79`));
    await handle.runtime.stop(5_000);
  });

  it("starts degraded at once when Danube is down, with the client's default retry budget, and runs once it is back", async () => {
    const { broker, configs, producer, external, topic } = await sinkSetup();
    // Default options: each client request may retry for 120 s, but the runtime retries subscriptions itself.
    const client = new DanubeClient({ serviceUrl: broker.serviceUrl });
    onTestFinished(() => client.close(1_000));
    const handle = sinkRuntime(testSink(external, configs, 'batch'), client);
    await broker.goOffline();
    await handle.runtime.start();
    expect(handle.runtime.status().state).toBe('degraded');
    await broker.comeBackOnline();
    await until(() => handle.runtime.status().state === 'connected', 20_000);
    await sendAll(producer, texts('m', 5));
    await external.waitForTexts(texts('m', 5));
    await handle.runtime.stop(5_000);
    await expectAccounting(handle.metrics, topic, { processed: 5, inFlight: 0 });
  });

  it("starts degraded at once when its topic's broker is down, with the client's default retry budget", async () => {
    const { broker, configs, external } = await sinkSetup();
    // The topic lives on a second broker of the cluster, which is down: lookups work, Subscribe cannot.
    const other = await startBroker({ cluster: broker.cluster });
    const topic = uniqueTopic('elsewhere');
    other.createTopic(topic, { dispatch: 'reliable' });
    await other.goOffline();
    const client = new DanubeClient({ serviceUrl: broker.serviceUrl });
    onTestFinished(() => client.close(1_000));
    const handle = sinkRuntime(testSink(external, [{ ...configs[0]!, topic }], 'batch'), client);
    // Each client request may retry for 120 s; the runtime must not wait that long to say it is degraded.
    await handle.runtime.start();
    expect(handle.runtime.status()).toMatchObject({ state: 'degraded', detail: expect.stringContaining(topic) });
    await other.comeBackOnline();
    await until(() => handle.runtime.status().state === 'connected', 20_000);
    await handle.runtime.stop(5_000);
  });
});
