import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { expectStatus, openConsumer, openProducer, RawClients, startBroker, subscribeRequest, until } from './helpers.js';

async function setup(options: Parameters<typeof startBroker>[0] = {}) {
  const broker = await startBroker(options);
  const admin = new RawClients(broker.adminUrl);
  const clients = new RawClients(broker.serviceUrl);
  const topicAdmin = (method: string, request: object) => admin.admin('TopicAdmin', method, request);
  const namespaceAdmin = (method: string, request: object) => admin.admin('NamespaceAdmin', method, request);
  return { broker, admin, clients, topicAdmin, namespaceAdmin };
}

describe('namespaces (docs/danube-protocol.md §13)', () => {
  it('lists, creates (NOT_FOUND when it exists) and lists topics with both spellings and the prefix quirk', async () => {
    const { broker, admin, namespaceAdmin, topicAdmin } = await setup();
    expect(await admin.admin('BrokerAdmin', 'ListNamespaces', {})).toEqual({ namespaces: ['default', 'system'] });
    expect(await namespaceAdmin('CreateNamespace', { name: 'ns' })).toEqual({ success: true });
    await expectStatus(namespaceAdmin('CreateNamespace', { name: '/ns' }), status.NOT_FOUND, /already exists/);
    await namespaceAdmin('CreateNamespace', { name: 'ns2' });
    broker.createTopic('/ns/a', { dispatch: 'reliable' });
    broker.createTopic('/ns2/b');
    expect(await namespaceAdmin('GetNamespaceTopics', { name: 'ns' })).toEqual({ topics: ['ns/a', 'ns2/b'] });
    expect(await topicAdmin('ListNamespaceTopics', { name: '/ns2' })).toEqual({
      topics: [{ name: '/ns2/b', broker_id: broker.brokerId, delivery: 'NonReliable' }],
    });
    const listed = (await topicAdmin('ListNamespaceTopics', { name: 'ns' })).topics;
    expect(listed[0]).toEqual({ name: '/ns/a', broker_id: broker.brokerId, delivery: 'Reliable' });
    await expectStatus(namespaceAdmin('DeleteNamespace', { name: 'ns' }), status.FAILED_PRECONDITION);
    await namespaceAdmin('CreateNamespace', { name: 'empty' });
    expect(await namespaceAdmin('DeleteNamespace', { name: 'empty' })).toEqual({ success: true });
  });
});

