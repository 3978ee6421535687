import { describe, expect, it } from 'vitest';
import type { RuntimeStatus } from '../../src/runtime/connector-runtime.js';
import { ConnectorError } from '../../src/errors.js';
import { accountingProblems, oldestInFlightAge } from './accounting.js';
import {
  clientOf,
  expectAccounting,
  expectNoPayloadInLogs,
  ExternalSystem,
  forgetOneMessage,
  redeliveredAfterRestart,
  sendAll,
  sinkRuntime,
  sinkSetup,
  startBroker,
  testSink,
  texts,
  uniqueName,
  uniqueTopic,
  waitForCounts,
} from './sink-harness.js';

describe('SinkRuntime: at-least-once delivery into the external system', () => {
  it.each(['batch', 'single'] as const)(
    'acks only after the write (%s): writes that fail with retryable errors are retried, every message is written, none lost',
    async (mode) => {
      const { broker, client, topic, configs, producer, external } = await sinkSetup();
      let failures = 4;
      let receivedWhileFailing = 0;
      const handle = sinkRuntime(
        testSink(external, configs, mode, async () => {
          if (failures === 0) return;
          failures--;
          // Nothing is written yet, so nothing may be acked: the broker's window (10) caps what we got.
          receivedWhileFailing = Math.max(receivedWhileFailing, (await handle.metrics.snapshot())[topic]?.received ?? 0);
          throw ConnectorError.retryable('database unavailable', { code: 'DB_DOWN' });
        }),
        clientOf(broker),
        { batchSize: 5, batchTimeoutMs: 20, maxRetries: 10 },
      );
      await handle.runtime.start();
      const sent = texts('msg', 30);
      await sendAll(producer, sent);
      await external.waitForTexts(sent);

      expect(receivedWhileFailing).toBeGreaterThan(0);
      expect(receivedWhileFailing).toBeLessThanOrEqual(10);
      expect([...external.distinctTexts()].sort()).toEqual([...sent].sort());
      await handle.runtime.stop(5_000);
      await expectAccounting(handle.metrics, topic, { processed: external.rows.length, inFlight: 0, deadLettered: 0, dropped: 0 });
      const counts = (await handle.metrics.snapshot())[topic]!;
      expect(counts.failed).toBe(4);
      expect(counts.retried).toBe(4);
      expect(await redeliveredAfterRestart(client, producer, configs)).toEqual([]);
      expectNoPayloadInLogs(handle.logs, sent);
    },
  );

  it('a runtime stopped with records unacked loses nothing: the next one (same consumer name) gets them', async () => {
    // A long ack timeout: here the broker hands unacked messages over because the consumer left, not on a timer.
    const { broker, client, topic, configs, producer, external } = await sinkSetup({ broker: { failurePolicy: { ackTimeoutMs: 30_000 } } });
    let broken = false;
    const first = sinkRuntime(
      testSink(external, configs, 'batch', () => {
        if (broken) throw ConnectorError.retryable('disk full');
      }),
      clientOf(broker),
      { batchSize: 3, batchTimeoutMs: 20, onRetryExhausted: 'block' },
    );
    await first.runtime.start();
    const sent = texts('msg', 40);
    await sendAll(producer, sent.slice(0, 15));
    await external.waitForTexts(sent.slice(0, 15));
    broken = true;
    await sendAll(producer, sent.slice(15));
    await waitForCounts(first.metrics, topic, (c) => c.failed > 0);
    const { abandoned } = await first.runtime.stop(200);
    expect(abandoned).toBeGreaterThan(0);
    await expectAccounting(first.metrics, topic);
    // In flight: the abandoned batch and the records buffered behind it.
    expect((await first.metrics.snapshot())[topic]!.inFlight).toBeGreaterThanOrEqual(abandoned);

    const second = sinkRuntime(testSink(external, configs, 'batch'), clientOf(broker), { batchSize: 3, batchTimeoutMs: 20 });
    await second.runtime.start();
    await external.waitForTexts(sent);
    expect(external.distinctTexts().size).toBe(40);
    await second.runtime.stop(5_000);
    await expectAccounting(second.metrics, topic, { inFlight: 0 });
  });

  it('connections dropped mid-stream: the runtime carries on and everything arrives at least once', async () => {
    const { broker, client, topic, configs, producer, external } = await sinkSetup();
    const { runtime, metrics } = sinkRuntime(testSink(external, configs, 'batch'), clientOf(broker), { batchSize: 4, batchTimeoutMs: 10 });
    await runtime.start();
    const sent = texts('msg', 60);
    await sendAll(producer, sent.slice(0, 30));
    await broker.dropConnections();
    await sendAll(producer, sent.slice(30));
    await external.waitForTexts(sent);
    expect(external.distinctTexts().size).toBe(60);
    await runtime.stop(5_000);
    await expectAccounting(metrics, topic, { inFlight: 0 });
  });

  it('keeps order within each of 4 partitions while partitions are written in parallel', async () => {
    const broker = await startBroker();
    const client = clientOf(broker);
    const topic = uniqueTopic();
    const producer = await client.createProducer({ topic, name: uniqueName('p'), partitions: 4 });
    const external = new ExternalSystem();
    const active = new Map<number, number>();
    let overlapWithinPartition = false;
    // The first write of each partition waits until a second partition is writing too: serial partitions would hang here.
    const entered = new Set<number>();
    let together!: () => void;
    const twoPartitionsWriting = new Promise<void>((resolve) => (together = resolve));
    const connector = testSink(external, [{ topic, subscription: uniqueName('s') }], 'batch', async (records) => {
      const partition = records[0]!.partition!;
      if (records.some((r) => r.partition !== partition)) throw new Error('a batch mixes partitions');
      active.set(partition, (active.get(partition) ?? 0) + 1);
      if (active.get(partition)! > 1) overlapWithinPartition = true;
      try {
        if (!entered.has(partition)) {
          entered.add(partition);
          if (entered.size >= 2) together();
          await twoPartitionsWriting;
        }
      } finally {
        active.set(partition, active.get(partition)! - 1);
      }
    });
    const { runtime, metrics } = sinkRuntime(connector, clientOf(broker), { batchSize: 5, batchTimeoutMs: 10 });
    await runtime.start();
    const keys = 16;
    const sent = texts('msg', 200);
    await sendAll(producer, sent, { key: (i) => `key-${i % keys}` });
    await external.waitForTexts(sent);

    expect(overlapWithinPartition).toBe(false);
    expect(new Set(external.rows.map((r) => r.partition)).size).toBe(4);
    // First copies per partition come in offset order, and each key's messages in send order.
    for (let p = 0; p < 4; p++) {
      const offsets = [...external.distinct().values()].filter((r) => r.partition === p).map((r) => BigInt(r.offset as string));
      expect(offsets).toEqual([...offsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    const seqOf = (text: string) => Number(text.split('-')[1]);
    const byKey = new Map<string, number[]>();
    for (const row of external.distinct().values()) byKey.set(row.routingKey!, [...(byKey.get(row.routingKey!) ?? []), seqOf(row.text())]);
    for (const seqs of byKey.values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    await runtime.stop(5_000);
    await expectAccounting(metrics, topic, { inFlight: 0 });
  });

  it('flushes when the unacked window is full: batchSize 1000 and a 60 s timeout still process 50 reliable messages', async () => {
    // No ack-timeout redeliveries on a loaded machine: the case is about the window alone.
    const broker = await startBroker({ failurePolicy: { ackTimeoutMs: 30_000 } });
    const client = clientOf(broker);
    const topic = uniqueTopic();
    const producer = await client.createProducer({ topic, name: uniqueName('p'), dispatch: 'reliable' });
    const external = new ExternalSystem();
    const connector = testSink(external, [{ topic, subscription: uniqueName('s') }], 'batch');
    const { runtime, metrics } = sinkRuntime(connector, clientOf(broker), { batchSize: 1_000, batchTimeoutMs: 60_000 });
    await runtime.start();
    const sent = texts('msg', 50);
    await sendAll(producer, sent);
    await external.waitForTexts(sent);
    expect(external.rows).toHaveLength(50);
    expect(Math.max(...connector.calls.map((c) => c.length))).toBeLessThanOrEqual(10);
    await runtime.stop(5_000);
    await expectAccounting(metrics, topic, { received: 50, processed: 50, inFlight: 0 });
  });

  it('subscribes before the topic exists: degraded and retrying, then connected and running', async () => {
    const broker = await startBroker();
    const client = clientOf(broker);
    const topic = uniqueTopic('later');
    const external = new ExternalSystem();
    const { runtime, metrics } = sinkRuntime(testSink(external, [{ topic, subscription: uniqueName('s') }], 'single'), clientOf(broker));
    const statuses: RuntimeStatus[] = [];
    const connected = new Promise<void>((resolve) =>
      runtime.onStatus((status) => {
        statuses.push(status);
        if (status.state === 'connected') resolve();
      }),
    );
    await runtime.start();
    expect(runtime.status()).toMatchObject({ state: 'degraded', detail: expect.stringContaining('topic does not exist yet') });
    expect((await metrics.toJSON()).find((m) => m.name === 'danube_connector_health')?.values[0]?.value).toBe(0.5);

    const producer = await client.createProducer({ topic, name: uniqueName('p') });
    await connected;
    expect(statuses.at(-1)).toEqual({ state: 'connected' });
    const sent = texts('msg', 5);
    await sendAll(producer, sent);
    await external.waitForTexts(sent);
    await runtime.stop(5_000);
    await expectAccounting(metrics, topic, { processed: 5, inFlight: 0 });
  });

  it('stop() lets the batch in progress finish and ack, starts no new batch, and leaves buffered records to the broker', async () => {
    const { broker, client, topic, configs, producer, external } = await sinkSetup({ broker: { failurePolicy: { ackTimeoutMs: 30_000 } } });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let writing!: () => void;
    const firstWrite = new Promise<void>((resolve) => (writing = resolve));
    const connector = testSink(external, configs, 'batch', async () => {
      writing();
      await released;
    });
    const { runtime, metrics } = sinkRuntime(connector, clientOf(broker), { batchSize: 2, batchTimeoutMs: 60_000 });
    await runtime.start();
    const sent = texts('msg', 6);
    await sendAll(producer, sent);
    await firstWrite;
    await waitForCounts(metrics, topic, (c) => c.received === 6);

    const stopping = runtime.stop(10_000);
    release();
    // The 4 buffered records never reached the connector: left to the broker, not given up.
    expect(await stopping).toEqual({ drained: 2, abandoned: 0 });
    expect(connector.calls).toHaveLength(1);
    expect(external.texts()).toEqual(sent.slice(0, 2));
    expect(connector.closed).toBe(true);
    await expectAccounting(metrics, topic, { processed: 2, inFlight: 4 });
    expect((await redeliveredAfterRestart(client, producer, configs)).sort()).toEqual(sent.slice(2).sort());
  });

  it('stop() gives up on a batch that does not finish within the timeout', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic();
    const client = clientOf(broker);
    const producer = await client.createProducer({ topic, name: uniqueName('p') });
    let writing!: () => void;
    const firstWrite = new Promise<void>((resolve) => (writing = resolve));
    const connector = testSink(new ExternalSystem(), [{ topic, subscription: uniqueName('s') }], 'single', () => {
      writing();
      return new Promise<void>(() => {});
    });
    const { runtime, metrics } = sinkRuntime(connector, clientOf(broker), { batchSize: 1 });
    await runtime.start();
    await sendAll(producer, texts('msg', 3));
    await firstWrite;
    await waitForCounts(metrics, topic, (c) => c.received === 3);
    // The record being written is given up; the 2 buffered behind it are left to the broker.
    expect(await runtime.stop(100)).toEqual({ drained: 0, abandoned: 1 });
    await expectAccounting(metrics, topic, { inFlight: 3 });
  });

  it('danube_connector_oldest_inflight_age_seconds is the age of the oldest unacked record while a write hangs, 0 once acked', async () => {
    const { broker, topic, configs, producer, external } = await sinkSetup();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let writing!: () => void;
    const firstWrite = new Promise<void>((resolve) => (writing = resolve));
    const connector = testSink(external, configs, 'single', async () => {
      writing();
      await released;
    });
    const { runtime, metrics } = sinkRuntime(connector, clientOf(broker), { batchSize: 1 });
    await runtime.start();
    expect(await oldestInFlightAge(metrics)).toBe(0);
    const before = Date.now();
    await sendAll(producer, texts('msg', 1));
    await firstWrite;
    const age = (await oldestInFlightAge(metrics)) as number;
    expect(age).toBeGreaterThan(0);
    expect(age).toBeLessThanOrEqual((Date.now() - before) / 1000 + 0.001);
    release();
    await waitForCounts(metrics, topic, (c) => c.processed === 1);
    expect(await oldestInFlightAge(metrics)).toBe(0);
  });

  it('the signal a write gets aborts only at the drain deadline: a stop leaves it running until then, then abandons the record', async () => {
    const { broker, topic, configs, producer } = await sinkSetup();
    let started!: (signal: AbortSignal) => void;
    const writing = new Promise<AbortSignal>((resolve) => (started = resolve));
    const connector = {
      consumerConfigs: () => configs,
      process: (_record: unknown, signal: AbortSignal) =>
        new Promise<void>((_resolve, reject) => {
          started(signal);
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
    };
    const { runtime, metrics } = sinkRuntime(connector, clientOf(broker), { batchSize: 1 });
    await runtime.start();
    await sendAll(producer, texts('msg', 1));
    const signal = await writing;
    const stopping = runtime.stop(300);
    // The stop has begun (intake is closed), and the write in progress may still finish.
    await Promise.resolve();
    expect(signal.aborted).toBe(false);
    expect(await stopping).toEqual({ drained: 0, abandoned: 1 });
    expect(signal.aborted).toBe(true);
    await expectAccounting(metrics, topic, { processed: 0, inFlight: 1 });
  });

  it('record identity: topic/partition/offset is unique on reliable topics; on a non-reliable topic the offset is left undefined', async () => {
    const broker = await startBroker();
    const client = clientOf(broker);
    const reliable = uniqueTopic('id-reliable');
    const nonReliable = uniqueTopic('id-nonreliable');
    broker.createTopic(reliable, { dispatch: 'reliable' });
    broker.createTopic(nonReliable, { dispatch: 'non_reliable' });
    const external = new ExternalSystem();
    const configs = [
      { topic: reliable, subscription: uniqueName('s') },
      { topic: nonReliable, subscription: uniqueName('s'), dispatch: 'non_reliable' as const },
    ];
    const { runtime } = sinkRuntime(testSink(external, configs, 'single'), client);
    await runtime.start();
    const toReliable = await client.createProducer({ topic: reliable, name: uniqueName('p') });
    const toNonReliable = await client.createProducer({ topic: nonReliable, name: uniqueName('p'), dispatch: 'non_reliable' });
    await sendAll(toReliable, texts('r', 3));
    await sendAll(toNonReliable, texts('n', 3));
    await external.waitForTexts([...texts('r', 3), ...texts('n', 3)]);
    const offsets = (topic: string) => external.rows.filter((r) => r.topic === topic).map((r) => r.offset);
    expect(new Set(offsets(reliable)).size).toBe(3);
    expect(offsets(nonReliable)).toEqual([undefined, undefined, undefined]);
  });

  it('received = processed + dead_lettered + dropped + in_flight fails for a sink runtime that forgets a message, and holds for the real one', async () => {
    const { broker, topic, configs, producer, external } = await sinkSetup();
    const { runtime, metrics } = sinkRuntime(testSink(external, configs, 'batch'), clientOf(broker), { batchSize: 2, batchTimeoutMs: 10 });
    forgetOneMessage(runtime, 1);
    await runtime.start();
    const sent = texts('msg', 5);
    await sendAll(producer, sent);
    await external.waitForTexts(sent.filter((t) => t !== 'msg-1'));
    await waitForCounts(metrics, topic, (c) => c.processed === 4);
    // One record short whatever happens next (the broker redelivers the unacked one after its ack timeout).
    expect(accountingProblems(await metrics.snapshot())).toEqual([expect.stringMatching(new RegExp(`^${topic}: received \\d+ != processed`))]);
    await runtime.stop(1_000);

    const again = await sinkSetup();
    const real = sinkRuntime(testSink(again.external, again.configs, 'batch'), clientOf(again.broker), { batchSize: 2, batchTimeoutMs: 10 });
    await real.runtime.start();
    await sendAll(again.producer, sent);
    await again.external.waitForTexts(sent);
    await waitForCounts(real.metrics, again.topic, (c) => c.processed === 5);
    await expectAccounting(real.metrics, again.topic, { received: 5, processed: 5, inFlight: 0 });
  });
});
