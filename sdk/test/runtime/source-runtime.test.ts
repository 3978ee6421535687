import { describe, expect, it, vi } from 'vitest';
import { ConnectorError } from '../../src/errors.js';
import { textRecord } from '../../src/record.js';
import { ConnectorMetrics } from '../../src/runtime/connector-metrics.js';
import { resolveRuntimeSettings } from '../../src/runtime/runtime-settings.js';
import { producerName } from '../../src/runtime/source-producers.js';
import { SourceRuntime } from '../../src/runtime/source-runtime.js';
import { uniqueTopic } from '../contract/target.js';
import { startBroker } from '../broker.js';
import { accountingProblems, oldestInFlightAge } from './accounting.js';
import { ArraySource, expectBalanced, forgetOneRecord, firstOccurrences, PushSource, range, silentLogger, sourceRuntime, storedTexts, testClient } from './source-fixtures.js';

const index = (text: string) => Number(text.replace(/^\D+/, ''));
const isIncreasing = (numbers: number[]) => numbers.every((n, i) => i === 0 || n > (numbers[i - 1] as number));

/**
 * Each of the topic's partitions holds its records in send order (first copies: redelivered duplicates are
 * allowed), and together they hold every one of `texts`.
 */
function expectEveryPartitionInOrder(broker: Parameters<typeof storedTexts>[0], topic: string, partitions: number, texts: string[]): void {
  const distinct = new Set<string>();
  for (let p = 0; p < partitions; p++) {
    const first = firstOccurrences(storedTexts(broker, `${topic}-part-${p}`));
    expect(isIncreasing(first.map(index)), `partition ${p}: ${first.join(' ')}`).toBe(true);
    for (const text of first) distinct.add(text);
  }
  expect(distinct.size).toBe(texts.length);
}

