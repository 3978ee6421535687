import { execFileSync } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { parseBrokerUrl } from '../../src/danube/broker-url.js';
import { Connection, ConnectionPool, type ConnectionOptions } from '../../src/danube/connection.js';
import { DanubeClient } from '../../src/danube/danube-client.js';
import { DanubeError, fromGrpcError } from '../../src/danube/errors.js';
import type { Http2UnaryTransport } from '../../src/danube/http2-unary-transport.js';
import type { ProducerResponseWire } from '../../src/danube/wire.js';
import type { TestBroker } from '@danube-connect/testing';
import { uniqueName, uniqueTopic } from '../contract/target.js';
import { startBroker } from '../broker.js';

const SEND = { rpc: 'SendMessage', topic: '/default/t', producer: 'p' };

/** A connection with the http2 transport, closed when the test ends. */
function http2Connection(broker: TestBroker, options: ConnectionOptions = {}): { connection: Connection; transport: Http2UnaryTransport } {
  const connection = new Connection(parseBrokerUrl(broker.serviceUrl), { transport: 'http2', ...options });
  onTestFinished(() => connection.close());
  if (!connection.http2) throw new Error('transport http2 was not set up');
  return { connection, transport: connection.http2 };
}

/** A producer on `topic` (CreateProducer goes over grpc-js) and a function sending one message over http2. */
async function producerOn(connection: Connection, topic: string, dispatch: 'Reliable' | 'NonReliable' = 'Reliable') {
  const name = uniqueName('p');
  const { producer_id } = await connection.unary<ProducerResponseWire>('danube', 'ProducerService', 'CreateProducer', {
    request_id: '0',
    producer_name: name,
    topic_name: topic,
    producer_access_mode: 'Shared',
    dispatch_strategy: dispatch,
  });
  let requestId = 0;
  const send = (payload: Buffer | string, timeoutMs = 10_000, proxyBrokerUrl?: string) =>
    connection.unary<{ request_id: string }>(
      'danube',
      'ProducerService',
      'SendMessage',
      {
        request_id: String(requestId++),
        msg_id: { producer_id, topic_name: topic, broker_addr: '', topic_offset: '0' },
        payload: Buffer.from(payload),
        publish_time: '1',
        producer_name: name,
        subscription_name: '',
        attributes: { k: 'v' },
      },
      { timeoutMs, proxyBrokerUrl },
    );
  return { send, producerId: producer_id };
}

