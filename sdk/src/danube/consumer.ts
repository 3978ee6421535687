import type { ClientContext } from './client-context.js';
import { closedError, DanubeError } from './errors.js';
import type { DanubeMessage } from './message.js';
import type { RetryOptions } from './retry.js';
import { validateTopicName } from './topic-name.js';
import { TopicConsumer, type MessageSink } from './topic-consumer.js';
import type { SubscriptionTypeName } from './wire.js';

export type SubscriptionType = 'exclusive' | 'shared' | 'failover' | 'key_shared';

export interface ConsumerOptions {
  /** `/<namespace>/<topic>`; a partitioned topic's base name subscribes to every partition. */
  topic: string;
  /** Stable consumer name: the broker reattaches by name, and Exclusive refuses any other (docs/danube-protocol.md §9.1). */
  name: string;
  subscription: string;
  /** Default 'shared'. */
  type?: SubscriptionType;
  /** KeyShared only: glob patterns (`*`, `?`) of routing keys this consumer accepts. */
  keyFilters?: string[];
  /** Messages buffered before the streams are paused (HTTP/2 flow control pushes back on the broker). Default 64. */
  bufferSize?: number;
  /** Retry policy for subscribe, ack and nack; defaults to the client's. Resubscription after a lost stream never gives up. */
  retry?: RetryOptions;
  /**
   * Retry policy of the first subscription only, e.g. `{ maxRetries: 0 }` for a caller that retries (and
   * reports) subscription failures itself; defaults to `retry`.
   */
  subscribeRetry?: RetryOptions;
  /**
   * Exclusive and Failover subscriptions: called when a partition's offsets jump forward, i.e. the broker skipped
   * messages for this subscription for good (a live-tail subscription that fell behind, docs/danube-protocol.md §9.4). The
   * messages cannot be recovered; the callback is there so the loss is never silent. Without it the client
   * logs an error. Reliable topics only give meaningful offsets; non-reliable ones never report a gap.
   */
  onGap?: (gap: OffsetGap) => void;
}

/** Offsets a subscription will never receive on one (partition) topic. */
export interface OffsetGap {
  /** The (partition) topic. */
  topic: string;
  subscription: string;
  consumer: string;
  /** First and last skipped offset, inclusive (decimal uint64 strings). */
  firstOffset: string;
  lastOffset: string;
  /** Messages skipped. */
  count: number;
}

const TYPE_NAMES: Record<SubscriptionType, SubscriptionTypeName> = {
  exclusive: 'Exclusive',
  shared: 'Shared',
  failover: 'Failover',
  key_shared: 'KeyShared',
};

const PARTITION_SUFFIX = /^-part-\d+$/;

/**
 * Receives the messages of one subscription, merged across partitions. Iterate it with `for await`, or call
 * `receive()`; ack each message after processing (reliable topics redeliver what is not acked).
 */
export class Consumer implements AsyncIterable<DanubeMessage>, MessageSink {
  readonly topic: string;
  readonly name: string;
  readonly subscription: string;
  private readonly bufferSize: number;
  private readonly abort = new AbortController();
  private readonly topics = new Map<string, TopicConsumer>();
  private buffer: DanubeMessage[] = [];
  private head = 0;
  private readonly waiters: Array<{ resolve: (m: DanubeMessage) => void; reject: (e: Error) => void }> = [];
  private readonly paused = new Set<TopicConsumer>();
  private failure: DanubeError | undefined;
  private closed = false;

  /** @internal */
  constructor(
    private readonly ctx: ClientContext,
    private readonly options: ConsumerOptions,
    /** Called once when the consumer is closed, so the client forgets it. */
    private readonly onClosed: () => void = () => {},
  ) {
    validateTopicName(options.topic);
    for (const [what, value] of [['consumer name', options.name], ['subscription', options.subscription]] as const) {
      if (typeof value !== 'string' || !/^[A-Za-z0-9_-]+$/.test(value)) {
        throw new DanubeError(`${what} "${value}" is invalid: use letters, digits, _ and - (it is embedded in broker metadata paths)`, {
          code: 'DC_ERR_INVALID_OPTION',
          retryable: false,
        });
      }
    }
    const type = options.type ?? 'shared';
    if (!(type in TYPE_NAMES)) {
      throw new DanubeError(`consumer ${options.name}: subscription type must be one of ${Object.keys(TYPE_NAMES).join(', ')}, got "${type}"`, {
        code: 'DC_ERR_INVALID_OPTION',
        retryable: false,
      });
    }
    this.bufferSize = Math.max(1, options.bufferSize ?? 64);
    this.topic = options.topic;
    this.name = options.name;
    this.subscription = options.subscription;
  }