describe('SourceRuntime: publish and commit', () => {
  it('publishes key, attributes and event time under a stable producer name, then acks and commits in order', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic('src');
    const source = new PushSource([{ topic }]);
    const { runtime, metrics, name } = sourceRuntime(source, broker);
    await runtime.start();
    expect(runtime.status()).toEqual({ state: 'connected' });

    await source.send(topic, 'a', { key: 'k1', attributes: { origin: 'test' }, eventTime: 1_700_000_000_000 });
    await source.send(topic, 'b');
    await source.log.untilAcked(2);

    const stored = broker.storedMessages(topic);
    expect(stored.map((m) => m.payload.toString())).toEqual(['a', 'b']);
    expect(stored[0]).toMatchObject({ routingKey: 'k1', attributes: { origin: 'test' }, publishTime: '1700000000000', producerName: producerName(name, topic) });
    expect(producerName(name, topic)).toMatch(/^src-[0-9a-f]+-default-src-[0-9a-z]+$/);
    expect(source.log.acked).toEqual(['a', 'b']);

    expect(await runtime.stop(5_000)).toMatchObject({ abandoned: 0 });
    expect(source.log.commits.flat()).toEqual(['a', 'b']);
    expect(source.stopped && source.closed).toBe(true);
    expect(await expectBalanced(metrics)).toMatchObject({ received: 2, processed: 2, inFlight: 0 });
  });

  it('commits in acceptance order while acks interleave across a 4-partition topic and a topic still being created', async () => {
    const broker = await startBroker();
    const partitioned = uniqueTopic('parts');
    const lazy = uniqueTopic('lazy');
    const source = new PushSource([{ topic: partitioned, partitions: 4 }]);
    const { runtime, metrics } = sourceRuntime(source, broker);
    await runtime.start();

    const sent: string[] = [];
    for (let i = 0; i < 60; i++) {
      // The lazy topic's producer is created on its first record, so the partitioned records behind it are
      // acknowledged first: their commits must wait.
      const topic = i % 10 === 0 ? lazy : partitioned;
      const text = `${topic === lazy ? 'L' : 'P'}${i}`;
      await source.send(topic, text, { key: `device-${i % 7}` });
      sent.push(text);
    }
    await source.log.untilAcked(sent.length);
    expect(source.log.acked).toEqual(sent);
    await source.log.changed.until(() => source.log.commits.flat().length === sent.length);
    expect(source.log.commits.flat()).toEqual(sent);

    // Strict order per partition, and each key on one partition.
    const partitionOf = new Map<string, number>();
    let stored = 0;
    for (let p = 0; p < 4; p++) {
      const texts = storedTexts(broker, `${partitioned}-part-${p}`);
      stored += texts.length;
      expect(isIncreasing(texts.map(index)), `partition ${p}: ${texts.join(' ')}`).toBe(true);
      for (const text of texts) {
        const key = `device-${index(text) % 7}`;
        expect(partitionOf.get(key) ?? p).toBe(p);
        partitionOf.set(key, p);
      }
    }
    expect(stored).toBe(sent.filter((t) => t.startsWith('P')).length);
    expect(storedTexts(broker, lazy)).toEqual(sent.filter((t) => t.startsWith('L')));
    await runtime.stop(5_000);
    expect(await expectBalanced(metrics)).toMatchObject({ received: 60, processed: 60 });
  });

  it('bounds the window: output.send waits while maxInFlight records are uncommitted, and the source is paused and resumed', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic('window');
    const source = new PushSource([{ topic }]);
    const { runtime, metrics } = sourceRuntime(source, broker, { maxInFlight: 4 });
    await runtime.start();
    broker.delayAcks(20);

    for (let i = 0; i < 4; i++) await source.send(topic, `m${i}`);
    expect(source.pauses).toBe(1);
    let fifthAccepted = false;
    const fifth = source.send(topic, 'm4').then(() => (fifthAccepted = true));
    // No ack can arrive before the event loop turns, so the window is still full here.
    await Promise.resolve();
    expect(fifthAccepted).toBe(false);
    await fifth;

    let maxOutstanding = 0;
    for (let i = 5; i < 30; i++) {
      await source.send(topic, `m${i}`);
      maxOutstanding = Math.max(maxOutstanding, i + 1 - source.log.acked.length);
      const { inFlight } = await expectBalanced(metrics);
      expect(inFlight).toBeLessThanOrEqual(4);
    }
    await source.log.untilAcked(30);
    expect(maxOutstanding).toBeLessThanOrEqual(4);
    expect(source.resumes).toBeGreaterThanOrEqual(1);
    expect(source.log.acked).toEqual(range(30));
    expect(storedTexts(broker, topic)).toEqual(range(30));
    await runtime.stop(5_000);
    expect(await expectBalanced(metrics)).toMatchObject({ received: 30, processed: 30, inFlight: 0 });
  });

  it('pull style: polls only while the window has room and commits every record once, in order', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic('pull');
    const texts = range(40);
    const overfull: number[] = [];
    const handle: { metrics?: ConnectorMetrics } = {};
    const source = new ArraySource(topic, texts, 3, async () => {
      const { inFlight } = await expectBalanced(handle.metrics as ConnectorMetrics);
      if (inFlight >= 4) overfull.push(inFlight);
    });
    const { runtime, metrics } = sourceRuntime(source, broker, { maxInFlight: 4, pollIntervalMs: 5 });
    handle.metrics = metrics;
    await runtime.start();
    broker.delayAcks(5);
    await source.log.untilAcked(texts.length);
    expect(source.log.acked).toEqual(texts);
    expect(storedTexts(broker, topic)).toEqual(texts);
    expect(overfull).toEqual([]);
    await runtime.stop(5_000);
    expect(source.log.commits.flat()).toEqual(texts);
    expect(await expectBalanced(metrics)).toMatchObject({ received: 40, processed: 40, inFlight: 0 });
  });

  it('rejects a connector with neither or both of poll and start', () => {
    const deps = { name: 'c', client: testClient('http://127.0.0.1:1'), metrics: new ConnectorMetrics('c'), logger: silentLogger, settings: resolveRuntimeSettings() };
    expect(() => new SourceRuntime({}, deps)).toThrow(/exactly one of poll\(signal\) \(pull\) and start\(output\) \(push\); it implements neither/);
    expect(() => new SourceRuntime({ poll: async () => [], start: () => {} }, deps)).toThrow(/implements both/);
  });
});

