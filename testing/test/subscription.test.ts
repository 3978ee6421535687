import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { StreamMessageWire } from '@danube-connect/sdk/internal';
import { openConsumer, openProducer, RawClients, startBroker, subscribeRequest, until } from './helpers.js';

/** Only used to show that nothing *more* arrives; every positive expectation waits for its event. */
const QUIET_MS = 150;

const payloads = (messages: StreamMessageWire[]) => messages.map((m) => m.payload.toString());

describe.each(['Reliable', 'NonReliable'] as const)('subscription types on %s topics (docs/danube-protocol.md §9.5)', (dispatch) => {
  async function setup() {
    const broker = await startBroker({ failurePolicy: { ackTimeoutMs: 60_000 } });
    const clients = new RawClients(broker.serviceUrl);
    const topic = `/default/types-${dispatch}`;
    const producer = await openProducer(clients, topic, { dispatch_strategy: dispatch });
    return { broker, clients, producer, topic };
  }

  it('Shared spreads messages round-robin over active consumers', async () => {
    const { clients, producer, topic } = await setup();
    const a = await openConsumer(clients, topic, { consumer_name: 'a', subscription_type: 'Shared' });
    const b = await openConsumer(clients, topic, { consumer_name: 'b', subscription_type: 'Shared' });
    for (let i = 0; i < 6; i++) await producer.send(`m${i}`);
    const fromA = payloads(await a.reader.take(3));
    const fromB = payloads(await b.reader.take(3));
    expect([...fromA, ...fromB].sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    expect(fromA.length).toBe(3);
  });

  it('Failover gives everything to the first attached consumer and switches to a standby when it leaves', async () => {
    const { clients, producer, topic } = await setup();
    const primary = await openConsumer(clients, topic, { consumer_name: 'primary', subscription_type: 'Failover' });
    const standby = await openConsumer(clients, topic, { consumer_name: 'standby', subscription_type: 'Failover' });
    for (let i = 0; i < 3; i++) await producer.send(`m${i}`);
    expect(payloads(await primary.reader.take(3))).toEqual(['m0', 'm1', 'm2']);
    await sleep(QUIET_MS);
    expect(standby.reader.pending).toBe(0);
    primary.reader.cancel();
    if (dispatch === 'Reliable') {
      // The unacked messages of the departed primary move to the standby.
      expect(payloads(await standby.reader.take(3))).toEqual(['m0', 'm1', 'm2']);
    }
    await producer.send('after-switch');
    expect((await standby.reader.next()).payload.toString()).toBe('after-switch');
  });

  it('KeyShared keeps a key on one consumer, falls back to producer_name, and honours key_filters', async () => {
    const { clients, producer, topic } = await setup();
    const a = await openConsumer(clients, topic, { consumer_name: 'a', subscription_type: 'KeyShared', key_filters: ['eu-*'] });
    const b = await openConsumer(clients, topic, { consumer_name: 'b', subscription_type: 'KeyShared', key_filters: ['us-?'] });
    await producer.send('eu', { routing_key: 'eu-west' });
    await producer.send('us', { routing_key: 'us-1' });
    await producer.send('nobody', { routing_key: 'asia' });
    await producer.send('eu-again', { routing_key: 'eu-north' });
    expect(payloads(await a.reader.take(2))).toEqual(['eu', 'eu-again']);
    expect(payloads(await b.reader.take(1))).toEqual(['us']);
    await sleep(QUIET_MS);
    expect(a.reader.pending + b.reader.pending).toBe(0);

    // Without filters every key has an owner; the same key always lands on the same consumer.
    const c = await openConsumer(clients, topic, { consumer_name: 'c', subscription: 's2', subscription_type: 'KeyShared' });
    const d = await openConsumer(clients, topic, { consumer_name: 'd', subscription: 's2', subscription_type: 'KeyShared' });
    // 8 messages stay within the Reliable window, so no ack is needed here.
    for (let i = 0; i < 8; i++) await producer.send(`k${i % 4}`, { routing_key: `key-${i % 4}` });
    await until(() => c.reader.messages.length + d.reader.messages.length === 8);
    const owner = new Map<string, Set<string>>();
    for (const consumer of [c, d]) {
      for (const m of consumer.reader.messages) {
        if (!m.routing_key) continue;
        const set = owner.get(m.routing_key) ?? new Set<string>();
        set.add(consumer.id);
        owner.set(m.routing_key, set);
      }
    }
    for (const set of owner.values()) expect(set.size).toBe(1);
  });

  it('keeps the type chosen by the creator of the subscription', async () => {
    const { clients, producer, topic } = await setup();
    const a = await openConsumer(clients, topic, { consumer_name: 'a', subscription_type: 'Shared' });
    // Asking for Exclusive with another name still joins the Shared subscription.
    const b = await openConsumer(clients, topic, { consumer_name: 'b', subscription_type: 'Exclusive' });
    for (let i = 0; i < 4; i++) await producer.send(`m${i}`);
    await a.reader.take(2);
    await b.reader.take(2);
  });
});

describe('KeyShared without routing keys', () => {
  it('uses producer_name as the key', async () => {
    const broker = await startBroker();
    const clients = new RawClients(broker.serviceUrl);
    const topic = '/default/by-producer';
    const alpha = await openProducer(clients, topic, { producer_name: 'alpha' });
    const beta = await openProducer(clients, topic, { producer_name: 'beta' });
    const a = await openConsumer(clients, topic, { consumer_name: 'a', subscription_type: 'KeyShared', key_filters: ['alpha'] });
    const b = await openConsumer(clients, topic, { consumer_name: 'b', subscription_type: 'KeyShared', key_filters: ['beta'] });
    await alpha.send('from-alpha');
    await beta.send('from-beta');
    expect((await a.reader.next()).producer_name).toBe('alpha');
    expect((await b.reader.next()).producer_name).toBe('beta');
  });

  it('Exclusive refuses a second consumer name even after the first one left', async () => {
    const broker = await startBroker();
    const clients = new RawClients(broker.serviceUrl);
    broker.createTopic('/default/excl-left');
    const first = await openConsumer(clients, '/default/excl-left');
    first.reader.cancel();
    await expect(
      clients.danube('ConsumerService', 'Subscribe', subscribeRequest('/default/excl-left', { consumer_name: 'other' })),
    ).rejects.toMatchObject({ code: 7 });
  });
});
