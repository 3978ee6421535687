import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { parseBrokerUrl, type BrokerAddress } from './broker-url.js';
import { DanubeError } from './errors.js';
import { Http2UnaryTransport, type Http2TlsMaterial, type MethodCodec } from './http2-unary-transport.js';
import { methodCodec, serviceClient, type DanubeGrpcPackages } from './proto.js';
import type { ServerStream } from './server-stream.js';

/** A PEM value given inline, or a path to a PEM file. */
type PemSource = string | Buffer;

export interface TlsOptions {
  /** CA certificate(s) that sign the broker's certificate. Default: the system roots. */
  ca?: PemSource;
  /** Client certificate for mutual TLS. Needs `key`. */
  cert?: PemSource;
  /** Client private key for mutual TLS. Needs `cert`. */
  key?: PemSource;
  /** Name expected in the broker's certificate when it differs from the dialled host. */
  serverName?: string;
}

/** A static JWT, or a supplier called before every RPC (for rotation). */
export type TokenSource = string | (() => string | Promise<string>);

/** What carries SendMessage, Ack, Nack and the ReceiveMessages stream: grpc-js, or the lean node:http2 transport (issue 16). */
export type Transport = 'grpc-js' | 'http2';

export interface ConnectionOptions {
  tls?: TlsOptions | undefined;
  token?: TokenSource | undefined;
  /** Extra grpc-js channel options, merged over ours. */
  channelOptions?: grpc.ChannelOptions | undefined;
  /** Default 'grpc-js'. */
  transport?: Transport | undefined;
}

/** The routing facts of one topic, from lookup (docs/danube-protocol.md §7.1). */
export interface TopicRoute {
  connectUrl: string;
  brokerUrl: string;
  proxy: boolean;
}

const PEM_MARKER = '-----BEGIN';

function readPem(source: PemSource | undefined, what: string): Buffer | null {
  if (source === undefined) return null;
  if (Buffer.isBuffer(source)) return source;
  if (source.includes(PEM_MARKER)) return Buffer.from(source);
  try {
    return readFileSync(source);
  } catch (err) {
    throw new DanubeError(`cannot read TLS ${what} file "${source}": ${(err as Error).message}`, {
      code: 'DC_ERR_TLS_FILE',
      retryable: false,
      cause: err,
    });
  }
}

/** The PEM material for an address, read once; undefined = plain text (http:// and no TLS options). */
function tlsMaterial(address: BrokerAddress, tls: TlsOptions | undefined): Http2TlsMaterial | undefined {
  if (!address.secure && !tls) return undefined;
  const ca = readPem(tls?.ca, 'CA');
  const cert = readPem(tls?.cert, 'certificate');
  const key = readPem(tls?.key, 'key');
  if ((cert === null) !== (key === null)) {
    throw new DanubeError('TLS client authentication needs both cert and key; only one was given', {
      code: 'DC_ERR_TLS_FILE',
      retryable: false,
    });
  }
  return { ca, cert, key, serverName: tls?.serverName };
}

/** Channel credentials for an address: TLS when the URL is https:// or TLS options are configured. */
export function channelCredentials(address: BrokerAddress, tls: TlsOptions | undefined): grpc.ChannelCredentials {
  const material = tlsMaterial(address, tls);
  if (!material) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(material.ca, material.key, material.cert);
}

const KEEPALIVE_MS = 30_000;
const KEEPALIVE_TIMEOUT_MS = 10_000;
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

// Keep-alive so a dead broker is noticed within ~40 s even when no call is running. Channelz and grpc-js's
// transparent retries are off: we retry ourselves (after a lookup), and both add per-call bookkeeping on the
// unary hot path (measured within noise here, bench/client-producer). grpc-js already sets TCP_NODELAY.
const DEFAULT_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.keepalive_time_ms': KEEPALIVE_MS,
  'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.enable_channelz': 0,
  'grpc.enable_retries': 0,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 5_000,
  // Producers may send up to the broker's 4 MiB decode limit plus framing (docs/danube-protocol.md §2.6).
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
};