describe('SourceRuntime: invalid records', () => {
  it('dead-letters a record over max_message_bytes with its payload, key and dc.errors attributes, and commits it in order', async () => {
    const broker = await startBroker({ maxMessageSize: 100 });
    const topic = uniqueTopic('dl');
    const dlq = uniqueTopic('dlq');
    const source = new PushSource([{ topic, maxMessageBytes: 50 }]);
    const { runtime, metrics, name } = sourceRuntime(source, broker, { deadLetterTopic: dlq });
    await runtime.start();
    const big = 'x'.repeat(80);
    await source.send(topic, 'a');
    await source.send(topic, big, { key: 'kx', attributes: { origin: 'test' } });
    await source.send(topic, 'b');
    await source.log.untilAcked(3);

    expect(source.log.acked).toEqual(['a', big, 'b']);
    expect(storedTexts(broker, topic)).toEqual(['a', 'b']);
    const [letter, ...more] = broker.storedMessages(dlq);
    expect(more).toEqual([]);
    expect(letter?.payload.toString()).toBe(big);
    expect(letter?.routingKey).toBe('kx');
    expect(letter?.attributes).toMatchObject({
      origin: 'test',
      'dc.errors.connector': name,
      'dc.errors.topic': topic,
      'dc.errors.code': 'DC_ERR_MESSAGE_TOO_LARGE',
      'dc.errors.kind': 'invalid_data',
      'dc.errors.attempts': '0',
    });
    await runtime.stop(5_000);
    expect(await expectBalanced(metrics)).toMatchObject({ received: 3, processed: 2, deadLettered: 1, dropped: 0, inFlight: 0 });
  });

  it('dead-letters a record the broker refuses as too large without its payload (the limit applies to the dead-letter topic too); the records behind it are sent again, in order', async () => {
    const broker = await startBroker({ maxMessageSize: 100 });
    const topic = uniqueTopic('dl');
    const dlq = uniqueTopic('dlq');
    const source = new PushSource([{ topic }]);
    const { runtime, metrics } = sourceRuntime(source, broker, { deadLetterTopic: dlq });
    await runtime.start();
    const big = 'y'.repeat(150);
    const texts = ['a', big, 'b', 'c', 'd'];
    // Accepted back to back: b, c and d queue behind the oversize record on the producer's single partition.
    for (const text of texts) await source.send(topic, text);
    await source.log.untilAcked(texts.length);

    expect(source.log.acked).toEqual(texts);
    expect(storedTexts(broker, topic)).toEqual(['a', 'b', 'c', 'd']);
    const letters = broker.storedMessages(dlq);
    expect(letters).toHaveLength(1);
    expect(letters[0]?.payload.length).toBe(0);
    expect(letters[0]?.attributes).toMatchObject({
      'dc.errors.code': 'DC_ERR_MESSAGE_TOO_LARGE',
      'dc.errors.payload_omitted': 'too_large',
      'dc.errors.payload_bytes': '150',
      'dc.errors.attempts': '1',
    });
    await runtime.stop(5_000);
    expect(await expectBalanced(metrics)).toMatchObject({ received: 5, processed: 4, deadLettered: 1, inFlight: 0 });
  });

  it('drops invalid records without a dead-letter topic (oversize, schema subject mismatch) and goes on', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic('drop');
    const source = new PushSource([{ topic, maxMessageBytes: 10 }]);
    const { runtime, metrics } = sourceRuntime(source, broker);
    await runtime.start();
    await source.send(topic, 'a');
    await source.send(topic, 'far too long for ten bytes');
    await source.output?.send({ ...textRecord(topic, 'schema', source.log.track('schema')), schema: { subject: 'orders' } });
    await source.send(topic, 'b');
    await source.log.untilAcked(4);

    expect(source.log.acked).toEqual(['a', 'far too long for ten bytes', 'schema', 'b']);
    expect(storedTexts(broker, topic)).toEqual(['a', 'b']);
    await runtime.stop(5_000);
    const snapshot = await metrics.snapshot();
    expect(snapshot[topic]).toMatchObject({ received: 4, processed: 2, dropped: 2, deadLettered: 0, inFlight: 0 });
    await expectBalanced(metrics);
  });
});

