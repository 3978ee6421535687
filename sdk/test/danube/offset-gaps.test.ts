import { describe, expect, it, onTestFinished } from 'vitest';
import type { OffsetGap } from '../../src/danube/consumer.js';
import { DanubeClient } from '../../src/danube/danube-client.js';
import type { DanubeMessage } from '../../src/danube/message.js';
import type { TestBrokerOptions } from '@danube-connect/testing';
import { uniqueName, uniqueTopic } from '../contract/target.js';
import { RawClients, subscribeRequest } from '../../../testing/test/helpers.js';
import { startBroker } from '../broker.js';

/** A broker, a client, a reliable topic with a producer, and an Exclusive consumer recording its gaps. */
async function setup(broker: TestBrokerOptions = {}, type: 'exclusive' | 'failover' | 'shared' = 'exclusive') {
  const testBroker = await startBroker(broker);
  const client = new DanubeClient({ serviceUrl: testBroker.serviceUrl, retry: { initialDelayMs: 20, maxDelayMs: 200 }, healthCheckIntervalMs: 200 });
  onTestFinished(() => client.close(1_000));
  const topic = uniqueTopic('gaps');
  const producer = await client.createProducer({ topic, name: uniqueName('p') });
  const gaps: OffsetGap[] = [];
  const name = uniqueName('c');
  const subscription = uniqueName('s');
  const consumer = await client.subscribe({ topic, name, subscription, type, onGap: (gap) => gaps.push(gap) });
  const send = async (count: number, prefix = 'm') => {
    for (let i = 0; i < count; i++) await producer.send(`${prefix}${i}`);
  };
  return { broker: testBroker, client, topic, producer, consumer, gaps, name, subscription, send };
}

/** Receives until `count` distinct offsets arrived, acking each (nack instead where `nack` says so). */
async function drain(
  consumer: { receive(): Promise<DanubeMessage>; ack(m: DanubeMessage): Promise<void>; nack(m: DanubeMessage): Promise<void> },
  count: number,
  nack: (m: DanubeMessage, seen: number) => boolean = () => false,
  offsets = new Set<string>(),
) {
  const deliveries: string[] = [];
  while (offsets.size < count) {
    const message = await consumer.receive();
    deliveries.push(message.offset);
    if (nack(message, deliveries.filter((o) => o === message.offset).length)) {
      consumer.nack(message).catch(() => undefined);
    } else {
      offsets.add(message.offset);
      // Not awaited, as a pipelining consumer does; acks still queued when the client closes are refused.
      consumer.ack(message).catch(() => undefined);
    }
  }
  return { offsets, deliveries };
}

describe('Consumer reports offset gaps on Exclusive and Failover subscriptions (docs/danube-protocol.md §9.4)', () => {
  it.each(['exclusive', 'failover'] as const)('a %s subscription that lags behind the live tail reports the skipped range', async (type) => {
    const { consumer, gaps, topic, subscription, name, send } = await setup({ liveTailCapacity: 20 }, type);
    // Nothing is acked while 100 messages are published: the window (10) fills and the rest lags behind.
    await send(100);
    const { offsets } = await drain(consumer, 30);
    expect([...offsets].map(Number).sort((a, b) => a - b)).toEqual([...Array.from({ length: 10 }, (_, i) => i), ...Array.from({ length: 20 }, (_, i) => 80 + i)]);
    expect(gaps).toEqual([{ topic, subscription, consumer: name, firstOffset: '10', lastOffset: '79', count: 70 }]);
  });

  it('nacks and redeliveries out of order count no gap', async () => {
    const { consumer, gaps, send } = await setup();
    await send(40);
    // Every third message is nacked once and comes back later, after newer ones.
    const { deliveries } = await drain(consumer, 40, (m, seen) => Number(m.offset) % 3 === 0 && seen === 1);
    expect(deliveries.length).toBeGreaterThan(40);
    expect(gaps).toEqual([]);
  });

  it('poison policy Drop counts no gap', async () => {
    const { consumer, gaps, send } = await setup({ failurePolicy: { poisonPolicy: 'drop', maxRedeliveryCount: 1 } });
    await send(20);
    // Offset 5 is nacked every time until the broker drops it; the others are acked.
    const { offsets } = await drain(consumer, 19, (m) => m.offset === '5');
    expect(offsets.has('5')).toBe(false);
    await send(10, 'after');
    await drain(consumer, 10);
    expect(gaps).toEqual([]);
  });

  it('a takeover by another consumer of the same name, and the way back, count no gap', async () => {
    const { broker, consumer, gaps, send, topic, name, subscription } = await setup();
    await send(15);
    const { offsets } = await drain(consumer, 5);
    // Another process attaches under the same name (docs/danube-protocol.md §9.1): our stream ends and the client takes it back.
    const raw = new RawClients(broker.serviceUrl);
    await raw.danube('ConsumerService', 'Subscribe', subscribeRequest(topic, { consumer_name: name, subscription }));
    await send(15, 'later');
    await drain(consumer, 30, undefined, offsets);
    expect(offsets.size).toBe(30);
    expect(gaps).toEqual([]);
  });

  it('a reconnect counts no gap', async () => {
    const { broker, consumer, gaps, send } = await setup();
    await send(15);
    const { offsets } = await drain(consumer, 8);
    await broker.dropConnections();
    await send(15, 'later');
    // Acks lost with the connection mean redeliveries: count distinct offsets over both halves.
    await drain(consumer, 30, undefined, offsets);
    expect(offsets.size).toBe(30);
    expect(gaps).toEqual([]);
  });

  it('Shared subscriptions are not checked (offsets interleave across consumers)', async () => {
    const { consumer, gaps, send } = await setup({ liveTailCapacity: 20 }, 'shared');
    await send(100);
    await drain(consumer, 30);
    expect(gaps).toEqual([]);
  });
});
