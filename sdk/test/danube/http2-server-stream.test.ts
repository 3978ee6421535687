import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { parseBrokerUrl } from '../../src/danube/broker-url.js';
import { Connection, type ConnectionOptions, type Transport } from '../../src/danube/connection.js';
import type { DanubeClient } from '../../src/danube/danube-client.js';
import { fromGrpcError } from '../../src/danube/errors.js';
import type { ServerStream } from '../../src/danube/server-stream.js';
import type { ClientContext } from '../../src/danube/client-context.js';
import type { ConsumerResponseWire, HealthCheckResponseWire, StreamMessageWire } from '../../src/danube/wire.js';
import { startRechunkingProxy } from './rechunking-proxy.js';
import { itWithTestBroker, startTarget, uniqueName, uniqueTopic, type Target } from '../contract/target.js';

// The ReceiveMessages stream on the http2 transport (issue 16), beside grpc-js's where the behaviour is a contract.
// Everything runs against the TestBroker and unchanged against DANUBE_SERVICE_URL, except the fault injection.
const TRANSPORTS: readonly Transport[] = ['grpc-js', 'http2'];
const KIB = 1024;

/** A connection on `transport` to the target (or `url`, a proxy in front of it), with its token; closed when the test ends. */
function connectionTo(
  target: Target,
  transport: Transport,
  { url = target.serviceUrl, token = target.token, channelOptions }: { url?: string; token?: string | undefined; channelOptions?: ConnectionOptions['channelOptions'] } = {},
): Connection {
  const connection = new Connection(parseBrokerUrl(url), { transport, ...(token ? { token } : {}), ...(channelOptions ? { channelOptions } : {}) });
  onTestFinished(() => connection.close());
  return connection;
}

/** Subscribes `name` on `topic` (Exclusive) over `connection`; the consumer id. */
async function subscribe(connection: Connection, topic: string, subscription = uniqueName('s')): Promise<string> {
  const response = await connection.unary<ConsumerResponseWire>('danube', 'ConsumerService', 'Subscribe', {
    request_id: '0',
    topic_name: topic,
    consumer_name: uniqueName('c'),
    subscription,
    subscription_type: 'Exclusive',
    key_filters: [],
  });
  return response.consumer_id;
}

function receive(connection: Connection, consumerId: string, proxyBrokerUrl?: string): Promise<ServerStream<StreamMessageWire>> {
  return connection.serverStream<StreamMessageWire>('danube', 'ConsumerService', 'ReceiveMessages', { request_id: '1', consumer_id: consumerId }, { proxyBrokerUrl });
}

function ack(connection: Connection, message: StreamMessageWire, subscription: string): Promise<unknown> {
  return connection.unary('danube', 'ConsumerService', 'Ack', { request_id: message.request_id, msg_id: message.msg_id, subscription_name: subscription });
}

/** The error a stream ends with (it must end with one). */
function streamError(stream: ServerStream<unknown>): Promise<{ code: number; details: string }> {
  return new Promise((resolve, reject) => {
    stream.on('error', (err) => resolve(err as unknown as { code: number; details: string }));
    stream.on('end', () => reject(new Error('the stream ended cleanly')));
  });
}

/** The http2 transport of a client's connection to its service URL (white box: proves which transport ran). */
function http2Of(client: DanubeClient, serviceUrl: string) {
  return (client as unknown as { ctx: ClientContext }).ctx.pool.get(serviceUrl).http2;
}

/** Tiny messages (4..12 bytes) with a 100 KiB one and a 1 MiB one in every 60. */
const FRAMING_SIZES = Array.from({ length: 240 }, (_, i) => (i % 60 === 20 ? 100 * KIB : i % 60 === 40 ? 1024 * KIB : 4 + (i % 9)));
/** The re-chunking proxy speaks plain text only. */
const EXTERNAL_TLS = (process.env.DANUBE_SERVICE_URL ?? '').startsWith('https:');

/** Payload `i` of a sequence: its index in the first 4 bytes, then `size - 4` bytes of a pattern of `i`. */
function numbered(i: number, size: number): Buffer {
  const payload = Buffer.alloc(Math.max(4, size), i % 251);
  payload.writeUInt32BE(i, 0);
  return payload;
}