describe('SourceRuntime: records the source found invalid (record.invalid)', () => {
  it('dead-letters them with the source\'s code and message, publishes the rest, and acks all in order', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic('own');
    const dlq = uniqueTopic('dlq');
    const source = new PushSource([{ topic }]);
    const { runtime, metrics, name } = sourceRuntime(source, broker, { deadLetterTopic: dlq });
    await runtime.start();
    await source.send(topic, 'a');
    const invalid = ConnectorError.invalidData('payload fails schema orders v1: /id must be integer', { code: 'ACME_SCHEMA' });
    await source.output?.send({ ...textRecord(topic, 'bad', source.log.track('bad', { key: 'k', attributes: { origin: 'test' } })), invalid });
    await source.send(topic, 'b');
    await source.log.untilAcked(3);

    expect(source.log.acked).toEqual(['a', 'bad', 'b']);
    expect(storedTexts(broker, topic)).toEqual(['a', 'b']);
    const letters = broker.storedMessages(dlq);
    expect(letters.map((m) => m.payload.toString())).toEqual(['bad']);
    expect(letters[0]?.routingKey).toBe('k');
    expect(letters[0]?.attributes).toMatchObject({
      origin: 'test',
      'dc.errors.connector': name,
      'dc.errors.topic': topic,
      'dc.errors.code': 'ACME_SCHEMA',
      'dc.errors.kind': 'invalid_data',
      'dc.errors.message': 'payload fails schema orders v1: /id must be integer',
      'dc.errors.attempts': '0',
    });
    await runtime.stop(5_000);
    expect(await expectBalanced(metrics)).toMatchObject({ received: 3, processed: 2, deadLettered: 1, dropped: 0, inFlight: 0 });
  });

  it('counts and drops them without a dead-letter topic', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic('own');
    const source = new PushSource([{ topic }]);
    const { runtime, metrics } = sourceRuntime(source, broker);
    await runtime.start();
    await source.output?.send({ ...textRecord(topic, 'bad', source.log.track('bad')), invalid: ConnectorError.invalidData('not UTF-8') });
    await source.send(topic, 'b');
    await source.log.untilAcked(2);
    expect(storedTexts(broker, topic)).toEqual(['b']);
    await runtime.stop(5_000);
    expect(await expectBalanced(metrics)).toMatchObject({ received: 2, processed: 1, dropped: 1, deadLettered: 0 });
  });

  it.each([
    ['a retryable ConnectorError', ConnectorError.retryable('upstream timed out'), /must be a ConnectorError of kind invalid_data .*got kind retryable/],
    ['a plain Error', new Error('something failed'), /must be a ConnectorError of kind invalid_data .*got object/],
  ])('refuses %s as record.invalid (an unknown failure is never taken for bad data)', async (_what, invalid, message) => {
    const broker = await startBroker();
    const topic = uniqueTopic('own');
    const source = new PushSource([{ topic }]);
    const { runtime } = sourceRuntime(source, broker);
    await runtime.start();
    await expect(source.output?.send({ ...textRecord(topic, 'x'), invalid: invalid as ConnectorError })).rejects.toThrow(message);
    await runtime.stop(5_000);
    expect(broker.storedMessages(topic)).toEqual([]);
  });
});

