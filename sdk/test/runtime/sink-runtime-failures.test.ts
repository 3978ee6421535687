import { describe, expect, it } from 'vitest';
import type { Consumer } from '../../src/danube/consumer.js';
import type { DanubeClient } from '../../src/danube/danube-client.js';
import type { DanubeMessage } from '../../src/danube/message.js';
import { ConnectorError } from '../../src/errors.js';
import type { RuntimeStatus } from '../../src/runtime/connector-runtime.js';
import { TestCluster } from '@danube-connect/testing';
import {
  clientOf,
  expectAccounting,
  expectNoPayloadInLogs,
  ExternalSystem,
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

/** Subscribes a reader to the dead-letter topic (creating the topic first, as only producers can). */
async function deadLetterReader(client: DanubeClient): Promise<{ topic: string; consumer: Consumer }> {
  const topic = uniqueTopic('dlq');
  await client.createProducer({ topic, name: uniqueName('dlq-maker') });
  const consumer = await client.subscribe({ topic, name: uniqueName('dlq-reader'), subscription: uniqueName('dlq') });
  return { topic, consumer };
}

async function nextDeadLetter(consumer: Consumer): Promise<DanubeMessage> {
  const message = await consumer.receive(AbortSignal.timeout(10_000));
  await consumer.ack(message);
  return message;
}

describe('SinkRuntime: failures', () => {
  it('invalid data in a batch: the batch is split, the bad record dead-lettered (in Danube before its ack), the stream goes on', async () => {
    // One partition, so records carry a partition index and the restart check sees a single ordered stream.
    const { broker, client, topic, configs, producer, external } = await sinkSetup({ partitions: 1 });
    const dlq = await deadLetterReader(client);
    const connector = testSink(external, configs, 'batch', (records) => {
      if (records.some((r) => r.text() === 'poison')) throw ConnectorError.invalidData('column "n" rejects the row', { code: 'BAD_ROW' });
    });
    const { runtime, metrics, logs } = sinkRuntime(connector, clientOf(broker), { batchSize: 5, batchTimeoutMs: 60_000, deadLetterTopic: dlq.topic });
    await runtime.start();
    const sent = ['a-0', 'a-1', 'poison', 'a-3', 'a-4', ...texts('b', 5)];
    await sendAll(producer, sent.slice(0, 2));
    await producer.send('poison', { attributes: { origin: 'test' } });
    await sendAll(producer, sent.slice(3));

    const dead = await nextDeadLetter(dlq.consumer);
    await external.waitForTexts(sent.filter((t) => t !== 'poison'));
    expect(external.texts()).toEqual(sent.filter((t) => t !== 'poison'));
    expect(connector.calls.map((c) => c.length)).toEqual([5, 1, 1, 1, 1, 1, 5]);

    const stored = broker.storedMessages(`${topic}-part-0`).find((m) => m.payload.toString() === 'poison')!;
    expect(dead.payload.toString()).toBe('poison');
    expect(dead.attributes).toMatchObject({
      origin: 'test',
      'dc.errors.connector': 'sink-test',
      'dc.errors.topic': topic,
      'dc.errors.code': 'BAD_ROW',
      'dc.errors.kind': 'invalid_data',
      'dc.errors.message': 'column "n" rejects the row',
      'dc.errors.attempts': '1',
      'dc.errors.partition': '0',
      'dc.errors.offset': String(stored.offset),
    });
    await runtime.stop(5_000);
    await expectAccounting(metrics, topic, { received: 10, processed: 9, deadLettered: 1, dropped: 0, inFlight: 0 });
    expect(await redeliveredAfterRestart(client, producer, configs)).toEqual([]);
    expect(logs.some((l) => l.includes('records dead-lettered and acked'))).toBe(true);
    expectNoPayloadInLogs(logs, sent);
  });

  it('a dead-letter topic that cannot take records is fatal: the invalid record is not acked, nothing is lost', async () => {
    const broker = await startBroker();
    const client = clientOf(broker);
    const topic = uniqueTopic();
    const configs = [{ topic, subscription: uniqueName('s') }];
    const producer = await client.createProducer({ topic, name: uniqueName('p') });
    const connector = testSink(new ExternalSystem(), configs, 'single', (records) => {
      if (records[0]!.text() === 'poison') throw ConnectorError.invalidData('bad row');
    });
    // Danube never creates namespaces: publishing there fails for good.
    const { runtime } = sinkRuntime(connector, clientOf(broker), { batchSize: 1, deadLetterTopic: '/no-such-namespace/dlq' });
    const failed = new Promise<ConnectorError>((resolve) => runtime.onFatal(resolve));
    await runtime.start();
    await sendAll(producer, ['poison']);
    expect(await failed).toMatchObject({ kind: 'fatal', message: expect.stringContaining('/no-such-namespace/dlq') });
    await runtime.stop(1_000);
    expect(await redeliveredAfterRestart(client, producer, configs)).toEqual(['poison']);
  });

  it('a dead letter the dead-letter topic refuses for its size is dead-lettered without payload, never dropped (as in sources)', async () => {
    // Two brokers of one cluster: the records' topic lives on one without a size limit, the dead-letter topic on
    // one that takes at most 16 payload bytes.
    const cluster = new TestCluster();
    const broker = await startBroker({ cluster });
    const small = await startBroker({ cluster, maxMessageSize: 16 });
    const dlq = await deadLetterReader(clientOf(small));
    const client = clientOf(broker);
    const topic = uniqueTopic();
    const configs = [{ topic, subscription: uniqueName('s') }];
    const producer = await client.createProducer({ topic, name: uniqueName('p') });
    const external = new ExternalSystem();
    const connector = testSink(external, configs, 'single', (records) => {
      if (records[0]!.text().startsWith('poison')) throw ConnectorError.invalidData('bad row', { code: 'BAD_ROW' });
    });
    const { runtime, metrics, logs } = sinkRuntime(connector, client, { batchSize: 1, deadLetterTopic: dlq.topic });
    await runtime.start();
    const poison = 'poison, longer than sixteen bytes';
    await sendAll(producer, ['a', poison, 'b']);
    const dead = await nextDeadLetter(dlq.consumer);
    await external.waitForTexts(['a', 'b']);
    expect(dead.payload.length).toBe(0);
    expect(dead.attributes).toMatchObject({
      'dc.errors.code': 'BAD_ROW',
      'dc.errors.topic': topic,
      'dc.errors.payload_omitted': 'too_large',
      'dc.errors.payload_bytes': String(Buffer.byteLength(poison)),
    });
    await runtime.stop(5_000);
    await expectAccounting(metrics, topic, { received: 3, processed: 2, deadLettered: 1, dropped: 0, inFlight: 0 });
    expect(await redeliveredAfterRestart(client, producer, configs)).toEqual([]);
    expectNoPayloadInLogs(logs, [poison]);
  });

  it('invalid data without a dead-letter topic: the record is counted as dropped and acked, the stream goes on', async () => {
    const { broker, client, topic, configs, producer, external } = await sinkSetup();
    // record.json() throws invalid data for a payload that is not JSON: the usual poison message.
    const connector = testSink(external, configs, 'single', (records) => void records.map((r) => r.json()));
    const { runtime, metrics } = sinkRuntime(connector, clientOf(broker), { batchSize: 10, batchTimeoutMs: 10 });
    await runtime.start();
    const sent = ['{"n":1}', '{"n":2}', 'not json', '{"n":4}'];
    await sendAll(producer, sent);
    await external.waitForTexts(['{"n":1}', '{"n":2}', '{"n":4}']);
    expect(external.texts()).toEqual(['{"n":1}', '{"n":2}', '{"n":4}']);
    await runtime.stop(5_000);
    await expectAccounting(metrics, topic, { received: 4, processed: 3, dropped: 1, deadLettered: 0, inFlight: 0 });
    expect(await redeliveredAfterRestart(client, producer, configs)).toEqual([]);
  });

  it("on_retry_exhausted 'dead_letter': a record whose write keeps failing is dead-lettered after maxRetries and acked", async () => {
    const { broker, client, topic, configs, producer, external } = await sinkSetup();
    const dlq = await deadLetterReader(client);
    const connector = testSink(external, configs, 'single', (records) => {
      if (records[0]!.text() === 'stuck') throw ConnectorError.retryable('row locked', { code: 'LOCKED' });
    });
    const { runtime, metrics } = sinkRuntime(connector, clientOf(broker), {
      batchSize: 10,
      batchTimeoutMs: 10,
      maxRetries: 2,
      onRetryExhausted: 'dead_letter',
      deadLetterTopic: dlq.topic,
    });
    await runtime.start();
    await sendAll(producer, ['one', 'stuck', 'three']);
    const dead = await nextDeadLetter(dlq.consumer);
    expect(dead.payload.toString()).toBe('stuck');
    expect(dead.attributes).toMatchObject({ 'dc.errors.kind': 'retryable', 'dc.errors.code': 'LOCKED', 'dc.errors.attempts': '3' });
    await external.waitForTexts(['one', 'three']);
    expect(external.texts()).toEqual(['one', 'three']);
    await runtime.stop(5_000);
    await expectAccounting(metrics, topic, { received: 3, processed: 2, deadLettered: 1, inFlight: 0 });
    expect((await metrics.snapshot())[topic]).toMatchObject({ failed: 3, retried: 2 });
    expect(await redeliveredAfterRestart(client, producer, configs)).toEqual([]);
  });

  it("on_retry_exhausted 'fail': a fatal DC_ERR_RETRIES_EXHAUSTED, intake stops, the batch is not acked", async () => {
    const broker = await startBroker();
    const client = clientOf(broker);
    const topic = uniqueTopic();
    const configs = [{ topic, subscription: uniqueName('s') }];
    const producer = await client.createProducer({ topic, name: uniqueName('p') });
    const connector = testSink(new ExternalSystem(), configs, 'batch', () => {
      throw ConnectorError.retryable('timeout', { code: 'DB_TIMEOUT' });
    });
    // Only a full batch flushes: a 10 ms flush timer would, on a loaded machine, hand over a batch of 1 or 2.
    const { runtime, metrics } = sinkRuntime(connector, clientOf(broker), { batchSize: 3, batchTimeoutMs: 60_000, maxRetries: 1, onRetryExhausted: 'fail' });
    const errors: ConnectorError[] = [];
    const failed = new Promise<void>((resolve) =>
      runtime.onFatal((error) => {
        errors.push(error);
        resolve();
      }),
    );
    await runtime.start();
    const sent = texts('msg', 3);
    await sendAll(producer, sent);
    await failed;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ kind: 'fatal', code: 'DC_ERR_RETRIES_EXHAUSTED' });
    expect((errors[0]!.cause as ConnectorError).code).toBe('DB_TIMEOUT');
    expect((await metrics.toJSON()).find((m) => m.name === 'danube_connector_health')?.values[0]?.value).toBe(0);
    expect(connector.calls).toHaveLength(2);
    expect(await runtime.stop(1_000)).toEqual({ drained: 0, abandoned: 3 });
    await expectAccounting(metrics, topic, { received: 3, processed: 0, inFlight: 3 });
    expect((await redeliveredAfterRestart(client, producer, configs)).sort()).toEqual(sent);
  });

  it('a fatal connector error stops the runtime: records written before it are acked, the rest are not', async () => {
    const { broker, client, topic, configs, producer, external } = await sinkSetup();
    const connector = testSink(external, configs, 'single', (records) => {
      if (records[0]!.text() === 'msg-2') throw ConnectorError.fatal('credentials revoked', { code: 'AUTH' });
    });
    const { runtime, metrics } = sinkRuntime(connector, clientOf(broker), { batchSize: 5, batchTimeoutMs: 60_000 });
    const failed = new Promise<ConnectorError>((resolve) => runtime.onFatal(resolve));
    await runtime.start();
    const sent = texts('msg', 5);
    await sendAll(producer, sent);
    expect(await failed).toMatchObject({ kind: 'fatal', code: 'AUTH' });
    expect(external.texts()).toEqual(['msg-0', 'msg-1']);
    await runtime.stop(1_000);
    await expectAccounting(metrics, topic, { received: 5, processed: 2, inFlight: 3 });
    expect((await redeliveredAfterRestart(client, producer, configs)).sort()).toEqual(['msg-2', 'msg-3', 'msg-4']);
  });

  it("on_retry_exhausted 'block': keeps retrying, degraded, and connected again once writes work", async () => {
    const broker = await startBroker();
    const client = clientOf(broker);
    const topic = uniqueTopic();
    const producer = await client.createProducer({ topic, name: uniqueName('p') });
    const external = new ExternalSystem();
    let down = true;
    const connector = testSink(external, [{ topic, subscription: uniqueName('s') }], 'batch', () => {
      if (down) throw ConnectorError.retryable('connection refused', { code: 'ECONNREFUSED' });
    });
    const { runtime, metrics } = sinkRuntime(connector, clientOf(broker), { batchSize: 5, batchTimeoutMs: 10, maxRetries: 2, onRetryExhausted: 'block' });
    const statuses: RuntimeStatus[] = [];
    let onDegraded!: () => void;
    let onConnected!: () => void;
    const degraded = new Promise<void>((resolve) => (onDegraded = resolve));
    const connected = new Promise<void>((resolve) => (onConnected = resolve));
    runtime.onStatus((status) => {
      statuses.push(status);
      if (status.state === 'degraded') onDegraded();
      else onConnected();
    });
    await runtime.start();
    const sent = texts('msg', 3);
    await sendAll(producer, sent);
    await degraded;
    expect(runtime.status()).toMatchObject({ state: 'degraded', detail: expect.stringContaining('ECONNREFUSED') });
    expect((await metrics.toJSON()).find((m) => m.name === 'danube_connector_health')?.values[0]?.value).toBe(0.5);
    down = false;
    await connected;
    await external.waitForTexts(sent);
    expect(statuses.map((s) => s.state).slice(-2)).toEqual(['degraded', 'connected']);
    expect((await metrics.toJSON()).find((m) => m.name === 'danube_connector_health')?.values[0]?.value).toBe(1);
    await runtime.stop(5_000);
    await expectAccounting(metrics, topic, { processed: external.rows.length, inFlight: 0 });
  });

  it('start() rejects a connector that cannot work: no write method, no consumer configs, a bad consumer name', async () => {
    const broker = await startBroker();
    const client = clientOf(broker);
    const topic = uniqueTopic();
    await client.createProducer({ topic, name: uniqueName('p') });
    const configs = [{ topic, subscription: uniqueName('s') }];
    await expect(sinkRuntime({ consumerConfigs: () => configs }, client).runtime.start()).rejects.toMatchObject({ kind: 'fatal', message: expect.stringContaining('neither process nor processBatch') });
    await expect(sinkRuntime(testSink(new ExternalSystem(), [], 'single'), client).runtime.start()).rejects.toThrow(/no consumer configs/);
    const bad = testSink(new ExternalSystem(), [{ ...configs[0]!, consumerName: 'no spaces allowed' }], 'single');
    await expect(sinkRuntime(bad, client).runtime.start()).rejects.toMatchObject({ kind: 'fatal', code: 'DC_ERR_INVALID_OPTION' });
  });

  it('a stop during a Danube outage ends the dead-letter retries at the drain deadline: the record is neither acked nor counted done', async () => {
    const { broker, topic, configs, producer, external } = await sinkSetup();
    const { topic: deadLetterTopic } = await deadLetterReader(clientOf(broker));
    let outage!: () => void;
    const outageBegan = new Promise<void>((resolve) => (outage = resolve));
    const connector = testSink(external, configs, 'single', async () => {
      // Invalid, once Danube is down: its dead letter cannot be published.
      await outageBegan;
      throw ConnectorError.invalidData('bad row');
    });
    const { runtime, metrics } = sinkRuntime(connector, clientOf(broker), { batchSize: 1, deadLetterTopic });
    await runtime.start();
    await sendAll(producer, texts('msg', 1));
    await waitForCounts(metrics, topic, (c) => c.received === 1);
    broker.unavailableFor(120_000);
    outage();
    const hung = new Promise<'hung'>((resolve) => setTimeout(resolve, 5_000, 'hung').unref());
    expect(await Promise.race([runtime.stop(300), hung])).toEqual({ drained: 0, abandoned: 1 });
    expect(external.texts()).toEqual([]);
    await expectAccounting(metrics, topic, { processed: 0, deadLettered: 0, inFlight: 1 });
  });
});
