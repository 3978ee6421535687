import { createHook } from 'node:async_hooks';
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { TestBroker, TestCluster } from '../src/index.js';
import {
  expectStatus,
  message,
  openConsumer,
  openProducer,
  producerRequest,
  RawClients,
  startBroker,
  subscribeRequest,
  unique,
  until,
} from './helpers.js';

describe('TestBroker start and identity', () => {
  it('listens on loopback with http:// URLs, a uint64 broker id and the boot namespaces', async () => {
    const broker = await startBroker({ namespaces: ['extra'] });
    expect(broker.serviceUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(broker.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(broker.adminUrl).not.toBe(broker.serviceUrl);
    expect(broker.brokerUrl).toBe(broker.serviceUrl);
    expect(BigInt(broker.brokerId) >= 2n ** 53n).toBe(true);
    expect(broker.cluster.namespaces()).toEqual(['default', 'system', 'extra']);
    expect(broker.cluster.topic('/system/_events_topic')?.owner).toBe(broker.brokerId);
  });

  it('answers the readiness probe HealthCheck{Producer, 0} with CLOSE (docs/danube-protocol.md §1)', async () => {
    const broker = await startBroker();
    const clients = new RawClients(broker.serviceUrl);
    const response = await clients.danube('HealthCheck', 'HealthCheck', { request_id: '1', client: 'Producer', id: '0' });
    expect(response).toEqual({ status: 'CLOSE' });
  });

  it('stop() is idempotent and closes the ports', async () => {
    const broker = await startBroker();
    const clients = new RawClients(broker.serviceUrl, { channelOptions: { 'grpc.initial_reconnect_backoff_ms': 50 } });
    await clients.danube('HealthCheck', 'HealthCheck', { request_id: '1', client: 'Producer', id: '0' });
    await Promise.all([broker.stop(), broker.stop()]);
    await broker.stop();
    await expectStatus(
      clients.danube('HealthCheck', 'HealthCheck', { request_id: '1', client: 'Producer', id: '0' }),
      status.UNAVAILABLE,
    );
  });
});

describe('TestBroker timers', () => {
  it('stop() clears every timer the broker started (ack timeouts, redelivery delays, held responses)', async () => {
    // unref'd timers are invisible to getActiveResourcesInfo, so follow Timeout resources created from broker code.
    const live = new Set<number>();
    const hook = createHook({
      init(id, type) {
        if (type === 'Timeout' && new Error().stack?.includes('/testing/src/')) live.add(id);
      },
      destroy(id) {
        live.delete(id);
      },
    }).enable();
    try {
      const broker = await TestBroker.start({ failurePolicy: { ackTimeoutMs: 60_000 } });
      const clients = new RawClients(broker.serviceUrl);
      const producer = await openProducer(clients, '/default/timers', { dispatch_strategy: 'Reliable' });
      const consumer = await openConsumer(clients, '/default/timers');
      await producer.send('nacked');
      await consumer.nack(await consumer.reader.next(), { delay_ms: '50000' });
      broker.delayAcks(60_000);
      const held = producer.send('held');
      await consumer.reader.next();
      expect(live.size).toBe(3);
      await broker.stop();
      await held;
      clients.close();
      // destroy hooks are emitted asynchronously after clearTimeout.
      await until(() => live.size === 0);
    } finally {
      hook.disable();
    }
  });
});

describe('TopicLookup and TopicPartitions (docs/danube-protocol.md §7.1, §6.3)', () => {
  it('answers NOT_FOUND for unknown topics and INVALID_ARGUMENT for bad names', async () => {
    const broker = await startBroker();
    const clients = new RawClients(broker.serviceUrl);
    await expectStatus(clients.danube('Discovery', 'TopicLookup', { request_id: '1', topic: '/default/nope' }), status.NOT_FOUND);
    await expectStatus(clients.danube('Discovery', 'TopicLookup', { request_id: '1', topic: '/default/a.b' }), status.INVALID_ARGUMENT);
    await expectStatus(clients.danube('Discovery', 'TopicPartitions', { request_id: '1', topic: 'bad' }), status.INVALID_ARGUMENT);
  });

  it('answers Connect with its own URLs for its topics, echoing request_id', async () => {
    const broker = await startBroker();
    broker.createTopic('/default/mine');
    const clients = new RawClients(broker.serviceUrl);
    const response = await clients.danube('Discovery', 'TopicLookup', { request_id: '42', topic: '/default/mine' });
    expect(response).toEqual({
      request_id: '42',
      response_type: 'Connect',
      broker_url: broker.serviceUrl,
      connect_url: broker.serviceUrl,
      proxy: false,
    });
  });

  it('advertises a different connect_url with proxy=true', async () => {
    const broker = await startBroker({ connectUrl: '10.1.2.3:6650' });
    broker.createTopic('/default/proxied');
    const clients = new RawClients(broker.serviceUrl);
    const response = await clients.danube('Discovery', 'TopicLookup', { request_id: '1', topic: '/default/proxied' });
    expect(response).toMatchObject({
      response_type: 'Connect',
      broker_url: broker.serviceUrl,
      connect_url: 'http://10.1.2.3:6650',
      proxy: true,
    });
    expect(broker.connectUrl).toBe('http://10.1.2.3:6650');
  });

  it('redirects to the owner within a cluster; the other broker refuses producers and consumers with UNAVAILABLE', async () => {
    const cluster = new TestCluster();
    const owner = await startBroker({ cluster });
    const other = await startBroker({ cluster, connectUrl: 'proxy.example:443' });
    const ownerClients = new RawClients(owner.serviceUrl);
    const otherClients = new RawClients(other.serviceUrl);
    await ownerClients.danube('ProducerService', 'CreateProducer', producerRequest('/default/owned'));
    const redirect = await otherClients.danube('Discovery', 'TopicLookup', { request_id: '5', topic: '/default/owned' });
    expect(redirect).toEqual({
      request_id: '5',
      response_type: 'Redirect',
      broker_url: owner.serviceUrl,
      connect_url: owner.serviceUrl,
      proxy: false,
    });
    other.createTopic('/default/behind-proxy');
    const viaProxy = await ownerClients.danube('Discovery', 'TopicLookup', { request_id: '6', topic: '/default/behind-proxy' });
    expect(viaProxy).toMatchObject({ response_type: 'Redirect', broker_url: other.serviceUrl, connect_url: 'http://proxy.example:443', proxy: true });
    await expectStatus(otherClients.danube('ProducerService', 'CreateProducer', producerRequest('/default/owned')), status.UNAVAILABLE, /redo the Lookup/);
    await expectStatus(otherClients.danube('ConsumerService', 'Subscribe', subscribeRequest('/default/owned')), status.UNAVAILABLE);
    // Partitions and the registry live in shared metadata: any broker answers.
    const partitions = await otherClients.danube('Discovery', 'TopicPartitions', { request_id: '1', topic: '/default/owned' });
    expect(partitions.partitions).toEqual(['/default/owned']);
  });

  it('lists partitions by exact name, else by raw prefix sorted lexicographically, else empty', async () => {
    const broker = await startBroker();
    broker.createTopic('/default/orders', { partitions: 11 });
    broker.createTopic('/default/single');
    const clients = new RawClients(broker.serviceUrl);
    const partitions = (topic: string) =>
      clients.danube('Discovery', 'TopicPartitions', { request_id: '9', topic }) as Promise<{ request_id: string; partitions: string[] }>;
    const orders = await partitions('/default/orders');
    expect(orders.request_id).toBe('9');
    expect(orders.partitions.slice(0, 4)).toEqual([
      '/default/orders-part-0',
      '/default/orders-part-1',
      '/default/orders-part-10',
      '/default/orders-part-2',
    ]);
    expect(orders.partitions).toHaveLength(11);
    expect((await partitions('/default/single')).partitions).toEqual(['/default/single']);
    expect((await partitions('/default/none')).partitions).toEqual([]);
  });
});

describe('CreateProducer (docs/danube-protocol.md §8.1, §6.2)', () => {
  it('auto-creates the topic, is idempotent by name and returns random ids above 2^53', async () => {
    const broker = await startBroker();
    const clients = new RawClients(broker.serviceUrl);
    const topic = `/default/${unique('auto')}`;
    const first = await clients.danube('ProducerService', 'CreateProducer', producerRequest(topic, { request_id: '11' }));
    expect(first.request_id).toBe('11');
    expect(first.producer_name).toBe('p1');
    expect(BigInt(first.producer_id) >= 2n ** 53n).toBe(true);
    const again = await clients.danube('ProducerService', 'CreateProducer', producerRequest(topic, { request_id: '12' }));
    expect(again.producer_id).toBe(first.producer_id);
    const second = await clients.danube('ProducerService', 'CreateProducer', producerRequest(topic, { producer_name: 'p2' }));
    expect(second.producer_id).not.toBe(first.producer_id);
    const lookup = await clients.danube('Discovery', 'TopicLookup', { request_id: '1', topic });
    expect(lookup.response_type).toBe('Connect');
  });

  it('fails with UNAVAILABLE when the namespace is missing, and never creates it', async () => {
    const broker = await startBroker();
    const clients = new RawClients(broker.serviceUrl);
    await expectStatus(
      clients.danube('ProducerService', 'CreateProducer', producerRequest('/nowhere/t')),
      status.UNAVAILABLE,
      /^Unable to find the namespace nowhere/,
    );
    expect(broker.cluster.hasNamespace('nowhere')).toBe(false);
  });

  it('answers NOT_FOUND without auto-creation, INVALID_ARGUMENT for bad names and unknown dispatch', async () => {
    const broker = await startBroker({ autoCreateTopics: false });
    const clients = new RawClients(broker.serviceUrl);
    await expectStatus(clients.danube('ProducerService', 'CreateProducer', producerRequest('/default/x')), status.NOT_FOUND);
    await expectStatus(clients.danube('ProducerService', 'CreateProducer', producerRequest('/default/x.y')), status.INVALID_ARGUMENT);
    const auto = await startBroker();
    const autoClients = new RawClients(auto.serviceUrl);
    await expectStatus(
      autoClients.danube('ProducerService', 'CreateProducer', producerRequest('/default/x', { dispatch_strategy: 7 })),
      status.INVALID_ARGUMENT,
      /Dispatch strategy is missing/,
    );
  });

  it('fixes the dispatch strategy at creation (FAILED_PRECONDITION on mismatch; out-of-range values skip the check)', async () => {
    const broker = await startBroker();
    const clients = new RawClients(broker.serviceUrl);
    await clients.danube('ProducerService', 'CreateProducer', producerRequest('/default/rel', { dispatch_strategy: 'Reliable' }));
    await expectStatus(
      clients.danube('ProducerService', 'CreateProducer', producerRequest('/default/rel', { producer_name: 'p2' })),
      status.FAILED_PRECONDITION,
    );
    await clients.danube('ProducerService', 'CreateProducer', producerRequest('/default/rel', { producer_name: 'p3', dispatch_strategy: 9 }));
    expect(broker.cluster.topic('/default/rel')?.dispatch).toBe('Reliable');
  });

  it('refuses conflicting partitioned and non-partitioned names with ALREADY_EXISTS (raw prefix scan)', async () => {
    const broker = await startBroker();
    const clients = new RawClients(broker.serviceUrl);
    const create = (topic: string) => clients.danube('ProducerService', 'CreateProducer', producerRequest(topic));
    await create('/default/events-raw');
    await expectStatus(create('/default/events'), status.ALREADY_EXISTS);
    await create('/default/orders-part-0');
    await expectStatus(create('/default/orders'), status.ALREADY_EXISTS);
    await create('/default/plain');
    await expectStatus(create('/default/plain-part-0'), status.ALREADY_EXISTS);
  });
});

describe('SendMessage (docs/danube-protocol.md §8.2)', () => {
  it('checks msg_id, producer id, size, then the producer-topic binding, and echoes request_id', async () => {
    const broker = await startBroker({ maxMessageSize: 8 });
    const clients = new RawClients(broker.serviceUrl);
    const producer = await openProducer(clients, '/default/send');
    await clients.danube('ProducerService', 'CreateProducer', producerRequest('/default/other'));
    const send = (request: Record<string, unknown>) => clients.danube('ProducerService', 'SendMessage', request);
    await expectStatus(send({ ...message(producer.id, '/default/send', 'x'), msg_id: null }), status.INTERNAL);
    await expectStatus(send(message('12345678901234567890', '/default/send', 'x')), status.NOT_FOUND);
    await expectStatus(send(message(producer.id, '/default/send', '123456789')), status.INVALID_ARGUMENT, /\b8 bytes/);
    await expectStatus(send(message(producer.id, '/default/other', 'x')), status.PERMISSION_DENIED, /^Unable to publish the message: /);
    expect(await send(message(producer.id, '/default/send', '12345678', { request_id: '99' }))).toEqual({ request_id: '99' });
  });

  it("refuses a request over 4 MiB as the broker's decoder (tonic) does: OUT_OF_RANGE, before any Danube check", async () => {
    const broker = await startBroker();
    const clients = new RawClients(broker.serviceUrl, { channelOptions: { 'grpc.max_send_message_length': 16 * 1024 * 1024 } });
    const producer = await openProducer(clients, '/default/huge', { dispatch_strategy: 'Reliable' });
    const send = (payload: string) => clients.danube('ProducerService', 'SendMessage', message(producer.id, '/default/huge', payload));
    const huge = 'x'.repeat(4 * 1024 * 1024);
    await expectStatus(send(huge), status.OUT_OF_RANGE, /^Error, decoded message length too large: found \d+ bytes, the limit is: 4194304 bytes$/);
    // Just under the limit (the whole encoded request counts, not only the payload) is stored.
    await send('x'.repeat(4 * 1024 * 1024 - 1024));
    expect(broker.storedMessages('/default/huge')).toHaveLength(1);
  });

  it('stores Reliable messages with 0-based offsets', async () => {
    const broker = await startBroker();
    const clients = new RawClients(broker.serviceUrl);
    const producer = await openProducer(clients, '/default/log', { dispatch_strategy: 'Reliable' });
    for (let i = 0; i < 3; i++) await producer.send(`m${i}`, { attributes: { i: String(i) }, routing_key: 'k', request_id: String(i) });
    const stored = broker.storedMessages('/default/log');
    expect(stored.map((m) => [m.offset, m.payload.toString(), m.attributes.i, m.requestId])).toEqual([
      [0, 'm0', '0', '0'],
      [1, 'm1', '1', '1'],
      [2, 'm2', '2', '2'],
    ]);
    expect(stored[0]).toMatchObject({ producerName: 'p1', producerId: producer.id, routingKey: 'k', brokerAddr: 'http://127.0.0.1:1' });
    expect(stored[0]?.schemaId).toBeUndefined();
  });
});

describe('NonReliable delivery (docs/danube-protocol.md §8.2, §9.3)', () => {
  it('delivers to the active consumer with fields passed through, and loses messages nobody was attached for', async () => {
    const broker = await startBroker();
    const clients = new RawClients(broker.serviceUrl);
    const topic = '/default/nr';
    const producer = await openProducer(clients, topic);
    await producer.send('before');
    const consumer = await openConsumer(clients, topic);
    await producer.send('after', {
      request_id: '77',
      attributes: { a: '1' },
      routing_key: 'rk',
      schema_id: '5',
      schema_version: 2,
      msg_id: { producer_id: producer.id, topic_name: topic, broker_addr: 'http://b', topic_offset: '123' },
    });
    const received = await consumer.reader.next();
    expect(received).toMatchObject({
      request_id: '77',
      msg_id: { producer_id: producer.id, topic_name: topic, broker_addr: 'http://b', topic_offset: '123' },
      producer_name: 'p1',
      subscription_name: '',
      attributes: { a: '1' },
      routing_key: 'rk',
      schema_id: '5',
      schema_version: 2,
    });
    expect(received.payload.toString()).toBe('after');
    expect(broker.storedMessages(topic)).toEqual([]);
    // Ack and Nack are accepted no-ops on NonReliable topics.
    expect(await consumer.ack(received)).toEqual({ request_id: '77' });
    expect(await consumer.nack(received, { delay_ms: '10' })).toEqual({ request_id: '77' });
    expect(consumer.reader.pending).toBe(0);
  });

  it('leaves optional fields absent when the producer did not set them', async () => {
    const broker = await startBroker();
    const clients = new RawClients(broker.serviceUrl);
    const producer = await openProducer(clients, '/default/plain-fields');
    const consumer = await openConsumer(clients, '/default/plain-fields');
    await producer.send('x');
    const received = await consumer.reader.next();
    expect(received.routing_key).toBeUndefined();
    expect(received.schema_id).toBeUndefined();
    expect(received.schema_version).toBeUndefined();
  });

  it('drops messages when the consumer channel is full (best effort)', async () => {
    const broker = await startBroker();
    const clients = new RawClients(broker.serviceUrl);
    const topic = '/default/nr-full';
    const producer = await openProducer(clients, topic);
    // Subscribed but no ReceiveMessages stream: the channel holds 4 messages, the rest are dropped.
    await clients.danube('ConsumerService', 'Subscribe', subscribeRequest(topic));
    const { consumer_id } = await clients.danube('ConsumerService', 'Subscribe', subscribeRequest(topic));
    for (let i = 0; i < 10; i++) await producer.send(`m${i}`);
    const reader = clients.receive(consumer_id);
    const first = await reader.take(4);
    expect(first.map((m) => m.payload.toString())).toEqual(['m0', 'm1', 'm2', 'm3']);
    await producer.send('later');
    expect((await reader.next()).payload.toString()).toBe('later');
  });
});

describe('Subscribe, ReceiveMessages and HealthCheck (docs/danube-protocol.md §9.1, §9.2, §11)', () => {
  it('answers NOT_FOUND for unknown topics and consumers', async () => {
    const broker = await startBroker();
    const clients = new RawClients(broker.serviceUrl);
    await expectStatus(clients.danube('ConsumerService', 'Subscribe', subscribeRequest('/default/unknown')), status.NOT_FOUND);
    const reader = clients.receive('123456789012345678');
    expect((await reader.status()).code).toBe(status.NOT_FOUND);
  });

  it('reattaches by name with the same id; Exclusive refuses other names with PERMISSION_DENIED', async () => {
    const broker = await startBroker();
    const clients = new RawClients(broker.serviceUrl);
    broker.createTopic('/default/excl');
    const first = await clients.danube('ConsumerService', 'Subscribe', subscribeRequest('/default/excl', { request_id: '21' }));
    expect(first.request_id).toBe('21');
    expect(first.consumer_name).toBe('c1');
    expect(BigInt(first.consumer_id) >= 2n ** 53n).toBe(true);
    const again = await clients.danube('ConsumerService', 'Subscribe', subscribeRequest('/default/excl'));
    expect(again.consumer_id).toBe(first.consumer_id);
    await expectStatus(
      clients.danube('ConsumerService', 'Subscribe', subscribeRequest('/default/excl', { consumer_name: 'c2', subscription_type: 'Shared' })),
      status.PERMISSION_DENIED,
      /Not able to subscribe/,
    );
    // Another subscription is independent.
    await clients.danube('ConsumerService', 'Subscribe', subscribeRequest('/default/excl', { consumer_name: 'c2', subscription: 's2' }));
  });

  it('ends the older stream with OK when a new ReceiveMessages or Subscribe takes over', async () => {
    const broker = await startBroker();
    const clients = new RawClients(broker.serviceUrl);
    const topic = '/default/takeover';
    const producer = await openProducer(clients, topic);
    const consumer = await openConsumer(clients, topic);
    const second = clients.receive(consumer.id);
    expect((await consumer.reader.status()).code).toBe(status.OK);
    await second.ready();
    await producer.send('to-second');
    expect((await second.next()).payload.toString()).toBe('to-second');
    const resubscribed = await clients.danube('ConsumerService', 'Subscribe', subscribeRequest(topic));
    expect(resubscribed.consumer_id).toBe(consumer.id);
    expect((await second.status()).code).toBe(status.OK);
  });

  it('reports producers OK, consumers OK while active and CLOSE once their stream is cancelled', async () => {
    const broker = await startBroker();
    const clients = new RawClients(broker.serviceUrl);
    const health = (client: string | number, id: string) =>
      clients.danube('HealthCheck', 'HealthCheck', { request_id: '1', client, id }) as Promise<{ status: string }>;
    const producer = await openProducer(clients, '/default/health');
    expect(await health('Producer', producer.id)).toEqual({ status: 'OK' });
    expect(await health('Consumer', producer.id)).toEqual({ status: 'CLOSE' });
    const consumer = await openConsumer(clients, '/default/health');
    expect(await health('Consumer', consumer.id)).toEqual({ status: 'OK' });
    consumer.reader.cancel();
    await until(async () => (await health('Consumer', consumer.id)).status === 'CLOSE');
    // Reattaching makes it active again, with the same id.
    const again = await clients.danube('ConsumerService', 'Subscribe', subscribeRequest('/default/health'));
    expect(again.consumer_id).toBe(consumer.id);
    expect(await health('Consumer', consumer.id)).toEqual({ status: 'OK' });
    await expectStatus(health(5, producer.id), status.INVALID_ARGUMENT);
  });

  it('answers INTERNAL for acks on unknown topics or subscriptions', async () => {
    const broker = await startBroker();
    const clients = new RawClients(broker.serviceUrl);
    broker.createTopic('/default/acks');
    const msgId = { producer_id: '1', topic_name: '/default/acks', broker_addr: '', topic_offset: '0' };
    await expectStatus(
      clients.danube('ConsumerService', 'Ack', { request_id: '1', msg_id: { ...msgId, topic_name: '/default/none' }, subscription_name: 's' }),
      status.INTERNAL,
      /^Error acknowledging message/,
    );
    await expectStatus(clients.danube('ConsumerService', 'Nack', { request_id: '1', msg_id: msgId, subscription_name: 'none' }), status.INTERNAL);
    await expectStatus(clients.danube('ConsumerService', 'Ack', { request_id: '1', msg_id: null, subscription_name: 's' }), status.INTERNAL);
  });
});