describe('SourceRuntime: Danube failures', () => {
  it('keeps retrying while Danube is unavailable: degraded, nothing committed meanwhile, then everything delivered once', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic('outage');
    const source = new PushSource([{ topic }]);
    const { runtime, metrics, status } = sourceRuntime(source, broker);
    await runtime.start();
    await source.send(topic, 'warm');
    await source.log.untilAcked(1);

    const statesAtAck: string[] = [];
    const texts = range(10);
    // The outage lasts until the checks below are done (a timed one could end first on a loaded machine).
    broker.unavailableFor(60_000);
    for (const text of texts) {
      await source.output?.send(textRecord(topic, text, { ack: () => void statesAtAck.push(runtime.status().state) }));
    }
    await status.until(() => runtime.status().state === 'degraded');
    expect(runtime.status().detail).toMatch(new RegExp(`Danube unavailable: cannot publish to ${topic} \\(DC_ERR_UNAVAILABLE\\)`));
    expect(statesAtAck).toEqual([]);
    broker.unavailableFor(0);

    await runtime.stop(30_000);
    expect(statesAtAck).toEqual(texts.map(() => 'connected'));
    expect(runtime.status()).toEqual({ state: 'connected' });
    expect(firstOccurrences(storedTexts(broker, topic))).toEqual(['warm', ...texts]);
    const totals = await metrics.snapshot();
    expect(totals[topic]).toMatchObject({ received: 11, processed: 11, inFlight: 0 });
    expect(totals[topic]?.failed).toBeGreaterThan(0);
    expect(totals[topic]?.retried).toBeGreaterThan(0);
    await expectBalanced(metrics);
  });

  it('loses nothing and keeps per-partition order when connections drop with sends in flight (the client reattaches)', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic('drop-conn');
    const source = new PushSource([{ topic, partitions: 4 }]);
    const { runtime, metrics } = sourceRuntime(source, broker);
    await runtime.start();
    broker.delayAcks(30);
    const texts = range(40);
    const send = (i: number) => source.send(topic, texts[i] as string, { key: `k${i % 8}` });
    for (let i = 0; i < 20; i++) await send(i);
    await broker.dropConnections();
    broker.delayAcks(0);
    // Records accepted while the failed sends wait for their retry must not overtake them.
    for (let i = 20; i < 40; i++) await send(i);
    await source.log.untilAcked(texts.length);

    expect(source.log.acked).toEqual(texts);
    expectEveryPartitionInOrder(broker, topic, 4, texts);
    await runtime.stop(5_000);
    expect(await expectBalanced(metrics)).toMatchObject({ received: 40, processed: 40, inFlight: 0 });
  });

  it('keeps per-partition order across retries while records keep arriving through an outage', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic('outage-order');
    const source = new PushSource([{ topic, partitions: 4 }]);
    const { runtime, metrics, status } = sourceRuntime(source, broker, { maxInFlight: 8 });
    await runtime.start();
    const texts = range(80);
    for (const [i, text] of texts.entries()) {
      // The outage ends once the runtime reports it (degraded), not after a time a loaded machine may outlast.
      if (i === 10) {
        broker.unavailableFor(60_000);
        void status.until(() => runtime.status().state === 'degraded').then(() => broker.unavailableFor(0));
      }
      // The window (8) makes the sender wait for commits, so new records arrive while failed ones are retried.
      await source.send(topic, text, { key: `k${i % 6}` });
    }
    await source.log.untilAcked(texts.length);

    expect(source.log.acked).toEqual(texts);
    expectEveryPartitionInOrder(broker, topic, 4, texts);
    await runtime.stop(5_000);
    const totals = await metrics.snapshot();
    expect(totals[topic]?.retried).toBeGreaterThan(0);
    expect(await expectBalanced(metrics)).toMatchObject({ received: 80, processed: 80, inFlight: 0 });
  });

  it('starts degraded when Danube is down at start, then delivers', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic('late');
    const source = new PushSource([{ topic }]);
    const { runtime, status } = sourceRuntime(source, broker);
    broker.unavailableFor(60_000);
    await runtime.start();
    expect(runtime.status().state).toBe('degraded');
    broker.unavailableFor(0);
    for (const text of range(3)) await source.send(topic, text);
    await source.log.untilAcked(3);
    await status.until(() => runtime.status().state === 'connected');
    expect(storedTexts(broker, topic)).toEqual(range(3));
  });

  it('a record topic whose producer cannot be created (missing namespace) blocks its records: degraded naming topic and reason, never fatal, nothing acked; delivered once it can be', async () => {
    const broker = await startBroker();
    const source = new PushSource();
    const { runtime, fatal, metrics, status } = sourceRuntime(source, broker);
    await runtime.start();
    const namespace = `ns${Math.random().toString(36).slice(2, 10)}`;
    const topic = `/${namespace}/t`;
    await source.send(topic, 'a');
    await source.send(topic, 'b');
    await Promise.race([
      status.until(() => runtime.status().state === 'degraded'),
      fatal.then((error) => Promise.reject(new Error(`fatal instead of blocked: ${error.message}`))),
    ]);
    expect(runtime.status().detail).toContain(topic);
    expect(runtime.status().detail).toMatch(/namespace .* does not exist/);
    expect(source.log.acked).toEqual([]);
    // Still accepting (other topics go on) and never dropping the blocked ones.
    broker.createNamespace(namespace);
    await source.log.untilAcked(2);
    expect(storedTexts(broker, topic)).toEqual(['a', 'b']);
    await status.until(() => runtime.status().state === 'connected');
    expect(await runtime.stop(5_000)).toMatchObject({ abandoned: 0 });
    expect(await expectBalanced(metrics)).toMatchObject({ received: 2, processed: 2, dropped: 0 });

    const listed = sourceRuntime(new PushSource([{ topic: '/nowhere/listed' }]), broker);
    const onFatal = vi.fn();
    listed.runtime.onFatal(onFatal);
    await expect(listed.runtime.start()).rejects.toMatchObject({ kind: 'fatal', code: 'DC_ERR_NAMESPACE_NOT_FOUND' });
    expect(onFatal).not.toHaveBeenCalled();
  });

  it('a blocked record topic is dead-lettered only with a dead-letter topic and on_retry_exhausted = "dead_letter"; without a dead-letter topic it stays blocked', async () => {
    const broker = await startBroker();
    const deadLetterTopic = uniqueTopic('dlq');
    const source = new PushSource();
    const { runtime, fatal, metrics } = sourceRuntime(source, broker, { deadLetterTopic, onRetryExhausted: 'dead_letter', maxRetries: 2 });
    await runtime.start();
    await source.send('/missing/t', 'x');
    await Promise.race([source.log.untilAcked(1), fatal.then((error) => Promise.reject(new Error(`fatal: ${error.message}`)))]);
    const [letter] = broker.storedMessages(deadLetterTopic);
    expect(letter?.payload.toString()).toBe('x');
    expect(letter?.attributes).toMatchObject({ 'dc.errors.topic': '/missing/t', 'dc.errors.code': 'DC_ERR_NAMESPACE_NOT_FOUND' });
    expect(await runtime.stop(5_000)).toMatchObject({ abandoned: 0 });
    expect(await expectBalanced(metrics)).toMatchObject({ received: 1, deadLettered: 1, dropped: 0 });

    const keeps = new PushSource();
    const handle = sourceRuntime(keeps, broker, { onRetryExhausted: 'dead_letter', maxRetries: 2 });
    await handle.runtime.start();
    await keeps.send('/missing/t', 'y');
    await Promise.race([
      handle.status.until(() => handle.runtime.status().state === 'degraded'),
      handle.fatal.then((error) => Promise.reject(new Error(`fatal: ${error.message}`))),
    ]);
    expect(await handle.runtime.stop(300)).toEqual({ drained: 0, abandoned: 1 });
    expect(keeps.log.acked).toEqual([]);
    expect(await expectBalanced(handle.metrics)).toMatchObject({ received: 1, dropped: 0, inFlight: 1 });
  });
});

