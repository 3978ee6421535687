import type { ClientContext } from './client-context.js';
import { closedError, DanubeError } from './errors.js';
import { InFlightWindow } from './in-flight-window.js';
import { PartitionRouter } from './partition-router.js';
import type { RetryOptions } from './retry.js';
import type { SchemaInfo, SchemaRegistryClient } from './schema-registry.js';
import { partitionTopic, validatePartitionedBase, validateTopicName } from './topic-name.js';
import { REQUEST_ID_COMPLETION, TopicProducer, type OutgoingMessage, type SendCompletion } from './topic-producer.js';
import type { SchemaReferenceWire } from './wire.js';

export type DispatchMode = 'reliable' | 'non_reliable';
export type ProducerOrdering = 'partition' | 'none';
export type SchemaVersionChoice = 'latest' | { pinned: number } | { min: number };

export interface ProducerOptions {
  /** `/<namespace>/<topic>`; with `partitions` the base name of `<topic>-part-<i>`. */
  topic: string;
  /** Stable producer name; the broker reattaches by name after a reconnect. Partition i uses `<name>-<i>`. */
  name: string;
  /** 0 or absent: a plain topic; N > 0: N partitions (auto-created by the broker when missing). */
  partitions?: number;
  /** Dispatch strategy, fixed when the topic is created. Default 'reliable'. */
  dispatch?: DispatchMode;
  /** Registered schema subject to attach; the version is resolved once at creation (docs/danube-protocol.md §10.2). */
  schema?: { subject: string; version?: SchemaVersionChoice };
  /**
   * 'partition' (default): at most one send in flight per partition, so messages of a partition are stored
   * in send order even across retries; parallelism comes from partitions.
   * 'none': up to `maxInFlight` concurrent sends; the broker may store them in any order.
   */
  ordering?: ProducerOrdering;
  /** Messages accepted by `send()` and not yet acknowledged; `send()` waits when full. Default 64. */
  maxInFlight?: number;
  /** Local payload limit in bytes, checked before sending; 0 = none. Default 0. */
  maxMessageBytes?: number;
  /** Deadline of one SendMessage attempt in ms. Default 30000. */
  sendTimeoutMs?: number;
  /** Retry policy for creation and sends; defaults to the client's. */
  retry?: RetryOptions;
}

export interface SendOptions {
  /** Routing key: FNV-1a 64 picks the partition and the broker's KeyShared dispatch uses it. */
  key?: string;
  /** String attributes carried with the message. */
  attributes?: Record<string, string>;
  /** Event time in ms since the epoch. Default: now. */
  publishTime?: number;
}

export interface SendReceipt {
  /** The request id the broker acknowledged (docs/danube-protocol.md §8.2: not an offset). */
  requestId: string;
  /** The (partition) topic the message went to. */
  topic: string;
  /** Partition index, or undefined for a plain topic. */
  partition: number | undefined;
}

interface PartitionLane {
  producer: TopicProducer;
  /** Tail of the one-at-a-time chain used by 'partition' ordering. */
  tail: Promise<unknown>;
  enqueued: number;
  /** Messages enqueued up to this sequence number are aborted: an earlier one on the lane failed for good. */
  abortThrough: number;
  abortCause: DanubeError | undefined;
}