/** What a call failed with, as the client sees it. */
async function failure(call: Promise<unknown>): Promise<{ code: number; details: string; mapped: DanubeError }> {
  const err = (await call.then(
    () => {
      throw new Error('the call succeeded');
    },
    (e: unknown) => e,
  )) as { code: number; details: string };
  return { code: err.code, details: err.details, mapped: fromGrpcError(err, SEND) };
}

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('http2 transport: calls, statuses and deadlines', () => {
  it('SendMessage goes over one HTTP/2 session per broker address, shared through the pool, with the bytes grpc-js sends', async () => {
    const broker = await startBroker();
    const pool = new ConnectionPool({ transport: 'http2' });
    onTestFinished(() => pool.close());
    const connection = pool.get(broker.serviceUrl);
    expect(pool.get(broker.serviceUrl.replace('http://', ''))).toBe(connection);
    const topic = uniqueTopic('h2');
    const { send, producerId } = await producerOn(connection, topic);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => send(`m${i}`)));
    expect(answers.map((a) => a.request_id)).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    expect(connection.http2?.sessionCount).toBe(1);
    const stored = broker.storedMessages(topic);
    expect(stored.map((m) => m.payload.toString()).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`).sort());
    expect(stored[0]).toMatchObject({ producerId, attributes: { k: 'v' }, publishTime: '1' });
    // Proxy mode: the header rides on the http2 call (this value is sent by nothing else).
    await send('proxied', 10_000, 'http://owner.example:6650');
    expect(broker.proxyHeaders.has('http://owner.example:6650')).toBe(true);
  });

  it('a trailers-only refusal arrives with its status and percent-decoded text, mapped through the same table', async () => {
    const broker = await startBroker();
    const { connection } = http2Connection(broker);
    const { send } = await producerOn(connection, uniqueTopic('refused'));
    broker.rejectSendsFor(60_000, 'WAL append failed: 100% full, Überlauf');
    const transient = await failure(send('x'));
    expect(transient).toMatchObject({ code: 7, details: 'Unable to publish the message: WAL append failed: 100% full, Überlauf' });
    expect(transient.mapped).toMatchObject({ code: 'DC_ERR_PUBLISH_FAILED', retryable: true, grpcStatus: 7 });
    broker.rejectSendsFor(60_000, 'Payload validation failed: field "t" missing');
    expect((await failure(send('x'))).mapped).toMatchObject({ code: 'DC_ERR_PAYLOAD_INVALID', retryable: false });
    broker.rejectSendsFor(0);
    // An unknown producer id: NOT_FOUND, which a producer answers by reattaching.
    const unknown = connection.unary('danube', 'ProducerService', 'SendMessage', {
      request_id: '9',
      msg_id: { producer_id: '12345', topic_name: '/default/nope', broker_addr: '', topic_offset: '0' },
      payload: Buffer.from('x'),
    });
    expect((await failure(unknown)).mapped).toMatchObject({ code: 'DC_ERR_PRODUCER_NOT_FOUND', retryable: true, grpcStatus: 5 });
  });

  it('a deadline fails the call DEADLINE_EXCEEDED (retryable) and cancels its stream', async () => {
    const broker = await startBroker();
    const { connection, transport } = http2Connection(broker);
    const { send } = await producerOn(connection, uniqueTopic('late'));
    broker.delayAcks(5_000);
    const late = await failure(send('x', 100));
    expect(late).toMatchObject({ code: 4, details: 'Deadline exceeded' });
    expect(late.mapped).toMatchObject({ code: 'DC_ERR_TIMEOUT', retryable: true });
    await vi.waitFor(() => expect(transport.inFlight).toBe(0));
    broker.delayAcks(0);
    await expect(send('y')).resolves.toMatchObject({ request_id: '1' });
  });

  it('message-size limits: a request or response over the channel limit fails RESOURCE_EXHAUSTED, as on grpc-js', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic('size');
    const small = http2Connection(broker, { channelOptions: { 'grpc.max_send_message_length': 1024 } });
    const { send } = await producerOn(small.connection, topic);
    const big = await failure(send(Buffer.alloc(2048)));
    expect(big).toMatchObject({ code: 8 });
    expect(big.details).toBe('Attempted to send message with a size larger than 1024');
    expect(broker.storedMessages(topic)).toEqual([]);
    // The MessageResponse (request_id "0") is 3 bytes: a 2-byte receive limit refuses it.
    const tiny = http2Connection(broker, { channelOptions: { 'grpc.max_receive_message_length': 2 } });
    const second = await producerOn(tiny.connection, topic).catch((e: unknown) => e);
    // CreateProducer itself is on grpc-js, which applies the same limit: both transports refuse alike.
    expect(second).toMatchObject({ code: 8 });
  });

  it('leaves nothing behind per call: listeners, timers and the in-flight count return to where they were', async () => {
    const broker = await startBroker();
    const { connection, transport } = http2Connection(broker);
    const { send } = await producerOn(connection, uniqueTopic('leak'), 'NonReliable');
    await send('warm-up');
    const session = transport.currentSession!;
    const listeners = () => session.eventNames().map((name) => `${String(name)}:${session.listenerCount(name)}`);
    const before = { listeners: listeners(), timers: timers() };
    for (let round = 0; round < 20; round++) {
      await Promise.all(Array.from({ length: 64 }, (_, i) => send(`r${round}-${i}`)));
    }
    broker.rejectSendsFor(60_000);
    for (let i = 0; i < 100; i++) await send('refused').catch(() => undefined);
    broker.rejectSendsFor(0);
    expect(listeners()).toEqual(before.listeners);
    // grpc-js and the broker run a timer of their own now and then; one left per call would be 1,380 more.
    expect(timers()).toBeLessThanOrEqual(before.timers + 1);
    expect(transport.inFlight).toBe(0);
    expect(transport.pendingDeadlines).toBe(0);
    expect(transport.sessionCount).toBe(1);
  });

  it('256 calls of 1 MiB in flight at once complete without stalling on flow control', async () => {
    const broker = await startBroker();
    const { connection, transport } = http2Connection(broker);
    // NonReliable keeps no log: 256 MiB pass through without piling up in the TestBroker.
    const { send } = await producerOn(connection, uniqueTopic('window'), 'NonReliable');
    const payload = Buffer.alloc(1024 * 1024, 7);
    const answers = await Promise.all(Array.from({ length: 256 }, () => send(payload, 120_000)));
    expect(answers).toHaveLength(256);
    expect(transport.sessionCount).toBe(1);
    expect(transport.inFlight).toBe(0);
  }, 120_000);
});

describe('http2 transport: GOAWAY and connection loss', () => {
  it('GOAWAY: calls the broker already has finish, the next call opens a new session, nothing is sent twice', async () => {
    const broker = await startBroker();
    const { connection, transport } = http2Connection(broker);
    const topic = uniqueTopic('goaway');
    const { send } = await producerOn(connection, topic);
    broker.delayAcks(300);
    const held = Array.from({ length: 5 }, (_, i) => send(`held ${i}`));
    // Stored at once, answered after the delay: the five are on the broker when GOAWAY goes out.
    await vi.waitFor(() => expect(broker.storedMessages(topic)).toHaveLength(5));
    const first = transport.currentSession!;
    const goaway = once(first, 'goaway');
    broker.goAway(10_000);
    await goaway;
    broker.delayAcks(0);
    await expect(Promise.all(held)).resolves.toHaveLength(5);
    await expect(send('after')).resolves.toBeDefined();
    expect(transport.sessionCount).toBe(2);
    expect(transport.currentSession === first).toBe(false);
    expect(broker.storedMessages(topic).map((m) => m.payload.toString())).toEqual([...Array.from({ length: 5 }, (_, i) => `held ${i}`), 'after']);
  });

  it('the broker goes offline mid-call: calls in flight fail UNAVAILABLE once (retryable), a new session serves the next', async () => {
    const broker = await startBroker();
    const { connection, transport } = http2Connection(broker);
    const topic = uniqueTopic('offline');
    const { send } = await producerOn(connection, topic);
    broker.delayAcks(30_000);
    const inFlight = Array.from({ length: 8 }, (_, i) => failure(send(`lost ${i}`)));
    await vi.waitFor(() => expect(broker.storedMessages(topic)).toHaveLength(8));
    await broker.goOffline();
    for (const result of await Promise.all(inFlight)) {
      expect(result.code).toBe(14);
      expect(result.mapped).toMatchObject({ code: 'DC_ERR_UNAVAILABLE', retryable: true });
    }
    // While offline a call fails at once with UNAVAILABLE rather than hanging.
    expect((await failure(send('refused'))).mapped).toMatchObject({ code: 'DC_ERR_UNAVAILABLE', retryable: true });
    broker.delayAcks(0);
    await broker.comeBackOnline();
    // The restarted broker forgot the producer: create it again, then send over a fresh session.
    const again = await producerOn(connection, topic);
    await expect(again.send('back')).resolves.toBeDefined();
    expect(transport.sessionCount).toBeGreaterThanOrEqual(2);
    expect(transport.inFlight).toBe(0);
  });

  it('a producer on http2 rides out goOffline/comeBackOnline: every send resolves, retried by the client, not the transport', async () => {
    const broker = await startBroker();
    const events = new EventEmitter();
    const emit = (obj: object, msg?: string) => events.emit(msg ?? '', obj);
    const client = new DanubeClient({
      serviceUrl: broker.serviceUrl,
      transport: 'http2',
      healthCheckIntervalMs: 0,
      retry: { maxRetries: Infinity, initialDelayMs: 20, maxDelayMs: 200 },
      logger: { debug: emit, info: emit, warn: emit, error: emit },
    });
    onTestFinished(() => client.close(1_000));
    const topic = uniqueTopic('ride');
    const producer = await client.createProducer({ topic, name: uniqueName('p'), ordering: 'none', maxInFlight: 32 });
    for (let i = 0; i < 50; i++) await producer.send(`before ${i}`);
    const retried = once(events, 'send failed, retrying') as Promise<[{ code: string }]>;
    await broker.goOffline();
    const during = Array.from({ length: 50 }, (_, i) => producer.send(`during ${i}`));
    const [first] = await retried;
    expect(first.code).toBe('DC_ERR_UNAVAILABLE');
    await broker.comeBackOnline();
    await expect(Promise.all(during)).resolves.toHaveLength(50);
    const stored = new Set(broker.storedMessages(topic).map((m) => m.payload.toString()));
    for (let i = 0; i < 50; i++) expect(stored.has(`during ${i}`)).toBe(true);
  });
});

describe('http2 transport: TLS, mutual TLS and JWT', () => {
  let dir: string;
  const pem = (name: string) => readFileSync(join(dir, name));
  const jwtSecret = 'http2-transport-test-secret-long-enough';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'danube-h2-tls-'));
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=danube-test-ca');
    writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost\n');
    for (const who of ['server', 'client']) {
      ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=${who === 'server' ? 'localhost' : 'danube-client'}`);
      const ext = who === 'server' ? ['-extfile', 'server.ext'] : [];
      ssl('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.pem`, '-days', '1', ...ext);
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('mTLS with serverName and a rotating token: the sends carry the current token; no client cert or no token is refused', async () => {
    // The certificate names only localhost while the URL dials 127.0.0.1: serverName must reach the TLS check.
    const broker = await startBroker({ tls: { cert: pem('server.pem'), key: pem('server.key'), ca: pem('ca.pem'), requireClientCert: true }, auth: { jwtSecret } });
    expect(broker.serviceUrl).toMatch(/^https:\/\/127\.0\.0\.1:/);
    const tokens = [await broker.mintToken({ sub: 'a' }), await broker.mintToken({ sub: 'b' })];
    let asked = 0;
    const tls = { ca: join(dir, 'ca.pem'), cert: join(dir, 'client.pem'), key: join(dir, 'client.key'), serverName: 'localhost' };
    const { connection, transport } = http2Connection(broker, { tls, token: async () => tokens[asked++ % 2] as string });
    const topic = uniqueTopic('mtls');
    const { send } = await producerOn(connection, topic);
    const afterCreate = asked;
    for (let i = 0; i < 4; i++) await send(`secure ${i}`);
    expect(asked - afterCreate).toBe(4);
    expect(transport.sessionCount).toBe(1);
    expect(broker.storedMessages(topic)).toHaveLength(4);

    // Without a token the broker answers UNAUTHENTICATED on SendMessage too.
    const anonymous = http2Connection(broker, { tls });
    const bare = anonymous.connection.unary('danube', 'ProducerService', 'SendMessage', { request_id: '0', msg_id: { producer_id: '1', topic_name: topic, broker_addr: '', topic_offset: '0' } });
    expect((await failure(bare)).mapped).toMatchObject({ code: 'DC_ERR_UNAUTHENTICATED', retryable: false });

    // Without the client certificate the TLS handshake fails: UNAVAILABLE, retryable, as on grpc-js.
    const noCert = http2Connection(broker, { tls: { ca: pem('ca.pem'), serverName: 'localhost' }, token: tokens[0] as string });
    const refused = noCert.connection.unary('danube', 'ProducerService', 'SendMessage', { request_id: '0' }, { timeoutMs: 5_000 });
    expect((await failure(refused)).mapped).toMatchObject({ code: 'DC_ERR_UNAVAILABLE', retryable: true });
  });

  it('a server certificate from an unknown CA is refused with UNAVAILABLE', async () => {
    const broker = await startBroker({ tls: { cert: pem('server.pem'), key: pem('server.key') } });
    const { connection } = http2Connection(broker, { tls: { serverName: 'localhost' } });
    const call = connection.unary('danube', 'ProducerService', 'SendMessage', { request_id: '0' }, { timeoutMs: 5_000 });
    const result = await failure(call);
    expect(result.mapped).toMatchObject({ code: 'DC_ERR_UNAVAILABLE', retryable: true });
    expect(result.details).toMatch(/certificate/i);
  });
});