describe('SourceRuntime: connector failures', () => {
  it('a fatal error thrown by an ack reaches onFatal; nothing after that record is acked or committed', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic('ack-fatal');
    const source = new PushSource([{ topic }]);
    const { runtime, fatal } = sourceRuntime(source, broker);
    await runtime.start();
    await source.send(topic, 'a');
    await source.output?.send(
      textRecord(topic, 'b', {
        ack: () => {
          throw ConnectorError.fatal('upstream session lost', { code: 'UPSTREAM_GONE' });
        },
      }),
    );
    await source.send(topic, 'c');
    expect(await fatal).toMatchObject({ kind: 'fatal', code: 'UPSTREAM_GONE' });
    expect(source.stopped).toBe(true);
    expect(await runtime.stop(1_000)).toEqual({ drained: 0, abandoned: 2 });
    expect(source.log.acked).toEqual(['a']);
    expect(source.log.commits.flat()).toEqual(['a']);
  });

  it('a retryable error from commit is retried with the same batch', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic('commit-retry');
    let failures = 2;
    const source = new PushSource([{ topic }]);
    const commit = source.commit.bind(source);
    source.commit = (records) => {
      if (failures-- > 0) throw ConnectorError.retryable('offset store busy');
      commit(records);
    };
    const { runtime, metrics } = sourceRuntime(source, broker);
    await runtime.start();
    await source.send(topic, 'a');
    await source.log.changed.until(() => source.log.commits.length > 0);
    expect(source.log.commits).toEqual([['a']]);
    await runtime.stop(5_000);
    expect((await metrics.snapshot())[topic]).toMatchObject({ processed: 1, failed: 2, retried: 2 });
  });
});