const EMPTY_ATTRIBUTES: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** A publish time the wire's uint64 carries exactly: whole, non-negative milliseconds within the safe integers. */
export function isPublishTime(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function schemaRefWire(schema: ProducerOptions['schema']): SchemaReferenceWire | undefined {
  if (!schema) return undefined;
  const version = schema.version ?? 'latest';
  if (version === 'latest') return { subject: schema.subject, use_latest: true };
  if ('pinned' in version) return { subject: schema.subject, pinned_version: version.pinned };
  return { subject: schema.subject, min_version: version.min };
}

function optionError(message: string): DanubeError {
  return new DanubeError(message, { code: 'DC_ERR_INVALID_OPTION', retryable: false });
}

/** Publishes to a Danube topic or partitioned topic with a bounded in-flight window. Create with `DanubeClient.createProducer`. */
export class Producer {
  readonly topic: string;
  readonly name: string;
  readonly partitions: number;
  readonly ordering: ProducerOrdering;
  private readonly lanes: PartitionLane[];
  private readonly router: PartitionRouter;
  private readonly window: InFlightWindow;
  private readonly maxMessageBytes: number;
  private readonly abort = new AbortController();
  private readonly settled = new Set<Promise<unknown>>();
  private closed = false;

  /** @internal */
  constructor(
    private readonly ctx: ClientContext,
    private readonly registry: SchemaRegistryClient,
    private readonly options: ProducerOptions,
    /** Called once when the producer is closed, so the client forgets it. */
    private readonly onClosed: () => void = () => {},
  ) {
    const partitions = options.partitions ?? 0;
    if (!Number.isInteger(partitions) || partitions < 0) throw optionError(`producer ${options.name}: partitions must be a whole number >= 0, got ${partitions}`);
    if (partitions > 0) validatePartitionedBase(options.topic);
    else validateTopicName(options.topic);
    if (typeof options.name !== 'string' || !/^[A-Za-z0-9_-]+$/.test(options.name)) {
      throw optionError(`producer name "${options.name}" is invalid: use letters, digits, _ and - (it is embedded in broker metadata paths)`);
    }
    const maxInFlight = options.maxInFlight ?? 64;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw optionError(`producer ${options.name}: maxInFlight must be a whole number >= 1, got ${maxInFlight}`);
    this.maxMessageBytes = options.maxMessageBytes ?? 0;
    if (!(this.maxMessageBytes >= 0)) throw optionError(`producer ${options.name}: maxMessageBytes must be >= 0`);
    this.topic = options.topic;
    this.name = options.name;
    this.partitions = partitions;
    this.ordering = options.ordering ?? 'partition';
    if (this.ordering !== 'partition' && this.ordering !== 'none') throw optionError(`producer ${options.name}: ordering must be "partition" or "none"`);
    this.window = new InFlightWindow(maxInFlight);
    this.router = new PartitionRouter(Math.max(1, partitions));
    const schemaRef = schemaRefWire(options.schema);
    const dispatch = (options.dispatch ?? 'reliable') === 'reliable' ? 'Reliable' : 'NonReliable';
    const count = Math.max(1, partitions);
    this.lanes = Array.from({ length: count }, (_, i) => ({
      producer: new TopicProducer(ctx, {
        topic: partitions > 0 ? partitionTopic(options.topic, i) : options.topic,
        name: partitions > 0 ? `${options.name}-${i}` : options.name,
        dispatch,
        schemaRef,
        sendTimeoutMs: options.sendTimeoutMs ?? 30_000,
        retry: options.retry ?? ctx.retry,
        signal: this.abort.signal,
      }),
      tail: Promise.resolve(),
      enqueued: 0,
      abortThrough: -1,
      abortCause: undefined,
    }));
  }

  /** @internal Resolves the schema reference, then creates every partition's producer. */
  async create(): Promise<void> {
    // Resolved before any CreateProducer, as the reference clients do (docs/danube-protocol.md §10.2): an unregistered
    // subject fails here and creates no topic.
    if (this.options.schema) {
      const schema = await this.resolveSchema(this.options.schema.subject, this.options.schema.version ?? 'latest');
      for (const lane of this.lanes) lane.producer.schema = schema;
    }
    // One partition failing for good ends the others' attempts, and none of them is left running.
    let failure: { error: unknown } | undefined;
    await Promise.all(
      this.lanes.map((lane) =>
        lane.producer.create().catch((error: unknown) => {
          if (failure) return;
          failure = { error };
          this.abort.abort();
        }),
      ),
    );
    if (failure) {
      this.closed = true;
      for (const lane of this.lanes) lane.producer.close();
      throw failure.error;
    }
  }

  /** The reference clients' resolution (docs/danube-protocol.md §10.2); a failure fails producer creation. */
  private async resolveSchema(subject: string, version: SchemaVersionChoice): Promise<{ id: string; version: number }> {
    let latest: SchemaInfo;
    try {
      latest = await this.registry.getLatest(subject);
    } catch (err) {
      if (!(err instanceof DanubeError) || err.code !== 'DC_ERR_NOT_FOUND') throw err;
      throw new DanubeError(`producer ${this.name}, topic ${this.topic}: schema subject ${subject} is not registered; register it before producing with it`, {
        code: 'DC_ERR_SCHEMA',
        retryable: false,
        grpcStatus: err.grpcStatus,
        cause: err,
      });
    }
    if (version === 'latest') return { id: latest.schemaId, version: latest.version };
    if ('min' in version) {
      if (latest.version < version.min) {
        throw new DanubeError(`producer ${this.name}: subject ${subject} is at version ${latest.version}, below the required minimum ${version.min}`, {
          code: 'DC_ERR_SCHEMA',
          retryable: false,
        });
      }
      return { id: latest.schemaId, version: latest.version };
    }
    if (version.pinned > latest.version) {
      throw new DanubeError(`producer ${this.name}: subject ${subject} has no version ${version.pinned} (latest is ${latest.version})`, {
        code: 'DC_ERR_SCHEMA',
        retryable: false,
      });
    }
    if (version.pinned === latest.version) return { id: latest.schemaId, version: latest.version };
    const pinned = await this.registry.get(latest.schemaId, version.pinned);
    return { id: pinned.schemaId, version: pinned.version };
  }

  /** The broker's producer id per partition (decimal uint64 strings), for diagnostics. */
  get producerIds(): Array<string | undefined> {
    return this.lanes.map((lane) => lane.producer.producerId);
  }

  /** Messages accepted and not yet acknowledged. */
  get inFlight(): number {
    return this.window.inFlight;
  }

  /**
   * Sends one message. Waits while the in-flight window is full, then resolves once the broker acknowledged
   * the message, or rejects with a DanubeError after the retries for retryable failures ran out.
   * With 'partition' ordering, a message that fails for good also fails the messages queued behind it on
   * the same partition (with the same code), so nothing behind it is stored out of order.
   */
  send(payload: Buffer | Uint8Array | string, options: SendOptions = {}): Promise<SendReceipt> {
    let message: OutgoingMessage;
    try {
      message = this.outgoing(payload, options);
    } catch (err) {
      return Promise.reject(err);
    }
    // Written with `then` rather than `async` (the hot path of every message): no wait while the window has room.
    const wait = this.window.acquire();
    return wait ? wait.then(() => this.dispatch(message)) : this.dispatch(message);
  }

  /** The message as the topic producer sends it; throws when the producer is closed or the message is invalid. */
  private outgoing(payload: Buffer | Uint8Array | string, options: SendOptions): OutgoingMessage {
    if (this.closed) throw closedError(`producer ${this.name}`);
    const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
    if (this.maxMessageBytes > 0 && body.length > this.maxMessageBytes) {
      throw new DanubeError(`producer ${this.name}, topic ${this.topic}: payload of ${body.length} bytes exceeds max_message_bytes ${this.maxMessageBytes}`, {
        code: 'DC_ERR_MESSAGE_TOO_LARGE',
        retryable: false,
      });
    }
    const attributes = options.attributes ?? EMPTY_ATTRIBUTES;
    for (const key in attributes) {
      if (typeof attributes[key] !== 'string') throw optionError(`producer ${this.name}: attribute "${key}" must be a string`);
    }
    const publishTime = options.publishTime;
    if (publishTime !== undefined && !isPublishTime(publishTime)) {
      throw optionError(`producer ${this.name}: publishTime must be whole milliseconds since the epoch (0 to 2^53 - 1), got ${publishTime}`);
    }
    return { payload: body, attributes, routingKey: options.key, publishTime };
  }

  /** Sends a message that holds a window slot; the slot is freed when it settles. */
  private dispatch(message: OutgoingMessage): Promise<SendReceipt> {
    const partition = this.router.route(message.routingKey);
    const lane = this.lanes[partition] as PartitionLane;
    const done: SendCompletion<SendReceipt> = {
      sent: (requestId) => {
        this.settle(receipt);
        return { requestId, topic: lane.producer.topic, partition: this.partitions > 0 ? partition : undefined };
      },
      failed: (err) => {
        this.settle(receipt);
        throw err;
      },
    };
    const receipt = this.ordering === 'none' ? lane.producer.send(message, done) : this.enqueue(lane, message).then(done.sent, done.failed);
    this.settled.add(receipt);
    return receipt;
  }

  private settle(receipt: Promise<SendReceipt>): void {
    this.window.release();
    this.settled.delete(receipt);
  }

  private enqueue(lane: PartitionLane, message: OutgoingMessage): Promise<string> {
    const seq = lane.enqueued++;
    const run = lane.tail.then(async () => {
      const cause = lane.abortCause;
      if (seq <= lane.abortThrough && cause) {
        throw new DanubeError(`producer ${this.name}, topic ${lane.producer.topic}: not sent because an earlier message on this partition failed: ${cause.message}`, {
          code: cause.code,
          retryable: cause.retryable,
          grpcStatus: cause.grpcStatus,
          cause,
        });
      }
      try {
        return await lane.producer.send(message, REQUEST_ID_COMPLETION);
      } catch (err) {
        lane.abortThrough = lane.enqueued - 1;
        lane.abortCause = err instanceof DanubeError ? err : new DanubeError(String(err), { code: 'DC_ERR_UNKNOWN', retryable: false, cause: err });
        throw err;
      }
    });
    lane.tail = run.catch(() => undefined);
    return run;
  }

  /** Resolves when every accepted message has been acknowledged or has failed. */
  async flush(): Promise<void> {
    while (this.settled.size > 0) await Promise.allSettled([...this.settled]);
  }

  /**
   * Stops accepting messages, waits for the accepted ones (up to `timeoutMs`, default 30000), then stops
   * retries and health checks. Danube has no close RPC: the broker keeps the producer by name (docs/danube-protocol.md §8.1).
   */
  async close(timeoutMs = 30_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.window.close(`producer ${this.name}`);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.flush(), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    this.abort.abort();
    for (const lane of this.lanes) lane.producer.close();
    await this.flush();
    this.onClosed();
  }
}
