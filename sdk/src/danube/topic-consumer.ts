import type { ClientContext } from './client-context.js';
import type { Connection, TopicRoute } from './connection.js';
import { closedError, DanubeError, fromGrpcError } from './errors.js';
import { HealthCheckLoop } from './health-check.js';
import { InFlightWindow } from './in-flight-window.js';
import { OffsetGapDetector } from './offset-gap-detector.js';
import { fromWireMessage, toWireMessageId, type DanubeMessage } from './message.js';
import { retry, withRetry, type RetryOptions } from './retry.js';
import type { ServerStream } from './server-stream.js';
import type { ConsumerResponseWire, StreamMessageWire, SubscriptionTypeName } from './wire.js';

/** The broker's default unacked window per subscription (docs/danube-protocol.md §9.4). */
const ACKS_IN_FLIGHT = 10;

interface ConsumerSession {
  consumerId: string;
  route: TopicRoute;
  connection: Connection;
  proxyBrokerUrl: string | undefined;
}

export interface TopicConsumerSettings {
  topic: string;
  name: string;
  subscription: string;
  type: SubscriptionTypeName;
  keyFilters: string[];
  retry: RetryOptions;
  /** The first subscription's policy. */
  subscribeRetry: RetryOptions;
  signal: AbortSignal;
}

/** Where a topic consumer hands its messages; `deliver` returns false when the stream should pause. */
export interface MessageSink {
  deliver(message: DanubeMessage, from: TopicConsumer): boolean;
  fail(error: DanubeError): void;
  /** The broker skipped offsets `first`..`last` of this (partition) topic for the subscription (docs/danube-protocol.md §9.4). */
  gap(from: TopicConsumer, first: bigint, last: bigint): void;
}

/**
 * The consumer of one (partition) topic: subscribes on the owner, reads the ReceiveMessages stream, and
 * resubscribes by name (same consumer id, docs/danube-protocol.md §9.1) whenever the stream ends or fails or the health
 * check says CLOSE, for as long as it is open.
 */
export class TopicConsumer {
  private session: ConsumerSession | undefined;
  private stream: ServerStream<StreamMessageWire> | undefined;
  private requestId = 0;
  private resubscribing = false;
  private paused = false;
  private readonly health: HealthCheckLoop;
  /**
   * Acks and nacks on the wire at once: callers need not wait for one round trip before the next (a consumer
   * acking one at a time falls behind the producer, and a lagging live-tail subscription loses messages,
   * docs/danube-protocol.md §9.4); more than the subscription's window (10) never helps, so the rest wait their turn.
   */
  private readonly acks = new InFlightWindow(ACKS_IN_FLIGHT);
  /** Exclusive and Failover only: Shared and KeyShared interleave offsets across consumers by design. */
  private readonly gaps: OffsetGapDetector | undefined;

  constructor(
    private readonly ctx: ClientContext,
    readonly settings: TopicConsumerSettings,
    private readonly sink: MessageSink,
  ) {
    this.health = new HealthCheckLoop(
      'Consumer',
      ctx.healthCheckIntervalMs,
      () => this.session && { connection: this.session.connection, id: this.session.consumerId, proxyBrokerUrl: this.session.proxyBrokerUrl },
      () => this.restart('health check answered CLOSE'),
      ctx.requestTimeoutMs,
    );
    this.gaps = settings.type === 'Exclusive' || settings.type === 'Failover' ? new OffsetGapDetector(ACKS_IN_FLIGHT) : undefined;
  }

  get topic(): string {
    return this.settings.topic;
  }

  get consumerId(): string | undefined {
    return this.session?.consumerId;
  }

  /** First subscription: retries transient failures, fails fast on anything else. */
  async start(): Promise<void> {
    await withRetry(() => this.subscribe(), this.settings.subscribeRetry, {
      signal: this.settings.signal,
      what: `consumer ${this.settings.name}`,
      onRetry: (err, attempt, delayMs) =>
        this.ctx.logger.warn({ topic: this.topic, consumer: this.settings.name, code: err.code, attempt, delayMs }, 'subscribe failed, retrying'),
    });
    this.health.start();
  }

  private async subscribe(): Promise<void> {
    const { topic, name, subscription, type, keyFilters } = this.settings;
    const route = await this.ctx.lookup(topic, this.session?.route);
    const connection = this.ctx.pool.get(route.connectUrl);
    const proxyBrokerUrl = route.proxy ? route.brokerUrl : undefined;
    let response: ConsumerResponseWire;
    try {
      response = await connection.unary<ConsumerResponseWire>(
        'danube',
        'ConsumerService',
        'Subscribe',
        { request_id: String(this.requestId++), topic_name: topic, consumer_name: name, subscription, subscription_type: type, key_filters: keyFilters },
        { timeoutMs: this.ctx.requestTimeoutMs, proxyBrokerUrl },
      );
    } catch (err) {
      throw fromGrpcError(err, { rpc: 'Subscribe', topic, consumer: name, subscription });
    }
    this.session = { consumerId: response.consumer_id, route, connection, proxyBrokerUrl };
    await this.openStream(this.session);
  }

