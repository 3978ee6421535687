import { DanubeAdminClient } from './admin-client.js';
import { parseBrokerUrl } from './broker-url.js';
import { ClientContext } from './client-context.js';
import { channelCredentials, type TlsOptions, type TokenSource, type Transport } from './connection.js';
import { Consumer, type ConsumerOptions } from './consumer.js';
import { DanubeError } from './errors.js';
import type { DanubeLogger } from './logger.js';
import { Producer, type ProducerOptions } from './producer.js';
import { checkRequestTimeout } from './request-timeout.js';
import type { RetryOptions } from './retry.js';
import { SchemaRegistryClient } from './schema-registry.js';
import type * as grpc from '@grpc/grpc-js';

export interface DanubeClientOptions {
  /** The broker's client port, e.g. `http://127.0.0.1:6650` (`https://` for TLS). */
  serviceUrl: string;
  /** JWT sent as `authorization: Bearer …` on every RPC, or a function returning the current one. */
  token?: TokenSource;
  /** TLS settings (CA, client certificate and key for mTLS); TLS is also used for https:// URLs. */
  tls?: TlsOptions;
  /** Deadline of control RPCs (lookup, create, subscribe, ack, registry) in ms. Default 10000. */
  requestTimeoutMs?: number;
  /**
   * Retry policy for retryable failures: by default each request (create, send, subscribe, ack) retries for up to
   * 120 s (`deadlineMs`, like Kafka's `delivery.timeout.ms`) with backoff from 100 ms doubling to a 5 s cap, with
   * jitter, which rides out a broker restart.
   */
  retry?: RetryOptions;
  /** Interval of the producer and consumer health checks in ms; 0 disables them. Default 5000 (as the reference clients). */
  healthCheckIntervalMs?: number;
  /** pino-compatible logger; silent by default. */
  logger?: DanubeLogger;
  /** Extra grpc-js channel options. */
  channelOptions?: grpc.ChannelOptions;
  /**
   * What carries the hot path, SendMessage, Ack, Nack and the ReceiveMessages stream: 'grpc-js' (default) or
   * 'http2', a lean gRPC client on node:http2 that costs about half the client CPU per message (README
   * "Transport"). Everything else (lookup, create, subscribe, registry, health checks) always uses grpc-js.
   * Same TLS, token, proxy header, deadlines, size limits and error codes on both.
   */
  transport?: Transport;
  /**
   * The broker's admin URL: when a producer's namespace does not exist, create it there and go on, instead of
   * failing with DC_ERR_NAMESPACE_NOT_FOUND (Danube never creates namespaces itself). For development and for
   * `[danube] create_namespaces`; uses the same token and TLS settings.
   */
  createNamespacesVia?: string;
}

/** Creates namespaces through the admin API, once per namespace and client, sharing concurrent requests. */
function namespaceCreator(options: DanubeClientOptions): (namespace: string) => Promise<void> {
  const admin = new DanubeAdminClient({
    adminUrl: options.createNamespacesVia as string,
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.tls !== undefined ? { tls: options.tls } : {}),
  });
  const created = new Map<string, Promise<void>>();
  return (namespace) => {
    let pending = created.get(namespace);
    if (!pending) {
      pending = admin.createNamespace(namespace).then(
        () => undefined,
        (err: unknown) => {
          created.delete(namespace);
          throw err;
        },
      );
      created.set(namespace, pending);
    }
    return pending;
  };
}

/**
 * Entry point of the Danube client: one pool of connections shared by every producer, consumer and the
 * schema registry client made from it.
 */
export class DanubeClient {
  readonly serviceUrl: string;
  readonly schemaRegistry: SchemaRegistryClient;
  private readonly ctx: ClientContext;
  private readonly producers = new Set<Producer>();
  private readonly consumers = new Set<Consumer>();
  private closed = false;

  constructor(options: DanubeClientOptions) {
    const address = parseBrokerUrl(options.serviceUrl, 'Danube service URL');
    // Read TLS files now so a bad path fails at construction, not at the first call.
    channelCredentials(address, options.tls);
    const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    checkRequestTimeout(requestTimeoutMs);
    const transport = options.transport ?? 'grpc-js';
    if (transport !== 'grpc-js' && transport !== 'http2') {
      throw new DanubeError(`transport must be "grpc-js" or "http2", got ${JSON.stringify(transport)}`, { code: 'DC_ERR_INVALID_OPTION', retryable: false });
    }
    this.serviceUrl = options.serviceUrl;
    this.ctx = new ClientContext(
      options.serviceUrl,
      { tls: options.tls, token: options.token, channelOptions: options.channelOptions, transport },
      requestTimeoutMs,
      options.retry ?? {},
      options.healthCheckIntervalMs ?? 5_000,
      options.logger,
      options.createNamespacesVia === undefined ? undefined : namespaceCreator(options),
    );
    this.schemaRegistry = new SchemaRegistryClient(this.ctx);
  }

  private assertOpen(): void {
    if (this.closed) throw new DanubeError('Danube client is closed', { code: 'DC_ERR_CLOSED', retryable: false });
  }

  /** Creates (or reattaches by name) a producer; resolves when every partition's producer exists on the broker. */
  async createProducer(options: ProducerOptions): Promise<Producer> {
    this.assertOpen();
    const producer = new Producer(this.ctx, this.schemaRegistry, options, () => this.producers.delete(producer));
    await producer.create();
    this.producers.add(producer);
    return producer;
  }

  /** Subscribes (or reattaches by name); resolves when every partition's stream is open. */
  async subscribe(options: ConsumerOptions): Promise<Consumer> {
    this.assertOpen();
    const consumer = new Consumer(this.ctx, options, () => this.consumers.delete(consumer));
    await consumer.start();
    this.consumers.add(consumer);
    return consumer;
  }

  /** The owner of a topic as lookup reports it; the service URL for a topic not created yet. */
  lookupTopic(topic: string): Promise<{ connectUrl: string; brokerUrl: string; proxy: boolean }> {
    this.assertOpen();
    return this.ctx.lookup(topic);
  }

  /** The topic itself or its `-part-` partitions, as the broker lists them. */
  topicPartitions(topic: string): Promise<string[]> {
    this.assertOpen();
    return this.ctx.topicPartitions(topic);
  }

  /** Flushes producers (up to `timeoutMs`), cancels consumer streams and closes every connection. */
  async close(timeoutMs = 30_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.producers].map((p) => p.close(timeoutMs)));
    for (const consumer of [...this.consumers]) consumer.close();
    this.ctx.pool.close();
  }
}