describe('topics (docs/danube-protocol.md §13)', () => {
  it('creates topics, reporting every failure as NOT_FOUND with the cause and bad enums as INVALID_ARGUMENT', async () => {
    const { broker, clients, topicAdmin } = await setup();
    expect(await topicAdmin('CreateTopic', { name: '/default/made', dispatch_strategy: 'Reliable' })).toEqual({ success: true });
    expect(broker.cluster.topic('/default/made')).toMatchObject({ owner: broker.brokerId, dispatch: 'Reliable' });
    await expectStatus(topicAdmin('CreateTopic', { name: '/default/made', dispatch_strategy: 'Reliable' }), status.NOT_FOUND, /already exists/);
    await expectStatus(topicAdmin('CreateTopic', { name: '/missing/t', dispatch_strategy: 'Reliable' }), status.NOT_FOUND, /namespace missing/);
    await expectStatus(topicAdmin('CreateTopic', { name: '/default/bad.name', dispatch_strategy: 'Reliable' }), status.NOT_FOUND);
    await expectStatus(topicAdmin('CreateTopic', { name: '/default/x', dispatch_strategy: 5 }), status.INVALID_ARGUMENT);
    await expectStatus(
      topicAdmin('CreateTopic', { name: '/default/typed', dispatch_strategy: 'NonReliable', schema_subject: 'nope' }),
      status.NOT_FOUND,
      /not registered/,
    );
    const lookup = await clients.danube('Discovery', 'TopicLookup', { request_id: '1', topic: '/default/made' });
    expect(lookup.response_type).toBe('Connect');
  });

  it('creates partitioned topics, stopping at the first failure; 0 partitions creates nothing', async () => {
    const { broker, topicAdmin } = await setup();
    await topicAdmin('CreatePartitionedTopic', { base_name: '/default/orders', partitions: 3, dispatch_strategy: 'Reliable' });
    expect(broker.cluster.topicNames().filter((t) => t.startsWith('/default/orders')).sort()).toEqual([
      '/default/orders-part-0',
      '/default/orders-part-1',
      '/default/orders-part-2',
    ]);
    expect(await topicAdmin('CreatePartitionedTopic', { base_name: '/default/zero', partitions: 0, dispatch_strategy: 'Reliable' })).toEqual({
      success: true,
    });
    expect(broker.cluster.topicNames().some((t) => t.startsWith('/default/zero'))).toBe(false);
    broker.createTopic('/default/half-part-1');
    await expectStatus(
      topicAdmin('CreatePartitionedTopic', { base_name: '/default/half', partitions: 3, dispatch_strategy: 'NonReliable' }),
      status.NOT_FOUND,
    );
    expect(broker.cluster.topic('/default/half-part-0')).toBeDefined();
    expect(broker.cluster.topic('/default/half-part-2')).toBeUndefined();
  });

  it('describes topics with subscriptions and schema details, and lists subscriptions', async () => {
    const { broker, clients, topicAdmin } = await setup();
    const { schema_id } = await clients.schema('RegisterSchema', {
      subject: 'orders',
      schema_type: 'json_schema',
      schema_definition: Buffer.from('{"type":"object"}'),
      description: '',
      created_by: '',
      tags: [],
    });
    await topicAdmin('CreateTopic', { name: '/default/described', dispatch_strategy: 'Reliable', schema_subject: 'orders' });
    await clients.danube('ConsumerService', 'Subscribe', subscribeRequest('/default/described', { subscription: 'sub-a' }));
    // toMatchObject: proto-loader adds `_field` oneof markers for proto3 optional fields.
    expect(await topicAdmin('DescribeTopic', { name: '/default/described' })).toMatchObject({
      name: '/default/described',
      subscriptions: ['sub-a'],
      broker_id: broker.brokerId,
      delivery: 'Reliable',
      schema_subject: 'orders',
      schema_id,
      schema_version: 1,
      schema_type: 'json_schema',
      compatibility_mode: 'backward',
    });
    broker.createTopic('/default/plain');
    const plain = await topicAdmin('DescribeTopic', { name: '/default/plain' });
    expect(plain.schema_subject).toBeUndefined();
    expect(plain.schema_id).toBeUndefined();
    expect(await topicAdmin('ListSubscriptions', { name: '/default/described' })).toEqual({ subscriptions: ['sub-a'] });
    await expectStatus(topicAdmin('DescribeTopic', { name: '/default/none' }), status.NOT_FOUND);
    await expectStatus(topicAdmin('ListSubscriptions', { name: '/default/none' }), status.NOT_FOUND);
  });

  it('deletes topics: producers and consumers are dropped, streams end with OK', async () => {
    const { clients, topicAdmin } = await setup();
    const topic = '/default/doomed';
    const producer = await openProducer(clients, topic, { dispatch_strategy: 'Reliable' });
    const consumer = await openConsumer(clients, topic);
    expect(await topicAdmin('DeleteTopic', { name: topic })).toEqual({ success: true });
    expect((await consumer.reader.status()).code).toBe(status.OK);
    await expectStatus(producer.send('late'), status.NOT_FOUND);
    expect(await clients.danube('HealthCheck', 'HealthCheck', { request_id: '1', client: 'Consumer', id: consumer.id })).toEqual({
      status: 'CLOSE',
    });
    await expectStatus(clients.danube('Discovery', 'TopicLookup', { request_id: '1', topic }), status.NOT_FOUND);
    await expectStatus(topicAdmin('DeleteTopic', { name: topic }), status.NOT_FOUND);
  });

  it('answers UNIMPLEMENTED for UnloadTopic in standalone mode', async () => {
    const { broker, topicAdmin } = await setup();
    broker.createTopic('/default/loaded');
    await expectStatus(topicAdmin('UnloadTopic', { name: '/default/loaded' }), status.UNIMPLEMENTED);
  });
});

