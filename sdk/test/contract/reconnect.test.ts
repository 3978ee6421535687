import { EventEmitter, once } from 'node:events';
import { describe, expect } from 'vitest';
import { collect, collectDistinct, itWithTestBroker, startTarget, text, uniqueName, uniqueTopic } from './target.js';

// A resend after a lost response is stored again under a new offset, so here distinct means distinct payload.
const byPayload = { keyOf: text };

/** Producers here retry until the broker is back, quickly, so a case rides out every fault it injects. */
const RETRY_UNTIL_BACK = { maxRetries: Infinity, initialDelayMs: 20, maxDelayMs: 300 };

// Every case here injects faults into the TestBroker, so none can run against DANUBE_SERVICE_URL.
describe('reconnect and recovery: nothing lost on a reliable topic', () => {
  itWithTestBroker('the broker drops every connection mid-stream: all sends resolve and every message arrives', async () => {
    const target = await startTarget();
    const client = target.client();
    const topic = uniqueTopic('drop');
    const producer = await client.createProducer({ topic, name: uniqueName('p'), partitions: 2, retry: RETRY_UNTIL_BACK });
    const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: uniqueName('s') });
    const total = 300;
    const sends = [];
    for (let i = 0; i < total; i++) {
      sends.push(producer.send(String(i), { key: `k${i % 7}` }));
      if (i === 100 || i === 200) {
        await sends[i];
        await target.broker!.dropConnections();
      }
    }
    await Promise.all(sends);
    const distinct = await collectDistinct(consumer, total, byPayload);
    expect(new Set(distinct.map(text)).size).toBe(total);
    // Per key, the broker stored messages in send order although connections dropped twice.
    for (const topicName of consumer.topicNames) {
      const stored = target.broker!.storedMessages(topicName).map((m) => Number(m.payload.toString()));
      for (let k = 0; k < 7; k++) {
        const ofKey = stored.filter((n) => n % 7 === k);
        const firsts = ofKey.filter((n, i) => ofKey.indexOf(n) === i);
        expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
      }
    }
  });

  itWithTestBroker('the broker sends GOAWAY and then resets its connections (CANCEL) mid-stream: sends retry, the consumer resubscribes, every message arrives', async () => {
    const target = await startTarget();
    const client = target.client();
    const topic = uniqueTopic('goaway');
    const producer = await client.createProducer({ topic, name: uniqueName('p'), retry: RETRY_UNTIL_BACK });
    const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: uniqueName('s') });
    const total = 300;
    const sends = [];
    for (let i = 0; i < total; i++) {
      sends.push(producer.send(String(i)));
      // A short grace: connections opened after the GOAWAY are reset with CANCEL when it ends, calls on them too.
      if (i === 100 || i === 200) {
        await sends[i];
        target.broker!.goAway(30);
      }
    }
    await Promise.all(sends);
    const distinct = await collectDistinct(consumer, total, byPayload);
    expect(new Set(distinct.map(text)).size).toBe(total);
  });

  itWithTestBroker('the broker restarts and forgets producers and consumers: both are recreated by name and carry on', async () => {
    const target = await startTarget();
    const client = target.client();
    const topic = uniqueTopic('restart');
    const producer = await client.createProducer({ topic, name: uniqueName('p'), retry: RETRY_UNTIL_BACK });
    const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: uniqueName('s') });
    for (let i = 0; i < 10; i++) await producer.send(`before ${i}`);
    await collect(consumer, 10);
    await target.broker!.restart();
    for (let i = 0; i < 10; i++) await producer.send(`after ${i}`);
    const distinct = await collectDistinct(consumer, 10, byPayload);
    expect(distinct.map(text).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `after ${i}`).sort());
  });

  itWithTestBroker('the broker answers UNAVAILABLE for a while: creation and sends retry until it is back', async () => {
    const target = await startTarget();
    const client = target.client();
    const topic = uniqueTopic('unavail');
    target.broker!.unavailableFor(400);
    const producer = await client.createProducer({ topic, name: uniqueName('p'), retry: { maxRetries: Infinity, initialDelayMs: 20, maxDelayMs: 100 } });
    const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: uniqueName('s') });
    target.broker!.unavailableFor(300);
    const receipts = await Promise.all(Array.from({ length: 20 }, (_, i) => producer.send(String(i))));
    expect(receipts).toHaveLength(20);
    expect((await collect(consumer, 20)).map(text)).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
  });

  itWithTestBroker('finite retries: an outage longer than the retries fails the send with a retryable DC_ERR_UNAVAILABLE', async () => {
    const target = await startTarget();
    const producer = await target.client().createProducer({ topic: uniqueTopic('giveup'), name: uniqueName('p'), retry: { maxRetries: 2, initialDelayMs: 10, maxDelayMs: 20 } });
    target.broker!.unavailableFor(5_000);
    await expect(producer.send('x')).rejects.toMatchObject({ code: 'DC_ERR_UNAVAILABLE', retryable: true });
  });

  itWithTestBroker('the broker ends consumer streams: the consumer resubscribes and unacked messages come back', async () => {
    const target = await startTarget();
    const client = target.client();
    const topic = uniqueTopic('endstream');
    const producer = await client.createProducer({ topic, name: uniqueName('p') });
    const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: uniqueName('s') });
    for (let i = 0; i < 5; i++) await producer.send(String(i));
    const unacked = await collect(consumer, 5, { ack: false });
    target.broker!.endConsumerStreams();
    for (let i = 5; i < 10; i++) await producer.send(String(i));
    const distinct = await collectDistinct(consumer, 10, byPayload);
    expect(unacked).toHaveLength(5);
    expect(distinct.map(text).sort()).toEqual(Array.from({ length: 10 }, (_, i) => String(i)).sort());
  });

  itWithTestBroker('after a restart the health check recreates an idle producer before its next send', async () => {
    const target = await startTarget();
    const events = new EventEmitter();
    const emit = (obj: object, msg?: string) => events.emit(msg ?? '', obj);
    const client = target.client({ healthCheckIntervalMs: 50, logger: { debug: emit, info: emit, warn: emit, error: emit } });
    const producer = await client.createProducer({ topic: uniqueTopic('health'), name: uniqueName('p') });
    const before = producer.producerIds[0];
    const reattached = once(events, 'producer attached');
    await target.broker!.restart();
    // The restarted broker forgot the producer: the health loop hears CLOSE and recreates it, no send needed.
    const [attached] = (await reattached) as [{ producerId: string }];
    expect(attached.producerId).toMatch(/^\d+$/);
    expect(attached.producerId).not.toBe(before);
    expect(producer.producerIds[0]).toBe(attached.producerId);
  });
});
