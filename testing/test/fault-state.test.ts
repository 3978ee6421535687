import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import {
  expectStatus,
  openConsumer,
  openProducer,
  producerRequest,
  RawClients,
  startBroker,
  subscribeRequest,
  until,
} from './helpers.js';

const FAST_RECONNECT = { 'grpc.initial_reconnect_backoff_ms': 20, 'grpc.max_reconnect_backoff_ms': 100 };

describe('TestBroker fault injection', () => {
  it('dropConnections breaks streams and connections but keeps state and the port', async () => {
    const broker = await startBroker({ failurePolicy: { ackTimeoutMs: 60_000 } });
    const clients = new RawClients(broker.serviceUrl, { channelOptions: FAST_RECONNECT });
    const topic = '/default/drop';
    const producer = await openProducer(clients, topic, { dispatch_strategy: 'Reliable' });
    const consumer = await openConsumer(clients, topic);
    await producer.send('in-flight');
    const first = await consumer.reader.next();
    await broker.dropConnections();
    expect((await consumer.reader.status()).code).not.toBe(status.OK);
    const health = (client: string, id: string) =>
      clients.danube('HealthCheck', 'HealthCheck', { request_id: '1', client, id }) as Promise<{ status: string }>;
    // The client reconnects to the same port; the producer is still known, the consumer inactive.
    await until(async () => (await health('Producer', producer.id).catch(() => ({ status: 'ERR' }))).status === 'OK');
    expect(await health('Consumer', consumer.id)).toEqual({ status: 'CLOSE' });
    await producer.send('after-drop');
    const back = await openConsumer(clients, topic);
    expect(back.id).toBe(consumer.id);
    const [redelivered, next] = await back.reader.take(2);
    expect(redelivered?.msg_id).toEqual(first.msg_id);
    expect(next?.payload.toString()).toBe('after-drop');
  });

  it('restart forgets producers and consumers but keeps topics, the log and subscription cursors', async () => {
    const broker = await startBroker({ failurePolicy: { ackTimeoutMs: 60_000 } });
    const clients = new RawClients(broker.serviceUrl, { channelOptions: FAST_RECONNECT });
    const topic = '/default/restart';
    const producer = await openProducer(clients, topic, { dispatch_strategy: 'Reliable' });
    const consumer = await openConsumer(clients, topic);
    await producer.send('unacked');
    await consumer.reader.next();
    await broker.restart();
    await until(async () => {
      try {
        await clients.danube('HealthCheck', 'HealthCheck', { request_id: '1', client: 'Producer', id: producer.id });
        return true;
      } catch {
        return false;
      }
    });
    expect(await clients.danube('HealthCheck', 'HealthCheck', { request_id: '1', client: 'Producer', id: producer.id })).toEqual({
      status: 'CLOSE',
    });
    await expectStatus(producer.send('stale'), status.NOT_FOUND);
    const gone = clients.receive(consumer.id);
    expect((await gone.status()).code).toBe(status.NOT_FOUND);
    expect((await clients.danube('Discovery', 'TopicLookup', { request_id: '1', topic })).response_type).toBe('Connect');
    expect(broker.storedMessages(topic).map((m) => m.payload.toString())).toEqual(['unacked']);
    // A new producer id; the subscription resumes, and the Exclusive slot is free for a new name.
    const again = await clients.danube('ProducerService', 'CreateProducer', producerRequest(topic, { dispatch_strategy: 'Reliable' }));
    expect(again.producer_id).not.toBe(producer.id);
    const newcomer = await openConsumer(clients, topic, { consumer_name: 'newcomer' });
    expect(newcomer.id).not.toBe(consumer.id);
    expect((await newcomer.reader.next()).payload.toString()).toBe('unacked');
  });

  it('unavailableFor answers UNAVAILABLE on the client port until the time is up', async () => {
    const broker = await startBroker();
    const clients = new RawClients(broker.serviceUrl);
    // Long enough for both refusals on a loaded machine (200 ms was not); `until` then waits it out.
    broker.unavailableFor(1_500);
    await expectStatus(clients.danube('ProducerService', 'CreateProducer', producerRequest('/default/later')), status.UNAVAILABLE);
    await expectStatus(clients.schema('ListSubjects', {}), status.UNAVAILABLE);
    await until(async () => {
      try {
        await clients.danube('ProducerService', 'CreateProducer', producerRequest('/default/later'));
        return true;
      } catch {
        return false;
      }
    });
  });

  it('delayAcks holds SendMessage responses back while the message is already delivered', async () => {
    const broker = await startBroker();
    const clients = new RawClients(broker.serviceUrl);
    const producer = await openProducer(clients, '/default/slow-acks');
    const consumer = await openConsumer(clients, '/default/slow-acks');
    broker.delayAcks(60_000);
    let answered = false;
    const sent = producer.send('early').then((response) => {
      answered = true;
      return response;
    });
    expect((await consumer.reader.next()).payload.toString()).toBe('early');
    expect(answered).toBe(false);
    broker.delayAcks(0);
    await producer.send('prompt');
    expect(answered).toBe(false);
    // stop() answers held-back responses instead of leaving calls and timers behind.
    await broker.stop();
    expect(await sent).toEqual({ request_id: '7' });
  });

  it('endConsumerStreams ends streams with OK; the consumers stay active and can reopen', async () => {
    const broker = await startBroker();
    const clients = new RawClients(broker.serviceUrl);
    const topic = '/default/ended';
    const producer = await openProducer(clients, topic, { dispatch_strategy: 'Reliable' });
    const consumer = await openConsumer(clients, topic);
    broker.endConsumerStreams();
    expect((await consumer.reader.status()).code).toBe(status.OK);
    expect(await clients.danube('HealthCheck', 'HealthCheck', { request_id: '1', client: 'Consumer', id: consumer.id })).toEqual({
      status: 'OK',
    });
    await producer.send('while-closed');
    const reopened = clients.receive(consumer.id);
    expect((await reopened.next()).payload.toString()).toBe('while-closed');
    expect(
      (await clients.danube('ConsumerService', 'Subscribe', subscribeRequest(topic))).consumer_id,
    ).toBe(consumer.id);
  });

  it('rejectSendsFor refuses SendMessage with PERMISSION_DENIED and the given broker text, storing nothing', async () => {
    const broker = await startBroker();
    const clients = new RawClients(broker.serviceUrl);
    const topic = '/default/wal-fault';
    const producer = await openProducer(clients, topic, { dispatch_strategy: 'Reliable' });
    broker.rejectSendsFor(60_000, 'Failed to append to WAL: disk full');
    await expectStatus(producer.send('lost?'), status.PERMISSION_DENIED, /^Unable to publish the message: Failed to append to WAL: disk full$/);
    // Other RPCs are unaffected.
    expect((await clients.danube('Discovery', 'TopicLookup', { request_id: '1', topic })).response_type).toBe('Connect');
    broker.rejectSendsFor(0);
    await producer.send('stored');
    expect(broker.storedMessages(topic).map((m) => m.payload.toString())).toEqual(['stored']);
  });

  it('holdAcks holds consumer Acks unapplied and unanswered until releaseAcks', async () => {
    const broker = await startBroker({ maxUnackedMessages: 1, failurePolicy: { ackTimeoutMs: 60_000 } });
    const clients = new RawClients(broker.serviceUrl);
    const topic = '/default/held-acks';
    const producer = await openProducer(clients, topic, { dispatch_strategy: 'Reliable' });
    const consumer = await openConsumer(clients, topic);
    await producer.send('one');
    await producer.send('two');
    const first = await consumer.reader.next();
    broker.holdAcks();
    let answered = false;
    const acked = consumer.ack(first).then(() => (answered = true));
    await until(() => broker.heldAcks === 1);
    // Not applied either: the window (1) stays full, so 'two' is not dispatched.
    expect(answered).toBe(false);
    expect(consumer.reader.pending).toBe(0);
    broker.releaseAcks();
    await acked;
    expect((await consumer.reader.next()).payload.toString()).toBe('two');
    expect(broker.heldAcks).toBe(0);
  });

  it('goOffline closes the ports; comeBackOnline listens on the same ones with producers and consumers forgotten', async () => {
    const broker = await startBroker();
    const clients = new RawClients(broker.serviceUrl, { channelOptions: FAST_RECONNECT });
    const topic = '/default/offline';
    const producer = await openProducer(clients, topic, { dispatch_strategy: 'Reliable' });
    await producer.send('before');
    await broker.goOffline();
    await expectStatus(producer.send('during'), status.UNAVAILABLE);
    await broker.comeBackOnline();
    await until(async () => {
      try {
        await clients.danube('Discovery', 'TopicLookup', { request_id: '1', topic });
        return true;
      } catch {
        return false;
      }
    });
    await expectStatus(producer.send('stale'), status.NOT_FOUND);
    expect(broker.storedMessages(topic).map((m) => m.payload.toString())).toEqual(['before']);
  });
});