describe('subscriptions (docs/danube-protocol.md §9.4, §13)', () => {
  it('unsubscribes only while no consumer is active', async () => {
    const { clients, topicAdmin } = await setup();
    const topic = '/default/unsub';
    await openProducer(clients, topic);
    const consumer = await openConsumer(clients, topic);
    await expectStatus(topicAdmin('Unsubscribe', { topic, subscription: 's1' }), status.NOT_FOUND);
    consumer.reader.cancel();
    await until(async () => {
      const health = await clients.danube('HealthCheck', 'HealthCheck', { request_id: '1', client: 'Consumer', id: consumer.id });
      return health.status === 'CLOSE';
    });
    expect(await topicAdmin('Unsubscribe', { topic, subscription: 's1' })).toEqual({ success: true });
    expect(await topicAdmin('ListSubscriptions', { name: topic })).toEqual({ subscriptions: [] });
    await expectStatus(topicAdmin('Unsubscribe', { topic, subscription: 's1' }), status.NOT_FOUND);
    // The consumer id is gone with its subscription; a new Exclusive name is accepted.
    const fresh = await clients.danube('ConsumerService', 'Subscribe', subscribeRequest(topic, { consumer_name: 'other' }));
    expect(fresh.consumer_id).not.toBe(consumer.id);
  });

  it('stores failure policies for Reliable topics, applied to subscriptions created afterwards', async () => {
    const { broker, clients, topicAdmin } = await setup({ failurePolicy: { ackTimeoutMs: 60_000 } });
    broker.createTopic('/default/nr');
    const policy = {
      max_redelivery_count: 0,
      ack_timeout_ms: '60000',
      base_redelivery_delay_ms: '10',
      max_redelivery_delay_ms: '100',
      backoff_strategy: 'Fixed',
      poison_policy: 'DeadLetter',
      dead_letter_topic: '/default/policy-dlq',
    };
    await expectStatus(
      topicAdmin('SetSubscriptionFailurePolicy', { topic: '/default/nr', subscription: 's1', failure_policy: policy }),
      status.FAILED_PRECONDITION,
    );
    const topic = '/default/policed';
    const producer = await openProducer(clients, topic, { dispatch_strategy: 'Reliable' });
    const { dead_letter_topic: _omitted, ...withoutTopic } = policy;
    await expectStatus(
      topicAdmin('SetSubscriptionFailurePolicy', { topic, subscription: 's1', failure_policy: withoutTopic }),
      status.INVALID_ARGUMENT,
    );
    expect(await topicAdmin('SetSubscriptionFailurePolicy', { topic, subscription: 's1', failure_policy: policy })).toEqual({ success: true });
    expect(await topicAdmin('GetSubscriptionFailurePolicy', { topic, subscription: 's1' })).toMatchObject({
      failure_policy: policy,
      subscription_type: 0,
    });
    const consumer = await openConsumer(clients, topic, { subscription_type: 'Shared' });
    await producer.send('to-dlq');
    await consumer.nack(await consumer.reader.next());
    await until(() => broker.cluster.topic('/default/policy-dlq') !== undefined && broker.storedMessages('/default/policy-dlq').length === 1);
    expect(broker.storedMessages('/default/policy-dlq')[0]?.attributes['x-original-topic']).toBe(topic);
    expect((await topicAdmin('GetSubscriptionFailurePolicy', { topic, subscription: 's1' })).subscription_type).toBe(1);
    // Without a stored policy the live subscription's is reported.
    await openConsumer(clients, topic, { subscription: 'plain' });
    const live = await topicAdmin('GetSubscriptionFailurePolicy', { topic, subscription: 'plain' });
    expect(live.failure_policy).toMatchObject({ max_redelivery_count: 5, ack_timeout_ms: '60000', poison_policy: 'Block' });
  });

  it('stores dispatch configs in the range 1..10000', async () => {
    const { broker, topicAdmin } = await setup();
    broker.createTopic('/default/cfg', { dispatch: 'reliable' });
    const set = (max_unacked_messages: number) =>
      topicAdmin('SetSubscriptionDispatchConfig', { topic: '/default/cfg', subscription: 's1', dispatch_config: { max_unacked_messages } });
    await expectStatus(set(0), status.INVALID_ARGUMENT);
    await expectStatus(set(10_001), status.INVALID_ARGUMENT);
    expect((await topicAdmin('GetSubscriptionDispatchConfig', { topic: '/default/cfg', subscription: 's1' })).dispatch_config).toBeUndefined();
    expect(await set(10_000)).toEqual({ success: true });
    expect((await topicAdmin('GetSubscriptionDispatchConfig', { topic: '/default/cfg', subscription: 's1' })).dispatch_config).toEqual({
      max_unacked_messages: 10_000,
    });
  });
});