describe('ReceiveMessages on the http2 transport', () => {
  it('decodes a message exactly as grpc-js does: attributes, routing key, 64-bit strings, an empty payload, absent optionals', async () => {
    const target = await startTarget();
    const topic = uniqueTopic('decode');
    const producer = await target.client().createProducer({ topic, name: uniqueName('p'), dispatch: 'reliable' });
    const readers = await Promise.all(
      TRANSPORTS.map(async (transport) => {
        const connection = connectionTo(target, transport);
        const subscription = uniqueName('s');
        const stream = await receive(connection, await subscribe(connection, topic, subscription));
        const got: StreamMessageWire[] = [];
        stream.on('data', (m: StreamMessageWire) => {
          got.push(m);
          // Acked only to keep the window open; one cut off by the broker's stop at the end does not matter.
          ack(connection, m, subscription).catch(() => undefined);
        });
        stream.on('error', () => undefined); // CANCELLED, when the test ends
        onTestFinished(() => stream.cancel());
        return got;
      }),
    );
    await producer.send(Buffer.alloc(0));
    await producer.send('with attributes and key', { key: 'route-7', attributes: { a: '1', 'ü-key': 'ß value', empty: '' }, publishTime: 1_700_000_000_123 });
    await producer.send(Buffer.from([0, 255, 0x80, 10]));
    await vi.waitFor(() => expect(readers.map((r) => r.length)).toEqual([3, 3]), { timeout: 15_000 });
    const [viaGrpcJs, viaHttp2] = readers as [StreamMessageWire[], StreamMessageWire[]];
    // Same prototypes, same keys (absent stays absent), same Buffers: fromWireMessage sees no difference.
    expect(viaHttp2).toStrictEqual(viaGrpcJs);
    const [empty, keyed] = viaHttp2 as [StreamMessageWire, StreamMessageWire];
    expect(Buffer.isBuffer(empty.payload) && empty.payload.length).toBe(0);
    expect(empty.attributes).toEqual({});
    expect('routing_key' in empty).toBe(false);
    expect(keyed).toMatchObject({ routing_key: 'route-7', attributes: { a: '1', 'ü-key': 'ß value', empty: '' }, publish_time: '1700000000123' });
    expect(typeof keyed.msg_id?.producer_id).toBe('string');
  });

  it.each(TRANSPORTS)('framing (%s): 100 KiB and 1 MiB messages split across DATA frames, between bursts of tiny ones, arrive whole and in order', async (transport) => {
    const target = await startTarget();
    const client = target.client({ transport });
    const topic = uniqueTopic('frames');
    const producer = await client.createProducer({ topic, name: uniqueName('p'), dispatch: 'reliable', ordering: 'none', maxInFlight: 16 });
    const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: uniqueName('s') });
    await Promise.all(FRAMING_SIZES.map((size, i) => producer.send(numbered(i, size))));
    const seen: number[] = [];
    for (let offset = 0; offset < FRAMING_SIZES.length; offset++) {
      const message = await consumer.receive(AbortSignal.timeout(20_000));
      const n = message.payload.readUInt32BE(0);
      expect(message.payload.equals(numbered(n, FRAMING_SIZES[n] as number))).toBe(true);
      // Exclusive on a reliable topic delivers in log order (sends in flight may be stored out of send order).
      expect(message.offset).toBe(String(offset));
      seen.push(n);
      await consumer.ack(message);
    }
    expect(seen.sort((a, b) => a - b)).toEqual(FRAMING_SIZES.map((_, i) => i));
    // The consumer's stream was on the http2 session (a unary call would have finished by now).
    if (transport === 'http2') expect(http2Of(client, target.serviceUrl)?.inFlight).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it.skipIf(EXTERNAL_TLS).each(TRANSPORTS)(
    'framing through a re-chunking proxy (%s): several messages in one DATA frame, prefixes and bodies cut anywhere, all whole and in order',
    async (transport) => {
      const target = await startTarget();
      const proxy = await startRechunkingProxy(target.serviceUrl);
      const topic = uniqueTopic('rechunked');
      const producer = await target.client().createProducer({ topic, name: uniqueName('p'), dispatch: 'reliable', ordering: 'none', maxInFlight: 16 });
      const connection = connectionTo(target, transport, { url: proxy.url });
      const subscription = uniqueName('s');
      const consumerId = await subscribe(connection, topic, subscription);
      // Stored before the stream opens, so the broker's first window goes out as one burst.
      await Promise.all(FRAMING_SIZES.map((size, i) => producer.send(numbered(i, size))));
      const stream = await receive(connection, consumerId);
      onTestFinished(() => stream.cancel());
      const got: StreamMessageWire[] = [];
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`received ${got.length} of ${FRAMING_SIZES.length} within 20 s`)), 20_000);
        stream.on('error', reject);
        stream.on('data', (m: StreamMessageWire) => {
          got.push(m);
          ack(connection, m, subscription).catch(reject);
          if (got.length === FRAMING_SIZES.length) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      for (const [offset, m] of got.entries()) {
        const n = m.payload.readUInt32BE(0);
        expect(m.payload.equals(numbered(n, FRAMING_SIZES[n] as number))).toBe(true);
        expect(m.msg_id?.topic_offset).toBe(String(offset));
      }
      expect(proxy.sharedFrames).toBeGreaterThan(0);
      expect(proxy.oversizeWrites).toBeGreaterThan(0);
    },
    60_000,
  );

  const PAUSE_CASES = TRANSPORTS.flatMap((transport) => (['direct', 'through the re-chunking proxy'] as const).map((via) => [transport, via] as const));
  it.skipIf(EXTERNAL_TLS).each(PAUSE_CASES)('pause() in a data handler holds the next message until resume() (%s, %s): none early, none lost, order kept', async (transport, via) => {
    const target = await startTarget();
    const topic = uniqueTopic('pause');
    const producer = await target.client().createProducer({ topic, name: uniqueName('p'), dispatch: 'reliable' });
    // Through the proxy, messages share DATA frames: pause() lands in the middle of a chunk.
    const url = via === 'direct' ? target.serviceUrl : (await startRechunkingProxy(target.serviceUrl)).url;
    const connection = connectionTo(target, transport, { url });
    const subscription = uniqueName('s');
    const consumerId = await subscribe(connection, topic, subscription);
    // Stored before the stream opens: the first window (10) goes out as one burst.
    for (let i = 0; i < 40; i++) await producer.send(`m${i}`);
    const stream = await receive(connection, consumerId);
    onTestFinished(() => stream.cancel());
    const got: string[] = [];
    let paused = false;
    let early = 0;
    const all = new Promise<void>((resolve, reject) => {
      stream.on('error', reject);
      stream.on('data', (m: StreamMessageWire) => {
        if (paused) early++;
        got.push(m.payload.toString());
        paused = true;
        stream.pause();
        // Resumed once the broker has answered the ack: an event, not a timer.
        ack(connection, m, subscription).then(() => {
          paused = false;
          if (got.length === 40) resolve();
          else stream.resume();
        }, reject);
      });
    });
    await all;
    expect(early).toBe(0);
    expect(got).toEqual(Array.from({ length: 40 }, (_, i) => `m${i}`));
  });

  it('pause() stops reading: the stream window the broker may fill runs out (flow control), resume() reopens it, nothing lost', async () => {
    const target = await startTarget();
    const topic = uniqueTopic('window');
    const producer = await target.client().createProducer({ topic, name: uniqueName('p'), dispatch: 'reliable' });
    const connection = connectionTo(target, 'http2');
    const subscription = uniqueName('s');
    const consumerId = await subscribe(connection, topic, subscription);
    // The broker's window of 10 unacked messages of 2 MiB is more than our 16 MiB stream window.
    const count = 12;
    for (let i = 0; i < count; i++) await producer.send(numbered(i, 2 * 1024 * KIB));
    const stream = await receive(connection, consumerId);
    onTestFinished(() => stream.cancel());
    const h2 = (stream as unknown as { stream: { state: { localWindowSize?: number } } }).stream;
    const got: number[] = [];
    const all = new Promise<void>((resolve, reject) => {
      stream.on('error', reject);
      stream.on('data', (m: StreamMessageWire) => {
        if (got.length === 0) stream.pause();
        got.push(m.payload.readUInt32BE(0));
        ack(connection, m, subscription).catch(reject);
        if (got.length === count) resolve();
      });
    });
    await vi.waitFor(() => expect(h2.state.localWindowSize).toBe(0), { timeout: 15_000, interval: 20 });
    expect(got).toEqual([0]);
    stream.resume();
    await all;
    expect(got).toEqual(Array.from({ length: count }, (_, i) => i));
  }, 60_000);

  it.each(TRANSPORTS)('a consumer whose buffer fills pauses and resumes its stream (%s): nothing lost, order kept', async (transport) => {
    const target = await startTarget();
    const client = target.client({ transport });
    const topic = uniqueTopic('backpressure');
    const producer = await client.createProducer({ topic, name: uniqueName('p'), dispatch: 'reliable' });
    // A buffer of 2 against the broker's window of 10: the stream is paused with messages still in hand.
    const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: uniqueName('s'), bufferSize: 2 });
    const sends = Array.from({ length: 150 }, (_, i) => producer.send(String(i)));
    await Promise.all(sends);
    const got: string[] = [];
    for (let i = 0; i < 150; i++) {
      const message = await consumer.receive(AbortSignal.timeout(20_000));
      got.push(message.payload.toString());
      // Acks complete one at a time and the buffer stays full meanwhile.
      await consumer.ack(message);
    }
    expect(got).toEqual(Array.from({ length: 150 }, (_, i) => String(i)));
  });

  it.each(TRANSPORTS)('cancel() (%s) ends the stream with CANCELLED; the broker sees the consumer go (HealthCheck CLOSE)', async (transport) => {
    const target = await startTarget();
    const topic = uniqueTopic('cancel');
    await target.client().createProducer({ topic, name: uniqueName('p'), dispatch: 'reliable' });
    const connection = connectionTo(target, transport);
    const consumerId = await subscribe(connection, topic);
    const health = () =>
      connection.unary<HealthCheckResponseWire>('danube', 'HealthCheck', 'HealthCheck', { request_id: '0', client: 'Consumer', id: consumerId });
    const stream = await receive(connection, consumerId);
    const ended = streamError(stream);
    await vi.waitFor(async () => expect((await health()).status).toBe('OK'));
    stream.cancel();
    const err = await ended;
    expect(err.code).toBe(1);
    if (transport === 'http2') expect(connection.http2?.inFlight).toBe(0);
    // RST_STREAM CANCEL reached the broker: the consumer is inactive (docs/danube-protocol.md §9.2).
    await vi.waitFor(async () => expect((await health()).status).toBe('CLOSE'), { timeout: 15_000, interval: 50 });
  });

  it('a delivered message over the receive limit ends the stream RESOURCE_EXHAUSTED with grpc-js\'s text, mapped to DC_ERR_MESSAGE_TOO_LARGE', async () => {
    const target = await startTarget();
    const topic = uniqueTopic('limit');
    const producer = await target.client().createProducer({ topic, name: uniqueName('p'), dispatch: 'reliable' });
    const failures = await Promise.all(
      TRANSPORTS.map(async (transport) => {
        const connection = connectionTo(target, transport, { channelOptions: { 'grpc.max_receive_message_length': 1024 } });
        const stream = await receive(connection, await subscribe(connection, topic));
        const delivered: unknown[] = [];
        stream.on('data', (m) => delivered.push(m));
        return { failed: streamError(stream), delivered };
      }),
    );
    await producer.send(Buffer.alloc(2048, 1));
    const [viaGrpcJs, viaHttp2] = await Promise.all(failures.map((f) => f.failed));
    expect(viaHttp2?.code).toBe(8);
    expect(viaHttp2?.details).toBe(viaGrpcJs?.details);
    expect(failures.map((f) => f.delivered.length)).toEqual([0, 0]);
    expect(fromGrpcError(viaHttp2, { rpc: 'ReceiveMessages', topic })).toMatchObject({ code: 'DC_ERR_MESSAGE_TOO_LARGE', retryable: false });
  });

  it('an unknown consumer: NOT_FOUND with the same status and text as on grpc-js, mapped to the same DanubeError', async () => {
    const target = await startTarget();
    const failures = await Promise.all(TRANSPORTS.map(async (transport) => streamError(await receive(connectionTo(target, transport), '12345'))));
    const [viaGrpcJs, viaHttp2] = failures as [{ code: number; details: string }, { code: number; details: string }];
    expect(viaHttp2.code).toBe(5);
    expect({ code: viaHttp2.code, details: viaHttp2.details }).toEqual({ code: viaGrpcJs.code, details: viaGrpcJs.details });
    const ctx = { rpc: 'ReceiveMessages', topic: '/default/t' };
    const mapped = fromGrpcError(viaHttp2, ctx);
    expect(mapped).toMatchObject({ code: 'DC_ERR_NOT_FOUND', retryable: false, grpcStatus: 5 });
    expect(mapped.message).toBe(fromGrpcError(viaGrpcJs, ctx).message);
  });
});