/**
 * The calls the http2 transport carries (issue 16): the hot unary calls, and the ReceiveMessages stream, whose
 * per-message cost on grpc-js alone is more than the Ack target allows (README "Transport"). Everything else
 * stays on grpc-js.
 */
const HTTP2_METHODS: ReadonlyMap<string, ReadonlyMap<string, 'unary' | 'server-stream'>> = new Map([
  ['ProducerService', new Map([['SendMessage', 'unary']])],
  [
    'ConsumerService',
    new Map([
      ['Ack', 'unary'],
      ['Nack', 'unary'],
      ['ReceiveMessages', 'server-stream'],
    ]),
  ],
]);
// Keyed by service, then method: looked up on every message, so without building a key string per call.
const http2Codecs = new Map<string, Map<string, MethodCodec>>();

function http2Codec(service: string, method: string, kind: 'unary' | 'server-stream'): MethodCodec | undefined {
  if (HTTP2_METHODS.get(service)?.get(method) !== kind) return undefined;
  let codecs = http2Codecs.get(service);
  if (!codecs) http2Codecs.set(service, (codecs = new Map()));
  let codec = codecs.get(method);
  if (!codec) codecs.set(method, (codec = methodCodec('danube', service, method, kind)));
  return codec;
}

type UnaryMethod = (request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<unknown>) => grpc.ClientUnaryCall;
type StreamMethod = (request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions) => grpc.ClientReadableStream<unknown>;

export interface CallOptions {
  /** Deadline of this call in ms from now; undefined = none (streams). */
  timeoutMs?: number | undefined;
  /** `x-danube-broker-url` value when the route says proxy (docs/danube-protocol.md §2.4). */
  proxyBrokerUrl?: string | undefined;
  /** The caller ignores the response (SendMessage's and Ack's are echoes): the http2 transport skips decoding it. */
  responseUnused?: boolean | undefined;
}

/** One HTTP/2 channel to one broker address, shared by every service client that talks to it. */
export class Connection {
  readonly address: BrokerAddress;
  private readonly channel: grpc.Channel;
  private readonly clients = new Map<string, grpc.Client>();
  private readonly token: TokenSource | undefined;
  /** The lean transport of SendMessage/Ack/Nack and ReceiveMessages when `transport: 'http2'`: one session per broker address. */
  readonly http2: Http2UnaryTransport | undefined;

  constructor(address: BrokerAddress, options: ConnectionOptions) {
    this.address = address;
    this.token = options.token;
    const channelOptions: grpc.ChannelOptions = { ...DEFAULT_CHANNEL_OPTIONS, ...options.channelOptions };
    if (options.tls?.serverName) channelOptions['grpc.ssl_target_name_override'] = options.tls.serverName;
    this.channel = new grpc.Channel(address.target, channelCredentials(address, options.tls), channelOptions);
    if (options.transport === 'http2') {
      // The same TLS material, limits and keep-alive as the grpc-js channel, so the two behave alike.
      this.http2 = new Http2UnaryTransport(address, {
        tls: tlsMaterial(address, options.tls),
        maxSendMessageBytes: Number(channelOptions['grpc.max_send_message_length']),
        maxReceiveMessageBytes: Number(channelOptions['grpc.max_receive_message_length']),
        keepaliveMs: Number(channelOptions['grpc.keepalive_time_ms']),
        keepaliveTimeoutMs: Number(channelOptions['grpc.keepalive_timeout_ms']),
      });
    }
  }

  private client(pkg: keyof DanubeGrpcPackages, service: string): grpc.Client {
    const key = `${pkg}.${service}`;
    let client = this.clients.get(key);
    if (!client) {
      const Ctor = serviceClient(pkg, service);
      client = new Ctor(this.address.target, grpc.credentials.createInsecure(), { channelOverride: this.channel });
      this.clients.set(key, client);
    }
    return client;
  }

  /** `Bearer <token>` for this call, undefined without a token; a supplier is asked on every call (rotation). */
  private authorization(): string | undefined | Promise<string> {
    if (this.token === undefined) return undefined;
    const token = typeof this.token === 'string' ? this.token : this.token();
    return typeof token === 'string' ? `Bearer ${token}` : token.then((value) => `Bearer ${value}`);
  }

