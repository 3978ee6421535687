import type { ClientContext } from './client-context.js';
import type { CallOptions, Connection, TopicRoute } from './connection.js';
import { closedError, DanubeError, fromGrpcError, type CallContext } from './errors.js';
import { HealthCheckLoop } from './health-check.js';
import type { OutgoingStreamMessage } from './stream-message-encoder.js';
import { withRetry, type RetryOptions } from './retry.js';
import type { DispatchStrategyName, ProducerResponseWire, SchemaReferenceWire } from './wire.js';

interface ProducerSession {
  producerId: string;
  route: TopicRoute;
  connection: Connection;
  proxyBrokerUrl: string | undefined;
  /** The `msg_id` of every send on this session: one object, so the encoder writes its bytes once (stream-message-encoder.ts). */
  msgId: OutgoingStreamMessage['msg_id'];
  /** The options of every SendMessage on this session (one object, not one per message). */
  sendOptions: CallOptions;
}

function ignoreResponse(): void {}

/** What a send resolves with once the broker acknowledged it (`sent`), and what it throws once it failed for good (`failed` throws). */
export interface SendCompletion<T> {
  sent(requestId: string): T;
  failed(error: unknown): never;
}

/** The request id as the result, the failure as the rejection. */
export const REQUEST_ID_COMPLETION: SendCompletion<string> = {
  sent: (requestId) => requestId,
  failed: (error) => {
    throw error;
  },
};

export interface OutgoingMessage {
  payload: Buffer;
  attributes: Record<string, string>;
  routingKey?: string | undefined;
  publishTime?: number | undefined;
}

export interface TopicProducerSettings {
  topic: string;
  name: string;
  dispatch: DispatchStrategyName;
  schemaRef: SchemaReferenceWire | undefined;
  sendTimeoutMs: number;
  retry: RetryOptions;
  signal: AbortSignal;
}

/**
 * The producer of one (partition) topic: creates it on the topic's owner, sends with retry, and recreates
 * it by name (the broker reattaches: same producer id, docs/danube-protocol.md §8.1) whenever a send or the health check
 * says the broker lost it, moved the topic or dropped the connection.
 */
export class TopicProducer {
  private session: ProducerSession | undefined;
  private creating: Promise<ProducerSession> | undefined;
  private nextRequestId = 0;
  private createRequestId = 0;
  private readonly health: HealthCheckLoop;
  private readonly sendContext: CallContext;
  /** Stamped on every message once the schema reference is resolved (docs/danube-protocol.md §10.2). */
  schema: { id: string; version: number } | undefined;

  constructor(
    private readonly ctx: ClientContext,
    readonly settings: TopicProducerSettings,
  ) {
    this.sendContext = { rpc: 'SendMessage', topic: settings.topic, producer: settings.name };
    this.health = new HealthCheckLoop(
      'Producer',
      ctx.healthCheckIntervalMs,
      () => this.session && { connection: this.session.connection, id: this.session.producerId, proxyBrokerUrl: this.session.proxyBrokerUrl },
      () => this.onBrokerClosed(),
      ctx.requestTimeoutMs,
    );
  }

  get topic(): string {
    return this.settings.topic;
  }

  get producerId(): string | undefined {
    return this.session?.producerId;
  }

  /** Creates the producer, retrying transient failures; fails fast on a missing namespace or a bad request. */
  async create(): Promise<void> {
    await withRetry(() => this.ensureSession(), this.settings.retry, {
      signal: this.settings.signal,
      what: `producer ${this.settings.name}`,
      onRetry: (err, attempt, delayMs) =>
        this.ctx.logger.warn({ topic: this.topic, producer: this.settings.name, code: err.code, attempt, delayMs }, 'producer creation failed, retrying'),
    });
    // Closed while the last attempt was on the wire (another partition failed): start nothing.
    if (this.settings.signal.aborted) throw closedError(`producer ${this.settings.name}`);
    this.health.start();
  }

  private ensureSession(): Promise<ProducerSession> {
    if (this.session) return Promise.resolve(this.session);
    this.creating ??= this.createSession().finally(() => {
      this.creating = undefined;
    });
    return this.creating;
  }

