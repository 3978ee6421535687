import { credentials, Metadata, status } from '@grpc/grpc-js';
import type { ChannelCredentials, Client, ClientReadableStream, ServiceError, StatusObject } from '@grpc/grpc-js';
import { expect, onTestFinished } from 'vitest';
import { serviceClient } from '@danube-connect/sdk/internal';
import type { DanubeGrpcPackages } from '@danube-connect/sdk/internal';
import type { StreamMessageWire } from '@danube-connect/sdk/internal';
import { TestBroker } from '../src/index.js';
import type { TestBrokerOptions } from '../src/index.js';

/** Redelivery timings small enough for a fast suite. */
const FAST_POLICY = { ackTimeoutMs: 200, baseRedeliveryDelayMs: 50, maxRedeliveryDelayMs: 400 } as const;

/** Deadline of a wait for an event, ms: generous for a loaded 2-core machine, below the 30 s test timeout. */
const WAIT_MS = 15_000;

/** Starts a broker stopped when the test ends. */
export async function startBroker(options: TestBrokerOptions = {}): Promise<TestBroker> {
  const broker = await TestBroker.start({ ...options, failurePolicy: { ...FAST_POLICY, ...options.failurePolicy } });
  onTestFinished(() => broker.stop());
  return broker;
}

export interface ConnectOptions {
  credentials?: ChannelCredentials;
  token?: string;
  channelOptions?: Record<string, string | number>;
}

/** Raw generated clients of one port; closed when the test ends. */
export class RawClients {
  private readonly clients = new Map<string, Client>();

  constructor(
    private readonly url: string,
    private readonly options: ConnectOptions = {},
  ) {
    onTestFinished(() => this.close());
  }