  /** @internal Subscribes to the topic or to each of its partitions. */
  async start(): Promise<void> {
    const listed = await this.ctx.topicPartitions(this.topic);
    // TopicPartitions is a raw prefix match (docs/danube-protocol.md §6.3): keep only the topic itself or its own partitions.
    const topics = listed.includes(this.topic)
      ? [this.topic]
      : listed.filter((t) => t.startsWith(this.topic) && PARTITION_SUFFIX.test(t.slice(this.topic.length)));
    if (topics.length === 0) {
      throw new DanubeError(`Subscribe, topic ${this.topic}, consumer ${this.name} failed: the topic does not exist (only producers create topics)`, {
        code: 'DC_ERR_TOPIC_NOT_FOUND',
        retryable: false,
      });
    }
    const type = TYPE_NAMES[this.options.type ?? 'shared'];
    for (const topic of topics) {
      this.topics.set(
        topic,
        new TopicConsumer(
          this.ctx,
          {
            topic,
            name: this.name,
            subscription: this.subscription,
            type,
            keyFilters: this.options.keyFilters ?? [],
            retry: this.options.retry ?? this.ctx.retry,
            subscribeRetry: this.options.subscribeRetry ?? this.options.retry ?? this.ctx.retry,
            signal: this.abort.signal,
          },
          this,
        ),
      );
    }
    try {
      await Promise.all([...this.topics.values()].map((t) => t.start()));
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** The (partition) topics this consumer reads. */
  get topicNames(): string[] {
    return [...this.topics.keys()];
  }

  /** @internal */
  deliver(message: DanubeMessage, from: TopicConsumer): boolean {
    if (this.closed) return false;
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter.resolve(message);
      return true;
    }
    this.buffer.push(message);
    if (this.buffer.length - this.head >= this.bufferSize) {
      this.paused.add(from);
      return false;
    }
    return true;
  }

  /** @internal */
  gap(from: TopicConsumer, first: bigint, last: bigint): void {
    const gap: OffsetGap = {
      topic: from.topic,
      subscription: this.subscription,
      consumer: this.name,
      firstOffset: String(first),
      lastOffset: String(last),
      count: Number(last - first + 1n),
    };
    const lost = 'the broker skipped messages for this subscription (lagging live tail): they are lost';
    if (!this.options.onGap) {
      this.ctx.logger.error({ ...gap }, lost);
      return;
    }
    try {
      this.options.onGap(gap);
    } catch (err) {
      // Runs inside the stream's data handler: a throwing callback must not break delivery.
      this.ctx.logger.error({ ...gap, err }, `${lost}; onGap threw`);
    }
  }

  /** @internal A partition could not be resubscribed (e.g. the topic was deleted): surface it to the reader. */
  fail(error: DanubeError): void {
    this.failure ??= error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }

  /**
   * Resolves with the next message; rejects when the consumer is closed or failed for good, or with the
   * signal's reason when `signal` aborts first (no message is taken then).
   */
  receive(signal?: AbortSignal): Promise<DanubeMessage> {
    if (this.head < this.buffer.length) {
      const message = this.buffer[this.head++] as DanubeMessage;
      if (this.head > 1024 && this.head * 2 > this.buffer.length) {
        this.buffer = this.buffer.slice(this.head);
        this.head = 0;
      }
      if (this.paused.size > 0 && this.buffer.length - this.head <= this.bufferSize / 2) {
        for (const topic of this.paused) topic.resume();
        this.paused.clear();
      }
      return Promise.resolve(message);
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(closedError(`consumer ${this.name}`));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (message: DanubeMessage) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(message);
        },
        reject: (error: Error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      const onAbort = () => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<DanubeMessage> {
    for (;;) {
      try {
        yield await this.receive();
      } catch (err) {
        if (err instanceof DanubeError && err.code === 'DC_ERR_CLOSED' && this.closed) return;
        throw err;
      }
    }
  }

  private topicOf(message: DanubeMessage): TopicConsumer {
    const topic = this.topics.get(message.messageId.topicName);
    if (!topic) {
      throw new DanubeError(`consumer ${this.name}: message from topic ${message.messageId.topicName} does not belong to this consumer`, {
        code: 'DC_ERR_INVALID_OPTION',
        retryable: false,
      });
    }
    return topic;
  }

  /** Acknowledges a message on the broker that owns its topic. Reliable topics need it (docs/danube-protocol.md §9.4). */
  async ack(message: DanubeMessage): Promise<void> {
    await this.topicOf(message).ack(message);
  }

  /** Asks for redelivery; `delayMs` can only lengthen the broker's policy delay (docs/danube-protocol.md §9.4). */
  async nack(message: DanubeMessage, options: { delayMs?: number; reason?: string } = {}): Promise<void> {
    await this.topicOf(message).nack(message, options.delayMs, options.reason);
  }

  /** Cancels the streams; unacked messages are redelivered by the broker. Buffered messages are dropped. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    for (const topic of this.topics.values()) topic.close();
    const error = closedError(`consumer ${this.name}`);
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    this.buffer = [];
    this.head = 0;
    this.onClosed();
  }
}
