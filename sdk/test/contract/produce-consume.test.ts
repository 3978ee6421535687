import { describe, expect, it } from 'vitest';
import type { SubscriptionType } from '../../src/danube/consumer.js';
import { collect, nextWithin, startTarget, text, uniqueName, uniqueTopic } from './target.js';

const TYPES: SubscriptionType[] = ['exclusive', 'shared', 'failover', 'key_shared'];

describe('produce and consume', () => {
  it.each(TYPES)('round trip on a reliable topic with a %s subscription keeps payload, attributes and order', async (type) => {
    const target = await startTarget();
    const client = target.client();
    const topic = uniqueTopic(type);
    const producer = await client.createProducer({ topic, name: uniqueName('p'), dispatch: 'reliable' });
    const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: uniqueName('s'), type });
    const before = Date.now();
    const receipts = [];
    for (let i = 0; i < 20; i++) {
      receipts.push(await producer.send(`message ${i}`, { key: `k${i % 3}`, attributes: { seq: String(i), source: 'contract' } }));
    }
    const messages = await collect(consumer, 20);
    expect(messages.map(text)).toEqual(Array.from({ length: 20 }, (_, i) => `message ${i}`));
    expect(messages.map((m) => m.attributes.seq)).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    expect(messages.every((m) => m.attributes.source === 'contract')).toBe(true);
    expect(messages.map((m) => m.routingKey)).toEqual(Array.from({ length: 20 }, (_, i) => `k${i % 3}`));
    expect(messages.every((m) => m.producerName === producer.name && m.topic === topic && m.partition === undefined)).toBe(true);
    expect(messages.every((m) => m.publishTime >= before - 1000 && m.publishTime <= Date.now() + 1000)).toBe(true);
    // Reliable offsets are the broker's log positions: strictly increasing (docs/danube-protocol.md §9.3).
    const offsets = messages.map((m) => BigInt(m.offset));
    expect(offsets.every((o, i) => i === 0 || o > (offsets[i - 1] as bigint))).toBe(true);
    // uint64 ids stay decimal strings; the broker's ids are random 64-bit values (docs/danube-protocol.md §2.3).
    expect(messages.every((m) => /^\d+$/.test(m.messageId.producerId))).toBe(true);
    expect(receipts.map((r) => r.topic)).toEqual(Array(20).fill(topic));
    expect(receipts.every((r) => /^\d+$/.test(r.requestId))).toBe(true);
    expect(new Set(receipts.map((r) => r.requestId)).size).toBe(20);
  });

  it('carries an explicit publishTime exactly, and refuses one the uint64 field cannot carry before sending', async () => {
    const target = await startTarget();
    const client = target.client();
    const topic = uniqueTopic('publish-time');
    const producer = await client.createProducer({ topic, name: uniqueName('p'), dispatch: 'reliable' });
    const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: uniqueName('s'), type: 'exclusive' });
    for (const publishTime of [1.5, -1, Number.NaN, 2 ** 53]) {
      await expect(producer.send('bad', { publishTime })).rejects.toMatchObject({ code: 'DC_ERR_INVALID_OPTION', message: expect.stringContaining(`got ${publishTime}`) });
    }
    await producer.send('late', { publishTime: Number.MAX_SAFE_INTEGER });
    await producer.send('epoch', { publishTime: 0 });
    const messages = await collect(consumer, 2);
    expect(messages.map((m) => [text(m), m.publishTime])).toEqual([
      ['late', Number.MAX_SAFE_INTEGER],
      ['epoch', 0],
    ]);
  });

  it('round trip on a non-reliable topic for a subscriber that was there first', async () => {
    const target = await startTarget();
    const client = target.client();
    const topic = uniqueTopic('nr');
    const producer = await client.createProducer({ topic, name: uniqueName('p'), dispatch: 'non_reliable' });
    const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: uniqueName('s'), type: 'exclusive' });
    for (let i = 0; i < 5; i++) await producer.send(Buffer.from([i, 0xff, 0x00]));
    const messages = await collect(consumer, 5);
    expect(messages.map((m) => [...m.payload])).toEqual([0, 1, 2, 3, 4].map((i) => [i, 0xff, 0x00]));
  });

  it('payload bytes pass through untouched, including empty and non-UTF-8 payloads', async () => {
    const target = await startTarget();
    const client = target.client();
    const topic = uniqueTopic('bytes');
    const producer = await client.createProducer({ topic, name: uniqueName('p') });
    const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: uniqueName('s') });
    const payloads = [Buffer.alloc(0), Buffer.from([0xc3, 0x28, 0xff]), Buffer.alloc(64 * 1024, 7)];
    for (const payload of payloads) await producer.send(payload);
    const messages = await collect(consumer, 3);
    expect(messages.map((m) => m.payload.equals(payloads[messages.indexOf(m)] as Buffer))).toEqual([true, true, true]);
  });

  it('a new subscription starts at the end of the topic (docs/danube-protocol.md §9.4)', async () => {
    const target = await startTarget();
    const client = target.client();
    const topic = uniqueTopic('latest');
    const producer = await client.createProducer({ topic, name: uniqueName('p') });
    for (let i = 0; i < 3; i++) await producer.send(`old ${i}`);
    const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: uniqueName('s') });
    for (let i = 0; i < 3; i++) await producer.send(`new ${i}`);
    expect((await collect(consumer, 3)).map(text)).toEqual(['new 0', 'new 1', 'new 2']);
    expect(await nextWithin(consumer, 300)).toBeUndefined();
  });

  it('a shared subscription splits messages between its consumers, each delivered once', async () => {
    const target = await startTarget();
    const client = target.client();
    const topic = uniqueTopic('shared');
    const subscription = uniqueName('s');
    const producer = await client.createProducer({ topic, name: uniqueName('p') });
    const a = await client.subscribe({ topic, name: uniqueName('a'), subscription, type: 'shared' });
    const b = await client.subscribe({ topic, name: uniqueName('b'), subscription, type: 'shared' });
    for (let i = 0; i < 40; i++) await producer.send(String(i));
    const got: string[] = [];
    // Both read until all 40 arrived between them (a quiet second was taken for the end, which a loaded machine
    // can stall past), then show that nothing more comes.
    const all = new AbortController();
    const counts = await Promise.all(
      [a, b].map(async (consumer) => {
        let n = 0;
        while (!all.signal.aborted) {
          const m = await consumer.receive(all.signal).catch((err: unknown) => {
            if (all.signal.aborted) return undefined;
            throw err;
          });
          if (!m) break;
          got.push(text(m));
          await consumer.ack(m);
          n++;
          if (got.length === 40) all.abort();
        }
        return n;
      }),
    );
    expect(await nextWithin(a, 300)).toBeUndefined();
    expect(await nextWithin(b, 300)).toBeUndefined();
    expect(got.sort((x, y) => Number(x) - Number(y))).toEqual(Array.from({ length: 40 }, (_, i) => String(i)));
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[1]).toBeGreaterThan(0);
  });

  it('key_shared with key filters gives each consumer only the keys it asked for', async () => {
    const target = await startTarget();
    const client = target.client();
    const topic = uniqueTopic('ks');
    const subscription = uniqueName('s');
    const producer = await client.createProducer({ topic, name: uniqueName('p') });
    const eu = await client.subscribe({ topic, name: uniqueName('eu'), subscription, type: 'key_shared', keyFilters: ['eu-*'] });
    const us = await client.subscribe({ topic, name: uniqueName('us'), subscription, type: 'key_shared', keyFilters: ['us-?'] });
    for (let i = 0; i < 10; i++) await producer.send(`m${i}`, { key: i % 2 === 0 ? `eu-${i}` : `us-${i}` });
    const euKeys = (await collect(eu, 5)).map((m) => m.routingKey);
    const usKeys = (await collect(us, 5)).map((m) => m.routingKey);
    expect(euKeys).toEqual(['eu-0', 'eu-2', 'eu-4', 'eu-6', 'eu-8']);
    expect(usKeys).toEqual(['us-1', 'us-3', 'us-5', 'us-7', 'us-9']);
  });

  it('an exclusive subscription refuses a consumer with another name, and takes back its own', async () => {
    const target = await startTarget();
    const client = target.client();
    const topic = uniqueTopic('excl');
    const subscription = uniqueName('s');
    await client.createProducer({ topic, name: uniqueName('p') });
    const name = uniqueName('owner');
    const first = await client.subscribe({ topic, name, subscription, type: 'exclusive' });
    await expect(client.subscribe({ topic, name: uniqueName('other'), subscription, type: 'exclusive' })).rejects.toMatchObject({
      code: 'DC_ERR_SUBSCRIPTION_REJECTED',
      retryable: false,
    });
    first.close();
    const again = await client.subscribe({ topic, name, subscription, type: 'exclusive' });
    expect(again.topicNames).toEqual([topic]);
  });

  it('a producer reattaches by name: a second producer with the same name gets the same broker id (docs/danube-protocol.md §8.1)', async () => {
    const target = await startTarget();
    const topic = uniqueTopic('reattach');
    const name = uniqueName('p');
    const first = await target.client().createProducer({ topic, name });
    const second = await target.client().createProducer({ topic, name });
    expect(first.producerIds[0]).toMatch(/^\d+$/);
    expect(second.producerIds).toEqual(first.producerIds);
    const consumer = await target.client().subscribe({ topic, name: uniqueName('c'), subscription: uniqueName('s') });
    await second.send('from the second');
    await first.send('from the first');
    expect((await collect(consumer, 2)).map(text)).toEqual(['from the second', 'from the first']);
  });
});