describe('SourceRuntime: stop', () => {
  it('drains on stop: connector.stop() first, every accepted record is committed, later sends resolve false (not accepted, never acked)', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic('drain');
    const source = new PushSource([{ topic }]);
    const { runtime, metrics } = sourceRuntime(source, broker, { maxInFlight: 8 });
    let sendsDuringStop: boolean | undefined;
    source.stop = async () => {
      // The connector's stop runs while the intake still accepts: its last records are taken, not failed.
      sendsDuringStop = await source.send(topic, 'last');
      source.stopped = true;
    };
    await runtime.start();
    broker.delayAcks(10);
    const accepted: string[] = [];
    let refused: string | undefined;
    const sender = (async () => {
      for (const text of range(200)) {
        if (!(await source.send(topic, text))) {
          refused = text;
          return;
        }
        accepted.push(text);
      }
    })();
    await source.log.untilAcked(10);
    const result = await runtime.stop(30_000);
    await sender;

    expect(result.abandoned).toBe(0);
    expect(result.drained).toBeGreaterThan(0);
    expect(refused).toBeDefined();
    expect(sendsDuringStop).toBe(true);
    expect(await source.send(topic, 'after')).toBe(false);
    expect(source.stopped && source.closed).toBe(true);
    const committed = source.log.commits.flat();
    expect(new Set(committed)).toEqual(new Set([...accepted, 'last']));
    expect(source.log.acked).toEqual(committed);
    expect(source.log.acked).not.toContain(refused);
    expect(storedTexts(broker, topic)).toEqual(committed);
    expect(await expectBalanced(metrics)).toMatchObject({ received: accepted.length + 1, processed: accepted.length + 1, inFlight: 0 });
  });

  it('abandons what cannot drain in time: abandoned records were never acked, every acked one is in Danube', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic('abandon');
    const source = new PushSource([{ topic }]);
    const { runtime, metrics, status } = sourceRuntime(source, broker);
    await runtime.start();
    await source.send(topic, 'warm');
    await source.log.untilAcked(1);
    broker.unavailableFor(60_000);
    for (const text of range(5)) await source.send(topic, text);
    await status.until(() => runtime.status().state === 'degraded');

    expect(await runtime.stop(200)).toEqual({ drained: 0, abandoned: 5 });
    expect(source.log.acked).toEqual(['warm']);
    expect(storedTexts(broker, topic)).toEqual(['warm']);
    expect(await expectBalanced(metrics)).toMatchObject({ received: 6, processed: 1, inFlight: 5 });
  });
});

