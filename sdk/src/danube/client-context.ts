import { ConnectionPool, type Connection, type ConnectionOptions, type TopicRoute } from './connection.js';
import { DanubeError, fromGrpcError } from './errors.js';
import { silentLogger, type DanubeLogger } from './logger.js';
import type { RetryOptions } from './retry.js';
import type { TopicLookupResponseWire, TopicPartitionsResponseWire } from './wire.js';

/** What producers, consumers and the registry client share: the pool, the service URL and the defaults. */
export class ClientContext {
  readonly pool: ConnectionPool;
  private lookupRequestId = 0;

  constructor(
    readonly serviceUrl: string,
    connectionOptions: ConnectionOptions,
    readonly requestTimeoutMs: number,
    readonly retry: RetryOptions,
    readonly healthCheckIntervalMs: number,
    readonly logger: DanubeLogger = silentLogger,
    /** Creates a missing namespace (the client's `createNamespacesVia`); absent: a missing namespace is an error. */
    readonly ensureNamespace?: (namespace: string) => Promise<void>,
  ) {
    this.pool = new ConnectionPool(connectionOptions);
  }

  get service(): Connection {
    return this.pool.get(this.serviceUrl);
  }

  nextLookupId(): string {
    return String(this.lookupRequestId++);
  }

  /**
   * Where to create a producer or subscribe for `topic` (docs/danube-protocol.md §7.2): the owner from TopicLookup, or the
   * current route when the topic is unknown (NOT_FOUND for a topic CreateProducer is about to auto-create)
   * or the lookup failed transiently. Bad names and auth failures surface at once.
   */
  async lookup(topic: string, current?: TopicRoute): Promise<TopicRoute> {
    const fallback = current ?? { connectUrl: this.serviceUrl, brokerUrl: this.serviceUrl, proxy: false };
    let response: TopicLookupResponseWire;
    try {
      response = await this.service.unary<TopicLookupResponseWire>(
        'danube',
        'Discovery',
        'TopicLookup',
        { request_id: this.nextLookupId(), topic },
        { timeoutMs: this.requestTimeoutMs },
      );
    } catch (err) {
      const mapped = fromGrpcError(err, { rpc: 'TopicLookup', topic });
      if (mapped.grpcStatus === 5 /* NOT_FOUND */ || mapped.retryable) return fallback;
      throw mapped;
    }
    if (response.response_type === 'Failed') {
      throw new DanubeError(`TopicLookup, topic ${topic} failed: the broker answered Failed`, { code: 'DC_ERR_UNAVAILABLE', retryable: true });
    }
    return { connectUrl: response.connect_url, brokerUrl: response.broker_url, proxy: response.proxy };
  }

  /** The topics to subscribe for `topic`: itself, or its `-part-` partitions; empty when it does not exist (docs/danube-protocol.md §6.3). */
  async topicPartitions(topic: string): Promise<string[]> {
    try {
      const response = await this.service.unary<TopicPartitionsResponseWire>(
        'danube',
        'Discovery',
        'TopicPartitions',
        { request_id: this.nextLookupId(), topic },
        { timeoutMs: this.requestTimeoutMs },
      );
      return response.partitions;
    } catch (err) {
      throw fromGrpcError(err, { rpc: 'TopicPartitions', topic });
    }
  }
}