  private async createSession(): Promise<ProducerSession> {
    const { topic, name, dispatch, schemaRef } = this.settings;
    const route = await this.ctx.lookup(topic, this.session?.route);
    const connection = this.ctx.pool.get(route.connectUrl);
    const proxyBrokerUrl = route.proxy ? route.brokerUrl : undefined;
    const request = {
      request_id: String(this.createRequestId++),
      producer_name: name,
      topic_name: topic,
      schema_ref: schemaRef ?? null,
      producer_access_mode: 'Shared',
      dispatch_strategy: dispatch,
    };
    const createProducer = () =>
      connection.unary<ProducerResponseWire>('danube', 'ProducerService', 'CreateProducer', request, { timeoutMs: this.ctx.requestTimeoutMs, proxyBrokerUrl });
    let response: ProducerResponseWire;
    try {
      response = await createProducer();
    } catch (err) {
      const error = fromGrpcError(err, { rpc: 'CreateProducer', topic, producer: name });
      const namespace = topic.split('/')[1];
      if (error.code !== 'DC_ERR_NAMESPACE_NOT_FOUND' || !this.ctx.ensureNamespace || !namespace) throw error;
      await this.ctx.ensureNamespace(namespace);
      this.ctx.logger.info({ topic, namespace }, 'created the missing namespace');
      try {
        response = await createProducer();
      } catch (retryErr) {
        throw fromGrpcError(retryErr, { rpc: 'CreateProducer', topic, producer: name });
      }
    }
    const msgId = { producer_id: response.producer_id, topic_name: topic, broker_addr: route.brokerUrl, topic_offset: 0 };
    const sendOptions: CallOptions = { timeoutMs: this.settings.sendTimeoutMs, proxyBrokerUrl, responseUnused: true };
    const session = { producerId: response.producer_id, route, connection, proxyBrokerUrl, msgId, sendOptions };
    this.session = session;
    this.ctx.logger.debug({ topic, producer: name, producerId: session.producerId, broker: route.brokerUrl }, 'producer attached');
    return session;
  }

  /** Forget the session (if it is still the current one) so the next send recreates the producer. */
  private invalidate(session: ProducerSession): void {
    if (this.session === session) this.session = undefined;
  }

  private onBrokerClosed(): void {
    const session = this.session;
    if (!session) return;
    this.ctx.logger.warn({ topic: this.topic, producer: this.settings.name }, 'broker no longer knows the producer, recreating');
    this.invalidate(session);
    this.ensureSession().catch(() => {
      // The next send retries and reports the failure.
    });
  }

  /**
   * Sends one message; resolves with `done.sent(requestId)` once the broker acknowledged it, or with what
   * `done.failed` throws once it failed for good. The caller's completion runs in the same reaction as the call's
   * outcome, not one promise later: this is the hot path of every message (one promise and one microtask per hop),
   * written with `then` rather than `async` for the same reason.
   */
  send<T>(message: OutgoingMessage, done: SendCompletion<T>): Promise<T> {
    const requestId = this.nextRequestId++;
    // Stamped once: a retried message keeps the time it was first sent.
    const publishTime = message.publishTime ?? Date.now();
    const session = this.session;
    // Fast path: one attempt on the live session without the retry machinery.
    if (!session) return this.sendWithRetry(requestId, publishTime, message).then(done.sent, done.failed);
    return this.call(session, requestId, publishTime, message).then(
      () => done.sent(String(requestId)),
      (err: unknown) => {
        const error = this.failed(session, err);
        if (!error.retryable) return done.failed(error);
        return this.sendWithRetry(requestId, publishTime, message).then(done.sent, done.failed);
      },
    );
  }

  private async sendWithRetry(requestId: number, publishTime: number, message: OutgoingMessage): Promise<string> {
    await withRetry(
      async () => {
        const session = await this.ensureSession();
        return this.call(session, requestId, publishTime, message).then(ignoreResponse, (err: unknown) => {
          throw this.failed(session, err);
        });
      },
      this.settings.retry,
      {
        signal: this.settings.signal,
        what: `producer ${this.settings.name}`,
        onRetry: (err, attempt, delayMs) =>
          this.ctx.logger.warn({ topic: this.topic, producer: this.settings.name, code: err.code, attempt, delayMs }, 'send failed, retrying'),
      },
    );
    return String(requestId);
  }

  /**
   * One SendMessage on `session`; rejects with what the transport threw (see `failed`). The request has the shape
   * the hand encoder writes in one pass (stream-message-encoder.ts): the 64-bit fields this producer makes as
   * safe-integer numbers, the session's one `msg_id` object.
   */
  private call(session: ProducerSession, requestId: number, publishTime: number, message: OutgoingMessage): Promise<unknown> {
    const wire: Record<string, unknown> = {
      request_id: requestId,
      msg_id: session.msgId,
      payload: message.payload,
      publish_time: publishTime,
      producer_name: this.settings.name,
      subscription_name: '',
      attributes: message.attributes,
    };
    if (message.routingKey !== undefined) wire.routing_key = message.routingKey;
    if (this.schema) {
      wire.schema_id = this.schema.id;
      wire.schema_version = this.schema.version;
    }
    try {
      return session.connection.unary('danube', 'ProducerService', 'SendMessage', wire, session.sendOptions);
    } catch (err) {
      // A token supplier that throws: reported like any failed call, never thrown past the window.
      return Promise.reject(err);
    }
  }

  /** A failed call as a DanubeError; any retryable failure may mean the producer or topic moved, so the session is dropped (looked up and reattached before resending). */
  private failed(session: ProducerSession, err: unknown): DanubeError {
    const mapped = fromGrpcError(err, this.sendContext);
    if (mapped.retryable) this.invalidate(session);
    return mapped;
  }

  close(): void {
    this.health.stop();
  }
}
