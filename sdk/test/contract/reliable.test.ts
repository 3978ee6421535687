import { describe, expect, it } from 'vitest';
import { collect, FAST_POLICY, itWithTestBroker, nextWithin, REDELIVERY_WAIT_MS, startTarget, text, uniqueName, uniqueTopic } from './target.js';

describe('reliable dispatch: ack, nack, redelivery (docs/danube-protocol.md §9.4)', () => {
  it('an acked message is not delivered again', async () => {
    const target = await startTarget({ failurePolicy: FAST_POLICY });
    const client = target.client();
    const topic = uniqueTopic('ack');
    const producer = await client.createProducer({ topic, name: uniqueName('p') });
    const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: uniqueName('s') });
    await producer.send('once');
    expect((await collect(consumer, 1)).map(text)).toEqual(['once']);
    // Longer than the TestBroker's ack timeout plus redelivery delay: an acked message stays acked.
    expect(await nextWithin(consumer, target.broker ? FAST_POLICY.ackTimeoutMs + 600 : 3_000)).toBeUndefined();
  });

  it(
    'an unacked message is redelivered after the ack timeout with the same offset [slow against a real broker: its ack timeout is 30 s]',
    async () => {
      const target = await startTarget({ failurePolicy: FAST_POLICY });
      const client = target.client();
      const topic = uniqueTopic('timeout');
      const producer = await client.createProducer({ topic, name: uniqueName('p') });
      const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: uniqueName('s') });
      await producer.send('not acked');
      const [first] = await collect(consumer, 1, { ack: false });
      const [again] = await collect(consumer, 1, { timeoutMs: REDELIVERY_WAIT_MS });
      expect(text(again!)).toBe('not acked');
      expect(again!.offset).toBe(first!.offset);
    },
    REDELIVERY_WAIT_MS + 10_000,
  );

  it('a nacked message is redelivered (after at least the policy delay) and can then be acked', async () => {
    const target = await startTarget({ failurePolicy: FAST_POLICY });
    const client = target.client();
    const topic = uniqueTopic('nack');
    const producer = await client.createProducer({ topic, name: uniqueName('p') });
    const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: uniqueName('s') });
    await producer.send('retry me');
    const [first] = await collect(consumer, 1, { ack: false });
    await consumer.nack(first!, { delayMs: 0, reason: 'contract test' });
    const [again] = await collect(consumer, 1, { timeoutMs: REDELIVERY_WAIT_MS });
    expect(again!.offset).toBe(first!.offset);
    expect(await nextWithin(consumer, target.broker ? FAST_POLICY.ackTimeoutMs + 600 : 3_000)).toBeUndefined();
  });

  it('at most 10 messages are unacked per subscription; an ack releases the next', async () => {
    const target = await startTarget();
    const client = target.client();
    const topic = uniqueTopic('window');
    const producer = await client.createProducer({ topic, name: uniqueName('p') });
    const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: uniqueName('s') });
    for (let i = 0; i < 15; i++) await producer.send(String(i));
    const first = await collect(consumer, 10, { ack: false });
    expect(first.map(text)).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
    expect(await nextWithin(consumer, 200)).toBeUndefined();
    await consumer.ack(first[0]!);
    const [eleventh] = await collect(consumer, 1, { ack: false });
    expect(text(eleventh!)).toBe('10');
  });

  itWithTestBroker('after max redeliveries a poison message goes to the dead-letter topic with its origin attributes', async () => {
    const dlq = uniqueTopic('dlq');
    const target = await startTarget({ failurePolicy: { maxRedeliveryCount: 1, poisonPolicy: 'dead_letter', deadLetterTopic: dlq } });
    const client = target.client();
    const topic = uniqueTopic('poison');
    const subscription = uniqueName('s');
    const producer = await client.createProducer({ topic, name: uniqueName('p') });
    await client.createProducer({ topic: dlq, name: uniqueName('dlqp') });
    const dead = await client.subscribe({ topic: dlq, name: uniqueName('d'), subscription: uniqueName('ds') });
    const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription });
    await producer.send('poison');
    await producer.send('healthy');
    for (let delivery = 0; delivery < 2; delivery++) {
      for (;;) {
        const m = (await collect(consumer, 1, { ack: false, timeoutMs: REDELIVERY_WAIT_MS }))[0]!;
        if (text(m) === 'poison') {
          await consumer.nack(m, { reason: 'cannot parse' });
          break;
        }
        await consumer.ack(m);
      }
    }
    const [letter] = await collect(dead, 1, { timeoutMs: REDELIVERY_WAIT_MS });
    expect(text(letter!)).toBe('poison');
    expect(letter!.attributes).toMatchObject({ 'x-original-topic': topic, 'x-original-subscription': subscription });
  });
});