describe('SourceRuntime: stop during an outage', () => {
  it('ends every retry at the drain deadline (publishes, dead letters, ack retries): what Danube lacks is abandoned, never acked', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic('outage');
    const source = new PushSource([{ topic, maxMessageBytes: 4 }]);
    let ackFailures = 0;
    const { runtime, metrics, status } = sourceRuntime(source, broker, { deadLetterTopic: uniqueTopic('dlq'), maxRetries: 1_000 });
    await runtime.start();
    // A record whose ack keeps failing: the committer retries it.
    await source.output?.send(
      textRecord(topic, 'a', {
        ack: () => {
          ackFailures++;
          throw ConnectorError.retryable('upstream busy');
        },
      }),
    );
    await vi.waitFor(() => expect(ackFailures).toBeGreaterThan(0), { timeout: 10_000, interval: 10 });
    broker.unavailableFor(120_000);
    await source.send(topic, 'b');
    await source.send(topic, 'too-large');
    await status.until(() => runtime.status().state === 'degraded');

    const deadline = new Promise<'hung'>((resolve) => setTimeout(resolve, 5_000, 'hung').unref());
    const result = await Promise.race([runtime.stop(300), deadline]);
    expect(result).toEqual({ drained: 0, abandoned: 3 });
    expect(source.log.acked).toEqual([]);
    expect(source.log.commits).toEqual([]);
    expect(await expectBalanced(metrics)).toMatchObject({ received: 3, processed: 0, inFlight: 3 });
  });
});

describe('SourceRuntime: accounting', () => {
  it('received = processed + dead_lettered + dropped + in_flight fails for a runtime that forgets a record, and holds for the real one', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic('forget');
    const broken = new PushSource([{ topic }]);
    const { runtime, metrics } = sourceRuntime(broken, broker);
    forgetOneRecord(runtime, metrics, 2);
    await runtime.start();
    for (const text of range(5)) await broken.send(topic, text);
    await broken.log.changed.until(() => broken.log.commits.flat().length === 4);
    await runtime.stop(5_000);
    expect(storedTexts(broker, topic)).toEqual(['m0', 'm1', 'm3', 'm4']);
    expect(accountingProblems(await metrics.snapshot())).toEqual([
      `${topic}: received 5 != processed 4 + dead_lettered 0 + dropped 0 + in_flight 0`,
    ]);

    const real = new PushSource([{ topic }]);
    const handle = sourceRuntime(real, broker);
    await handle.runtime.start();
    for (const text of range(5)) await real.send(topic, text);
    // Mid-stream and after: in_flight is what the runtime still holds.
    expect(accountingProblems(await handle.metrics.snapshot())).toEqual([]);
    await real.log.changed.until(() => real.log.commits.flat().length === 5);
    await handle.runtime.stop(5_000);
    expect(await expectBalanced(handle.metrics)).toMatchObject({ received: 5, processed: 5, inFlight: 0 });
  });
});

describe('SourceRuntime: stuck-pipeline gauge', () => {
  it('danube_connector_oldest_inflight_age_seconds is the age of the oldest uncommitted record, 0 when none', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic('age');
    const source = new PushSource([{ topic }]);
    const { runtime, metrics, status } = sourceRuntime(source, broker);
    await runtime.start();
    expect(await oldestInFlightAge(metrics)).toBe(0);
    broker.unavailableFor(60_000);
    const before = performance.now();
    await source.send(topic, 'stuck');
    await status.until(() => runtime.status().state === 'degraded');
    const age = (await oldestInFlightAge(metrics)) as number;
    expect(age).toBeGreaterThan(0);
    expect(age).toBeLessThanOrEqual((performance.now() - before) / 1000);
  });
});