  client(pkg: keyof DanubeGrpcPackages, service: string): Client {
    const key = `${pkg}.${service}`;
    let client = this.clients.get(key);
    if (!client) {
      const Ctor = serviceClient(pkg, service);
      const target = this.url.replace(/^[a-z]+:\/\//i, '');
      // TLS test certificates name localhost: grpc-js would otherwise send the IP literal as SNI (Node's DEP0123).
      const tlsDefaults = this.options.credentials ? { 'grpc.ssl_target_name_override': 'localhost' } : {};
      client = new Ctor(target, this.options.credentials ?? credentials.createInsecure(), { ...tlsDefaults, ...this.options.channelOptions });
      this.clients.set(key, client);
    }
    return client;
  }

  metadata(token = this.options.token): Metadata {
    const metadata = new Metadata();
    if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
    return metadata;
  }

  /** A unary call `pkg.Service/Method`. */
  call<Res = any>(pkg: keyof DanubeGrpcPackages, service: string, method: string, request: object, metadata = this.metadata()): Promise<Res> {
    const client = this.client(pkg, service) as unknown as Record<string, Function>;
    return new Promise<Res>((resolve, reject) => {
      (client[method] as Function).call(client, request, metadata, (err: ServiceError | null, response: Res) =>
        err ? reject(err) : resolve(response),
      );
    });
  }

  danube<Res = any>(service: string, method: string, request: object, metadata?: Metadata): Promise<Res> {
    return this.call<Res>('danube', service, method, request, metadata);
  }

  schema<Res = any>(method: string, request: object, metadata?: Metadata): Promise<Res> {
    return this.call<Res>('danube_schema', 'SchemaRegistry', method, request, metadata);
  }

  admin<Res = any>(service: string, method: string, request: object, metadata?: Metadata): Promise<Res> {
    return this.call<Res>('danube_admin', service, method, request, metadata);
  }

  receive(consumerId: string, metadata = this.metadata()): StreamReader {
    const client = this.client('danube', 'ConsumerService') as unknown as Record<string, Function>;
    const stream = (client.ReceiveMessages as Function).call(client, { request_id: '1', consumer_id: consumerId }, metadata);
    const reader = new StreamReader(stream as ClientReadableStream<StreamMessageWire>);
    onTestFinished(() => reader.cancel());
    return reader;
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}

/** Buffers a ReceiveMessages stream so tests can await messages and the final status. */
export class StreamReader {
  readonly messages: StreamMessageWire[] = [];
  private readonly waiters: Array<() => void> = [];
  private finalStatus: Partial<StatusObject> | undefined;
  private readonly statusPromise: Promise<Partial<StatusObject>>;
  private taken = 0;

  private readonly headers: Promise<void>;

  constructor(readonly stream: ClientReadableStream<StreamMessageWire>) {
    this.headers = new Promise((resolve, reject) => {
      stream.once('metadata', () => resolve());
      stream.once('error', reject);
    });
    // Tests that never call ready() must not see an unhandled rejection.
    this.headers.catch(() => {});
    stream.on('data', (message: StreamMessageWire) => {
      this.messages.push(message);
      this.wake();
    });
    this.statusPromise = new Promise((resolve) => {
      stream.on('error', (err: ServiceError) => {
        this.finalStatus ??= { code: err.code, details: err.details };
        resolve(this.finalStatus);
        this.wake();
      });
      stream.on('status', (s: StatusObject) => {
        if (s.code === status.OK) {
          this.finalStatus ??= s;
          resolve(s);
          this.wake();
        }
      });
    });
  }

  /** Resolves once response headers arrived, i.e. the broker attached the stream; rejects if it failed first. */
  ready(): Promise<void> {
    return this.headers;
  }

  /** The next message not yet taken. */
  async next(timeoutMs = WAIT_MS): Promise<StreamMessageWire> {
    const deadline = Date.now() + timeoutMs;
    while (this.taken >= this.messages.length) {
      if (this.finalStatus) throw new Error(`stream ended (${this.finalStatus.code}: ${this.finalStatus.details}) while waiting for a message`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no message within ${timeoutMs} ms (got ${this.messages.length})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.messages[this.taken++] as StreamMessageWire;
  }

  async take(count: number, timeoutMs = WAIT_MS): Promise<StreamMessageWire[]> {
    const out: StreamMessageWire[] = [];
    for (let i = 0; i < count; i++) out.push(await this.next(timeoutMs));
    return out;
  }

  /** Messages received but not taken yet. */
  get pending(): number {
    return this.messages.length - this.taken;
  }

  status(): Promise<Partial<StatusObject>> {
    return this.statusPromise;
  }

  cancel(): void {
    this.stream.cancel();
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

/** Expects a gRPC failure with `code` and optionally a message matching `details`. */
export async function expectStatus(promise: Promise<unknown>, code: status, details?: RegExp | string): Promise<ServiceError> {
  const err = (await promise.then(
    () => {
      throw new Error(`expected ${status[code]}, the call succeeded`);
    },
    (e: unknown) => e,
  )) as ServiceError;
  expect(status[err.code], err.details).toBe(status[code]);
  if (details !== undefined) expect(err.details).toMatch(details);
  return err;
}

/** Resolves when `condition` holds, polling on a short interval (for broker-side state without an event). */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

let counter = 0;
/** A unique name for topics, producers, subscriptions. */
export function unique(prefix: string): string {
  counter++;
  return `${prefix}-${process.pid}-${counter}`;
}

/** A CreateProducer request with sensible defaults. */
export function producerRequest(topic: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    request_id: '1',
    producer_name: 'p1',
    topic_name: topic,
    producer_access_mode: 'Shared',
    dispatch_strategy: 'NonReliable',
    ...overrides,
  };
}

/** A SendMessage request from a producer. */
export function message(
  producerId: string,
  topic: string,
  payload: string | Buffer,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    request_id: '7',
    msg_id: { producer_id: producerId, topic_name: topic, broker_addr: 'http://127.0.0.1:1', topic_offset: '0' },
    payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload),
    publish_time: String(Date.now()),
    producer_name: 'p1',
    subscription_name: '',
    attributes: {},
    ...overrides,
  };
}

/** Subscribe request defaults. */
export function subscribeRequest(topic: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    request_id: '3',
    topic_name: topic,
    consumer_name: 'c1',
    subscription: 's1',
    subscription_type: 'Exclusive',
    key_filters: [],
    ...overrides,
  };
}

/** Producer + sender bound to one topic. */
export async function openProducer(
  clients: RawClients,
  topic: string,
  overrides: Record<string, unknown> = {},
): Promise<{ id: string; send(payload: string | Buffer, extra?: Record<string, unknown>): Promise<{ request_id: string }> }> {
  const response = await clients.danube<{ producer_id: string }>('ProducerService', 'CreateProducer', producerRequest(topic, overrides));
  const producerName = (overrides.producer_name as string | undefined) ?? 'p1';
  return {
    id: response.producer_id,
    send: (payload, extra = {}) =>
      clients.danube('ProducerService', 'SendMessage', message(response.producer_id, topic, payload, { producer_name: producerName, ...extra })),
  };
}

/** Subscribe + ReceiveMessages, waiting until the stream is attached. */
export async function openConsumer(
  clients: RawClients,
  topic: string,
  overrides: Record<string, unknown> = {},
): Promise<{ id: string; reader: StreamReader; ack(m: StreamMessageWire): Promise<unknown>; nack(m: StreamMessageWire, extra?: Record<string, unknown>): Promise<unknown> }> {
  const request = subscribeRequest(topic, overrides);
  const response = await clients.danube<{ consumer_id: string }>('ConsumerService', 'Subscribe', request);
  const reader = clients.receive(response.consumer_id);
  await reader.ready();
  const subscription = request.subscription as string;
  return {
    id: response.consumer_id,
    reader,
    ack: (m) => clients.danube('ConsumerService', 'Ack', { request_id: m.request_id, msg_id: m.msg_id, subscription_name: subscription }),
    nack: (m, extra = {}) =>
      clients.danube('ConsumerService', 'Nack', { request_id: m.request_id, msg_id: m.msg_id, subscription_name: subscription, ...extra }),
  };
}