  /** Metadata of one call: the bearer token on every RPC, the proxy header on topic RPCs (docs/danube-protocol.md §2.4). */
  private metadata(options: CallOptions): grpc.Metadata | Promise<grpc.Metadata> {
    const metadata = new grpc.Metadata();
    if (options.proxyBrokerUrl) metadata.set('x-danube-broker-url', options.proxyBrokerUrl);
    const authorization = this.authorization();
    if (authorization === undefined) return metadata;
    if (typeof authorization === 'string') {
      metadata.set('authorization', authorization);
      return metadata;
    }
    return authorization.then((value) => {
      metadata.set('authorization', value);
      return metadata;
    });
  }

  unary<Res>(pkg: keyof DanubeGrpcPackages, service: string, method: string, request: unknown, options: CallOptions = {}): Promise<Res> {
    const codec = this.http2 && pkg === 'danube' ? http2Codec(service, method, 'unary') : undefined;
    if (codec && this.http2) {
      const transport = this.http2;
      const authorization = this.authorization();
      const proxy = options.proxyBrokerUrl || undefined;
      const decode = options.responseUnused !== true;
      if (authorization instanceof Promise) return authorization.then((value) => transport.unary(codec, request, value, proxy, options.timeoutMs, decode) as Promise<Res>);
      return transport.unary(codec, request, authorization, proxy, options.timeoutMs, decode) as Promise<Res>;
    }
    const client = this.client(pkg, service) as unknown as Record<string, UnaryMethod>;
    const fn = client[method];
    if (!fn) return Promise.reject(new Error(`unknown RPC ${pkg}.${service}/${method}`));
    const callOptions: grpc.CallOptions = options.timeoutMs === undefined ? {} : { deadline: Date.now() + options.timeoutMs };
    const issue = (metadata: grpc.Metadata) =>
      new Promise<Res>((resolve, reject) => {
        fn.call(client, request, metadata, callOptions, (err, response) => (err ? reject(err) : resolve(response as Res)));
      });
    const metadata = this.metadata(options);
    return metadata instanceof grpc.Metadata ? issue(metadata) : metadata.then(issue);
  }

  /** A server-streaming call (ReceiveMessages): on the http2 transport when set, else grpc-js. Failures arrive as the stream's 'error'. */
  async serverStream<Res>(pkg: keyof DanubeGrpcPackages, service: string, method: string, request: unknown, options: CallOptions = {}): Promise<ServerStream<Res>> {
    const codec = this.http2 && pkg === 'danube' ? http2Codec(service, method, 'server-stream') : undefined;
    if (codec && this.http2) {
      const authorization = await this.authorization();
      return this.http2.serverStream<Res>(codec, request, authorization, options.proxyBrokerUrl || undefined);
    }
    const client = this.client(pkg, service) as unknown as Record<string, StreamMethod>;
    const fn = client[method];
    if (!fn) throw new Error(`unknown RPC ${pkg}.${service}/${method}`);
    const metadata = await this.metadata(options);
    return fn.call(client, request, metadata, {}) as grpc.ClientReadableStream<Res>;
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
    this.channel.close();
    this.http2?.close();
  }
}

/** Connections keyed by broker address, so every producer and consumer on one broker shares one channel. */
export class ConnectionPool {
  private readonly connections = new Map<string, Connection>();
  /** URLs as callers spell them: every Ack and SendMessage asks for its route's connection, so parse each once. */
  private readonly byUrl = new Map<string, Connection>();

  constructor(private readonly options: ConnectionOptions) {}

  get(url: string): Connection {
    const known = this.byUrl.get(url);
    if (known) return known;
    const address = parseBrokerUrl(url);
    const key = `${address.secure ? 'https' : 'http'}://${address.target}`;
    let connection = this.connections.get(key);
    if (!connection) {
      connection = new Connection(address, this.options);
      this.connections.set(key, connection);
    }
    // Bounded: brokers of a cluster, each under the few spellings lookups and options use.
    this.byUrl.set(url, connection);
    return connection;
  }

  get size(): number {
    return this.connections.size;
  }

  close(): void {
    for (const connection of this.connections.values()) connection.close();
    this.connections.clear();
    this.byUrl.clear();
  }
}
