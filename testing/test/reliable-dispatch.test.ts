import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { StreamMessageWire } from '@danube-connect/sdk/internal';
import { openConsumer, openProducer, RawClients, startBroker, subscribeRequest } from './helpers.js';
import type { TestBrokerOptions } from '../src/index.js';

/** Only used to show that nothing *more* arrives; every positive expectation waits for its event. */
const QUIET_MS = 150;

const payloads = (messages: StreamMessageWire[]) => messages.map((m) => m.payload.toString());

async function reliableSetup(options: TestBrokerOptions = {}, topic = '/default/rel') {
  const broker = await startBroker(options);
  const clients = new RawClients(broker.serviceUrl);
  const producer = await openProducer(clients, topic, { dispatch_strategy: 'Reliable' });
  return { broker, clients, producer, topic };
}

describe('Reliable dispatch (docs/danube-protocol.md §9.4)', () => {
  it('starts a new subscription at the end of the topic and delivers log offsets', async () => {
    const { clients, producer, topic } = await reliableSetup();
    await producer.send('old-0');
    await producer.send('old-1');
    const consumer = await openConsumer(clients, topic);
    await producer.send('new', { request_id: '31' });
    const received = await consumer.reader.next();
    expect(received.payload.toString()).toBe('new');
    expect(received.msg_id?.topic_offset).toBe('2');
    expect(received.request_id).toBe('31');
    expect(received.subscription_name).toBe('');
    await sleep(QUIET_MS);
    expect(consumer.reader.pending).toBe(0);
  });

  it('liveTailCapacity: a subscription more than that far behind the end skips the oldest undelivered messages', async () => {
    const { clients, producer, topic } = await reliableSetup({ maxUnackedMessages: 2, liveTailCapacity: 3, failurePolicy: { ackTimeoutMs: 60_000 } });
    const consumer = await openConsumer(clients, topic);
    for (let i = 0; i < 10; i++) await producer.send(`m${i}`);
    const window = await consumer.reader.take(2);
    expect(payloads(window)).toEqual(['m0', 'm1']);
    for (const message of window) await consumer.ack(message);
    // m2..m6 fell out of the 3-message live tail: the next ones are m7, m8 (then m9).
    const next = await consumer.reader.take(2);
    expect(next.map((m) => m.msg_id?.topic_offset)).toEqual(['7', '8']);
  });

  it('dropConsumed: frees what no subscription can read any more, keeps what one still may', async () => {
    const { broker, clients, producer, topic } = await reliableSetup({ dropConsumed: true, failurePolicy: { ackTimeoutMs: 60_000 } });
    const offsets = () => broker.storedMessages(topic).map((m) => m.offset);
    // No subscription: a new one would start after these, so they go at once.
    await producer.send('before-0');
    await producer.send('before-1');
    expect(offsets()).toEqual([]);
    const live = await openConsumer(clients, topic);
    const away = await openConsumer(clients, topic, { subscription: 's2', consumer_name: 'c2' });
    away.reader.cancel();
    await producer.send('m2');
    const m2 = await live.reader.next();
    await live.ack(m2);
    await producer.send('m3');
    // s1 acked m2, but s2 (away) has not read it: kept, and delivered when s2 comes back.
    expect(offsets()).toEqual([2, 3]);
    const back = await openConsumer(clients, topic, { subscription: 's2', consumer_name: 'c2' });
    const again = await back.reader.take(2);
    expect(payloads(again)).toEqual(['m2', 'm3']);
    for (const message of again) await back.ack(message);
    await live.ack(await live.reader.next());
    await producer.send('m4');
    // Both acked m2 and m3; m4 is unacked on both.
    expect(offsets()).toEqual([4]);
    expect((await live.reader.next()).msg_id?.topic_offset).toBe('4');
  });

  it('keeps the whole log by default', async () => {
    const { broker, clients, producer, topic } = await reliableSetup();
    await producer.send('before');
    const consumer = await openConsumer(clients, topic);
    await producer.send('m1');
    await consumer.ack(await consumer.reader.next());
    await producer.send('m2');
    expect(broker.storedMessages(topic).map((m) => m.offset)).toEqual([0, 1, 2]);
  });

  it('resumes an existing subscription from its cursor', async () => {
    const { clients, producer, topic } = await reliableSetup();
    const consumer = await openConsumer(clients, topic);
    consumer.reader.cancel();
    await producer.send('while-away');
    const again = await openConsumer(clients, topic);
    expect(again.id).toBe(consumer.id);
    expect((await again.reader.next()).payload.toString()).toBe('while-away');
  });

  it('keeps at most maxUnackedMessages in flight and continues as acks arrive', async () => {
    const { clients, producer, topic } = await reliableSetup({ maxUnackedMessages: 3, failurePolicy: { ackTimeoutMs: 60_000 } });
    const consumer = await openConsumer(clients, topic);
    for (let i = 0; i < 5; i++) await producer.send(`m${i}`);
    const first = await consumer.reader.take(3);
    expect(payloads(first)).toEqual(['m0', 'm1', 'm2']);
    await sleep(QUIET_MS);
    expect(consumer.reader.pending).toBe(0);
    await consumer.ack(first[1] as StreamMessageWire);
    expect((await consumer.reader.next()).payload.toString()).toBe('m3');
    // Late, duplicate and unknown acks are ignored.
    await consumer.ack(first[1] as StreamMessageWire);
    const unknown = first[0] as StreamMessageWire;
    await consumer.ack({ ...unknown, msg_id: { ...(unknown.msg_id as NonNullable<StreamMessageWire['msg_id']>), topic_offset: '999' } });
    await sleep(QUIET_MS);
    expect(consumer.reader.pending).toBe(0);
    await consumer.ack(first[0] as StreamMessageWire);
    expect((await consumer.reader.next()).payload.toString()).toBe('m4');
  });

  it('redelivers after the ack timeout with the same offset and request_id', async () => {
    // The ack of the copy must beat the next ack timeout: 100 ms lost that race on a loaded machine, 1 s does not.
    const policy = { ackTimeoutMs: 1_000, baseRedeliveryDelayMs: 20 };
    const { clients, producer, topic } = await reliableSetup({ failurePolicy: policy });
    const consumer = await openConsumer(clients, topic);
    await producer.send('slow', { request_id: '5' });
    const first = await consumer.reader.next();
    const second = await consumer.reader.next();
    expect(second.payload.toString()).toBe('slow');
    expect(second.msg_id).toEqual(first.msg_id);
    expect(second.request_id).toBe('5');
    await consumer.ack(second);
    // A whole ack timeout and redelivery delay: an unacked copy would be back by then.
    await sleep(policy.ackTimeoutMs + policy.baseRedeliveryDelayMs + QUIET_MS);
    expect(consumer.reader.pending).toBe(0);
  });

  it('redelivers a nacked message (delay_ms only lengthens the wait)', async () => {
    const { clients, producer, topic } = await reliableSetup({ failurePolicy: { ackTimeoutMs: 60_000, baseRedeliveryDelayMs: 20 } });
    const consumer = await openConsumer(clients, topic);
    await producer.send('retry-me');
    const first = await consumer.reader.next();
    await consumer.nack(first, { delay_ms: '0', reason: 'try again' });
    const again = await consumer.reader.next();
    expect(again.msg_id?.topic_offset).toBe(first.msg_id?.topic_offset);
    await consumer.nack(again, { delay_ms: '60' });
    expect((await consumer.reader.next()).payload.toString()).toBe('retry-me');
  });

  it('blocks an Exclusive subscription behind an exhausted message with the default poison policy', async () => {
    const { clients, producer, topic } = await reliableSetup({ failurePolicy: { maxRedeliveryCount: 1, ackTimeoutMs: 60_000 } });
    const consumer = await openConsumer(clients, topic);
    await producer.send('poison');
    await producer.send('behind');
    // The window lets both go out before the failure.
    const [poison, behind] = await consumer.reader.take(2);
    await consumer.ack(behind as StreamMessageWire);
    await consumer.nack(poison as StreamMessageWire);
    const redelivered = await consumer.reader.next();
    expect(redelivered.payload.toString()).toBe('poison');
    await consumer.nack(redelivered);
    await producer.send('newer');
    await sleep(QUIET_MS);
    expect(consumer.reader.pending).toBe(0);
  });

  it('drops an exhausted message with poisonPolicy drop and moves on', async () => {
    const { clients, producer, topic } = await reliableSetup({
      maxUnackedMessages: 1,
      failurePolicy: { maxRedeliveryCount: 0, poisonPolicy: 'drop', ackTimeoutMs: 60_000 },
    });
    const consumer = await openConsumer(clients, topic);
    await producer.send('bad');
    await producer.send('good');
    const bad = await consumer.reader.next();
    expect(bad.payload.toString()).toBe('bad');
    await consumer.nack(bad);
    expect((await consumer.reader.next()).payload.toString()).toBe('good');
  });

  it('copies an exhausted message to the dead-letter topic with x-original-* attributes', async () => {
    const { broker, clients, producer, topic } = await reliableSetup({
      maxUnackedMessages: 1,
      failurePolicy: { maxRedeliveryCount: 1, poisonPolicy: 'dead_letter', deadLetterTopic: '/default/dlq', ackTimeoutMs: 60_000 },
    });
    broker.createTopic('/default/dlq', { dispatch: 'reliable' });
    const dlqConsumer = await openConsumer(clients, '/default/dlq', { subscription: 'dlq-reader' });
    const consumer = await openConsumer(clients, topic);
    await producer.send('doomed', { attributes: { mine: 'yes' }, routing_key: 'rk' });
    await producer.send('next');
    const first = await consumer.reader.next();
    await consumer.nack(first, { reason: 'bad data' });
    await consumer.nack(await consumer.reader.next(), { reason: 'still bad' });
    expect((await consumer.reader.next()).payload.toString()).toBe('next');
    const copy = await dlqConsumer.reader.next();
    expect(copy.payload.toString()).toBe('doomed');
    expect(copy.msg_id).toMatchObject({ producer_id: '0', topic_name: '/default/dlq', topic_offset: '0' });
    expect(copy.routing_key).toBe('rk');
    expect(copy.attributes).toEqual({
      mine: 'yes',
      'x-original-topic': topic,
      'x-original-subscription': 's1',
      'x-original-topic-offset': '0',
      'x-original-producer-id': producer.id,
      'x-original-broker-addr': 'http://127.0.0.1:1',
      'x-poison-policy': 'dead_letter',
      'x-delivery-attempt': '2',
      'x-failure-reason': 'still bad',
    });
    expect(broker.storedMessages('/default/dlq')[0]).toMatchObject({ producerId: '0', offset: 0 });
  });

  it('redelivers the in-flight messages of a departed Shared consumer to the others at once', async () => {
    const { clients, producer, topic } = await reliableSetup({ failurePolicy: { ackTimeoutMs: 60_000 } });
    const a = await openConsumer(clients, topic, { consumer_name: 'a', subscription_type: 'Shared' });
    const b = await openConsumer(clients, topic, { consumer_name: 'b', subscription_type: 'Shared' });
    for (let i = 0; i < 4; i++) await producer.send(`m${i}`);
    const [toA] = await a.reader.take(2);
    await b.reader.take(2);
    a.reader.cancel();
    const moved = await b.reader.take(2);
    expect(moved.map((m) => m.msg_id?.topic_offset).sort()).toContain(toA?.msg_id?.topic_offset);
  });

  it('redelivers to a returning Exclusive consumer what it left unacked', async () => {
    const { clients, producer, topic } = await reliableSetup({ failurePolicy: { ackTimeoutMs: 60_000 } });
    const consumer = await openConsumer(clients, topic);
    await producer.send('unacked');
    const first = await consumer.reader.next();
    consumer.reader.cancel();
    const back = await openConsumer(clients, topic);
    const again = await back.reader.next();
    expect(again.msg_id).toEqual(first.msg_id);
  });

  it('redelivers in-flight messages at once when Subscribe takes a consumer over', async () => {
    const { clients, producer, topic } = await reliableSetup({ failurePolicy: { ackTimeoutMs: 60_000 } });
    const consumer = await openConsumer(clients, topic);
    await producer.send('held');
    const first = await consumer.reader.next();
    const takeover = await clients.danube('ConsumerService', 'Subscribe', subscribeRequest(topic));
    expect(takeover.consumer_id).toBe(consumer.id);
    const reader = clients.receive(consumer.id);
    expect((await reader.next()).msg_id).toEqual(first.msg_id);
  });
});
