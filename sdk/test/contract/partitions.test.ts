import { describe, expect, it } from 'vitest';
import { fnv1a64 } from '../../src/danube/partition-router.js';
import { collect, collectDistinct, itWithTestBroker, startTarget, text, uniqueName, uniqueTopic } from './target.js';

describe('partitioned topics', () => {
  it('routes a key to FNV-1a 64 mod N, keeps per-key order, and one consumer reads every partition', async () => {
    const target = await startTarget();
    const client = target.client();
    const topic = uniqueTopic('parts');
    const producer = await client.createProducer({ topic, name: uniqueName('p'), partitions: 4 });
    expect(await client.topicPartitions(topic)).toEqual([0, 1, 2, 3].map((i) => `${topic}-part-${i}`));
    const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: uniqueName('s') });
    expect(consumer.topicNames.sort()).toEqual([0, 1, 2, 3].map((i) => `${topic}-part-${i}`));
    const keys = ['sensor-1', 'sensor-2', 'sensor-3', 'sensor-4', 'sensor-5'];
    for (let i = 0; i < 50; i++) {
      const key = keys[i % keys.length] as string;
      const receipt = await producer.send(`${key}:${i}`, { key });
      expect(receipt.partition).toBe(Number(fnv1a64(key) % 4n));
      expect(receipt.topic).toBe(`${topic}-part-${receipt.partition}`);
    }
    const messages = await collect(consumer, 50);
    for (const key of keys) {
      const ofKey = messages.filter((m) => m.routingKey === key);
      expect(ofKey).toHaveLength(10);
      expect(new Set(ofKey.map((m) => m.partition))).toEqual(new Set([Number(fnv1a64(key) % 4n)]));
      const seqs = ofKey.map((m) => Number(text(m).split(':')[1]));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
  });

  it('spreads keyless messages round-robin from partition 0', async () => {
    const target = await startTarget();
    const producer = await target.client().createProducer({ topic: uniqueTopic('rr'), name: uniqueName('p'), partitions: 3 });
    const partitions = [];
    for (let i = 0; i < 7; i++) partitions.push((await producer.send('x')).partition);
    expect(partitions).toEqual([0, 1, 2, 0, 1, 2, 0]);
  });

  it('ordering "partition" stores every partition in send order even with a full window of concurrent sends', async () => {
    const target = await startTarget();
    const client = target.client();
    const topic = uniqueTopic('order');
    const producer = await client.createProducer({ topic, name: uniqueName('p'), partitions: 4, ordering: 'partition', maxInFlight: 64 });
    const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: uniqueName('s') });
    const sends = [];
    for (let i = 0; i < 400; i++) sends.push(producer.send(String(i), { key: `k${i % 16}` }));
    const receipts = await Promise.all(sends);
    const messages = await collectDistinct(consumer, 400);
    for (let p = 0; p < 4; p++) {
      const sent = receipts.map((r, i) => [r, i] as const).filter(([r]) => r.partition === p).map(([, i]) => String(i));
      const got = messages.filter((m) => m.partition === p).sort((a, b) => Number(BigInt(a.offset) - BigInt(b.offset)));
      expect(got.map(text)).toEqual(sent);
    }
  });

  it('ordering "none" delivers every message with the whole window in flight', async () => {
    const target = await startTarget();
    const client = target.client();
    const topic = uniqueTopic('unordered');
    const producer = await client.createProducer({ topic, name: uniqueName('p'), ordering: 'none', maxInFlight: 32 });
    const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: uniqueName('s') });
    await Promise.all(Array.from({ length: 200 }, (_, i) => producer.send(String(i))));
    const got = (await collect(consumer, 200)).map((m) => Number(text(m)));
    expect(got.sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  // Holding the window full needs broker-side ack delay (TestBroker.delayAcks).
  itWithTestBroker('send() waits while the in-flight window is full: never more than maxInFlight outstanding', async () => {
    const target = await startTarget();
    target.broker?.delayAcks(20);
    const producer = await target.client().createProducer({ topic: uniqueTopic('window'), name: uniqueName('p'), ordering: 'none', maxInFlight: 4 });
    let peak = 0;
    let accepted = 0;
    const sends = Array.from({ length: 40 }, (_, i) =>
      producer.send(String(i)).then((r) => {
        accepted++;
        return r;
      }),
    );
    const sampler = setInterval(() => (peak = Math.max(peak, producer.inFlight)), 1);
    await Promise.all(sends);
    clearInterval(sampler);
    expect(accepted).toBe(40);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(4);
    expect(producer.inFlight).toBe(0);
  });
});