  private async openStream(session: ConsumerSession): Promise<void> {
    const stream = await session.connection.serverStream<StreamMessageWire>(
      'danube',
      'ConsumerService',
      'ReceiveMessages',
      { request_id: String(this.requestId++), consumer_id: session.consumerId },
      { proxyBrokerUrl: session.proxyBrokerUrl },
    );
    this.stream = stream;
    if (this.paused) stream.pause();
    const gaps = this.gaps;
    gaps?.newStream();
    stream.on('data', (wire: StreamMessageWire) => {
      const message = fromWireMessage(wire, this.settings.subscription);
      const skipped = gaps?.observe(message.offset);
      if (skipped) this.sink.gap(this, skipped.first, skipped.last);
      if (!this.sink.deliver(message, this)) {
        this.paused = true;
        stream.pause();
      }
    });
    const ended = (why: string) => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      this.restart(why);
    };
    stream.on('error', (err) => ended(`stream failed: ${err.message}`));
    stream.on('end', () => ended('stream ended'));
  }

  /** Called by the consumer when its buffer has room again. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.stream?.resume();
  }

  /** Resubscribes in the background with capped backoff until it works or the consumer closes. */
  private restart(why: string): void {
    if (this.settings.signal.aborted || this.resubscribing) return;
    this.resubscribing = true;
    const old = this.stream;
    this.stream = undefined;
    old?.cancel();
    this.ctx.logger.warn({ topic: this.topic, consumer: this.settings.name, reason: why }, 'resubscribing');
    void (async () => {
      const outcome = await retry(
        async () => {
          try {
            await this.subscribe();
          } catch (err) {
            throw err instanceof DanubeError ? err : fromGrpcError(err, { rpc: 'Subscribe', topic: this.topic });
          }
        },
        {
          budget: { ...this.settings.retry, maxRetries: Infinity, deadlineMs: Infinity },
          whenExhausted: 'block',
          signal: this.settings.signal,
          classify: (err) => ((err as DanubeError).retryable ? 'retry' : 'stop'),
        },
      );
      if (outcome.kind === 'done') this.ctx.logger.info({ topic: this.topic, consumer: this.settings.name, attempts: outcome.attempts }, 'resubscribed');
      else if (outcome.kind === 'stopped') this.sink.fail(outcome.error as DanubeError);
      this.resubscribing = false;
    })();
  }

  private async ackOrNack(method: 'Ack' | 'Nack', message: DanubeMessage, extra: Record<string, unknown>): Promise<void> {
    const wait = this.acks.acquire();
    if (wait) await wait;
    try {
      await this.sendAckOrNack(method, message, extra);
    } finally {
      this.acks.release();
    }
  }

  private async sendAckOrNack(method: 'Ack' | 'Nack', message: DanubeMessage, extra: Record<string, unknown>): Promise<void> {
    const request = {
      request_id: message.requestId,
      msg_id: toWireMessageId(message.messageId),
      subscription_name: this.settings.subscription,
      ...extra,
    };
    await withRetry(
      async () => {
        const route = this.session?.route ?? (await this.ctx.lookup(this.topic));
        try {
          await this.ctx.pool.get(route.connectUrl).unary('danube', 'ConsumerService', method, request, {
            timeoutMs: this.ctx.requestTimeoutMs,
            proxyBrokerUrl: route.proxy ? route.brokerUrl : undefined,
            responseUnused: true,
          });
        } catch (err) {
          throw fromGrpcError(err, { rpc: method, topic: this.topic, consumer: this.settings.name, subscription: this.settings.subscription });
        }
      },
      this.settings.retry,
      { signal: this.settings.signal, what: `consumer ${this.settings.name}` },
    );
  }

  ack(message: DanubeMessage): Promise<void> {
    return this.ackOrNack('Ack', message, {});
  }

  nack(message: DanubeMessage, delayMs?: number, reason?: string): Promise<void> {
    const extra: Record<string, unknown> = {};
    if (delayMs !== undefined) extra.delay_ms = String(Math.max(0, Math.round(delayMs)));
    if (reason !== undefined) extra.reason = reason;
    return this.ackOrNack('Nack', message, extra);
  }

  /** Cancels the stream: the broker marks the consumer inactive and redelivers its unacked messages (docs/danube-protocol.md §9.2). */
  close(): void {
    this.acks.close(`consumer ${this.settings.name}`);
    this.health.stop();
    const stream = this.stream;
    this.stream = undefined;
    stream?.cancel();
  }

  /** For closed-consumer errors. */
  static closed(name: string): DanubeError {
    return closedError(`consumer ${name}`);
  }
}