// Skipped against DANUBE_SERVICE_URL: these need a broker with auth configured by the test, the TestBroker's record of
// proxy headers, or fault injection (offline, GOAWAY).
describe('ReceiveMessages on the http2 transport: headers and faults (TestBroker only)', () => {
  itWithTestBroker('the stream request carries x-danube-broker-url and the authorization header; without a token it is UNAUTHENTICATED', async () => {
    const jwtSecret = 'http2-server-stream-test-secret-long-enough';
    const target = await startTarget({ auth: { jwtSecret } });
    const broker = target.broker!;
    const token = await broker.mintToken({ sub: 'reader' });
    const topic = uniqueTopic('headers');
    broker.createTopic(topic, { dispatch: 'reliable' });
    const connection = connectionTo(target, 'http2', { token });
    const consumerId = await subscribe(connection, topic);
    // This proxy value is sent by nothing but the stream request.
    const stream = await receive(connection, consumerId, 'http://stream-proxy.example:6650');
    stream.on('error', () => undefined); // CANCELLED, when the test ends
    onTestFinished(() => stream.cancel());
    await vi.waitFor(() => expect(broker.proxyHeaders.has('http://stream-proxy.example:6650')).toBe(true));
    const anonymous = await receive(connectionTo(target, 'http2', { token: '' }), consumerId);
    const refused = await streamError(anonymous);
    expect(refused.code).toBe(16);
    expect(fromGrpcError(refused, { rpc: 'ReceiveMessages', topic })).toMatchObject({ code: 'DC_ERR_UNAUTHENTICATED', retryable: false });
  });

  for (const fault of ['goOffline', 'goAway'] as const) {
    const what = fault === 'goOffline' ? 'goes offline and comes back' : 'sends GOAWAY (the stream carries on), then drops the connection';
    itWithTestBroker(`the broker ${what} mid-stream: the consumer resubscribes on a new session, no message lost`, async () => {
      const target = await startTarget();
      const broker = target.broker!;
      const retry = { maxRetries: Infinity, initialDelayMs: 20, maxDelayMs: 300 };
      const warnings: string[] = [];
      const quiet = () => undefined;
      const logger = { debug: quiet, info: quiet, error: quiet, warn: (_: object, msg?: string) => void warnings.push(msg ?? '') };
      const client = target.client({ transport: 'http2', retry, logger });
      const resubscribes = () => warnings.filter((w) => w === 'resubscribing').length;
      const topic = uniqueTopic(`lost-${fault}`);
      const producer = await client.createProducer({ topic, name: uniqueName('p'), dispatch: 'reliable', retry });
      const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: uniqueName('s') });
      const total = 200;
      const sends = Array.from({ length: total }, (_, i) => producer.send(String(i)));
      const seen = new Set<number>();
      const transport = http2Of(client, target.serviceUrl)!;
      const next = async () => {
        const message = await consumer.receive(AbortSignal.timeout(20_000));
        seen.add(Number(message.payload.toString()));
        // An ack lost with the connection is redelivered: at-least-once, so a failed ack is not a failure here.
        await consumer.ack(message).catch(() => undefined);
      };
      while (seen.size < 60) await next();
      const session = transport.currentSession!;
      // Not events.once: the session may also emit 'error' as it is torn down.
      const gone = new Promise((resolve) => session.once('close', resolve));
      if (fault === 'goOffline') {
        await broker.goOffline();
        await gone;
        await broker.comeBackOnline();
      } else {
        const goaway = new Promise((resolve) => session.once('goaway', resolve));
        // A long grace: grpc-js's drain would also destroy the connections opened after the GOAWAY when it ends.
        broker.goAway(60_000);
        await goaway;
        // The stream opened before the GOAWAY keeps delivering on the old session; acks go over a new one.
        const before = seen.size;
        while (seen.size < before + 20) await next();
        expect(transport.currentSession === session).toBe(false);
        expect(resubscribes()).toBe(0);
        await broker.dropConnections();
        await gone;
      }
      while (seen.size < total) await next();
      expect(resubscribes()).toBeGreaterThanOrEqual(1);
      await Promise.all(sends);
      expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
      expect(transport.sessionCount).toBeGreaterThanOrEqual(2);
      expect(transport.inFlight).toBeGreaterThanOrEqual(1);
    }, 60_000);
  }
});
