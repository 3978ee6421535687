import type { Logger } from 'pino';
import type { ConsumerConfig } from '../connector.js';
import type { Consumer, OffsetGap } from '../danube/consumer.js';
import type { DanubeClient } from '../danube/danube-client.js';
import { DanubeError } from '../danube/errors.js';
import { retry, type RetryOptions } from '../danube/retry.js';
import { classify, type ConnectorError } from '../errors.js';
import { SinkRecord } from '../record.js';
import type { ConnectorMetrics } from './connector-metrics.js';
import { retryBudget } from './retry-settings.js';
import type { RuntimeSettings } from './runtime-settings.js';
import type { SinkPartition, SinkPartitionContext } from './sink-partition.js';
import type { StatusTracker } from './status-tracker.js';

export interface SinkSubscriptionContext {
  client: DanubeClient;
  settings: RuntimeSettings;
  metrics: ConnectorMetrics;
  logger: Logger;
  status: StatusTracker;
  /** Aborted when intake stops: no more receiving, no new subscription attempt. */
  intake: AbortSignal;
  /** The worker of a (partition) topic, created on its first message. */
  partition: (key: Pick<SinkPartitionContext, 'topic' | 'partitionTopic' | 'partition'>) => SinkPartition;
  onFatal: (error: ConnectorError) => void;
}

/**
 * Cap of the wait between subscription attempts, in ms. A new subscription starts at the topic's end (docs/danube-protocol.md
 * §9.4): whatever is published between the topic's creation and our subscribe never reaches this sink, so
 * look again briskly rather than after `retryMaxDelayMs`.
 */
const SUBSCRIBE_RETRY_MAX_MS = 1_000;

/** How long a subscription stays degraded after the broker skipped messages for it, in ms. */
const GAP_DEGRADED_MS = 10 * 60_000;

/** Worth waiting for: the topic may be created later (a sink may start before its producer), or Danube is down. */
function waitable(err: unknown): err is DanubeError {
  return err instanceof DanubeError && (err.code === 'DC_ERR_TOPIC_NOT_FOUND' || err.retryable);
}

/**
 * One subscription of the sink: subscribes (retrying while the topic does not exist or Danube is down, status
 * degraded), then receives and hands each message to its partition's worker. If the consumer fails for good
 * (its topic was deleted), it subscribes again the same way.
 */
export class SinkSubscription {
  /** Resolves when the first subscription attempt succeeded or is being retried; rejects when it cannot work. */
  readonly started: Promise<void>;
  private consumer: Consumer | undefined;
  /** Forever, at most SUBSCRIBE_RETRY_MAX_MS apart. */
  private readonly subscribeRetry: RetryOptions;
  private readonly log: Logger;
  private readonly statusKey: string;
  private markStarted!: (error?: unknown) => void;
  /** Per (partition) topic: ends the degraded state a skip opened. */
  private readonly gapTimers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly config: ConsumerConfig,
    private readonly consumerName: string,
    private readonly ctx: SinkSubscriptionContext,
  ) {
    const maxDelayMs = Math.min(ctx.settings.retryMaxDelayMs, SUBSCRIBE_RETRY_MAX_MS);
    this.subscribeRetry = retryBudget(ctx.settings, { maxRetries: Infinity, initialDelayMs: Math.min(ctx.settings.retryInitialDelayMs, maxDelayMs), maxDelayMs });
    this.log = ctx.logger.child({ topic: config.topic, subscription: config.subscription, consumer: consumerName });
    this.statusKey = `subscribe:${config.topic}:${config.subscription}`;
    this.started = new Promise<void>((resolve, reject) => {
      this.markStarted = (error) => (error === undefined ? resolve() : reject(error));
    });
    // start() awaits `started`; a rejection there is reported by start, not as unhandled.
    this.started.catch(() => undefined);
    void this.run();
  }

  /** Cancels the streams: the broker redelivers whatever was not acked (docs/danube-protocol.md §9.2). */
  close(): void {
    this.consumer?.close();
    this.consumer = undefined;
    for (const timer of this.gapTimers.values()) clearTimeout(timer);
    this.gapTimers.clear();
  }

  /** The broker skipped messages for this subscription (docs/danube-protocol.md §9.4): lost for good, so never silent. */
  private onGap(gap: OffsetGap): void {
    const { topic, subscription } = this.config;
    this.ctx.metrics.recordOffsetGap(topic, subscription, gap.count);
    this.log.error(
      { partitionTopic: gap.topic, firstOffset: gap.firstOffset, lastOffset: gap.lastOffset, count: gap.count },
      `the broker skipped ${gap.count} messages (offsets ${gap.firstOffset}-${gap.lastOffset} of ${gap.topic}) for subscription ${subscription}: they are lost (the subscription lagged behind the live tail)`,
    );
    const key = `gap:${gap.topic}:${subscription}`;
    this.ctx.status.degrade(key, `subscription ${subscription} on ${gap.topic} lost offsets ${gap.firstOffset}-${gap.lastOffset} (${gap.count} messages skipped by the broker)`);
    clearTimeout(this.gapTimers.get(key));
    const timer = setTimeout(() => {
      this.gapTimers.delete(key);
      this.ctx.status.recover(key);
    }, GAP_DEGRADED_MS);
    timer.unref();
    this.gapTimers.set(key, timer);
  }

  private async run(): Promise<void> {
    try {
      await this.receiveUntilDone();
    } catch (err) {
      // Danube and connector failures are handled where they happen; this is a bug of ours.
      this.ctx.onFatal(classify(err));
    } finally {
      // Stopped before the first attempt finished: start() must not wait for it.
      this.markStarted();
    }
  }

  private async receiveUntilDone(): Promise<void> {
    let first = true;
    while (!this.ctx.intake.aborted) {
      let consumer: Consumer | undefined;
      try {
        consumer = await this.subscribe(first);
      } catch (err) {
        if (first) this.markStarted(err);
        else this.ctx.onFatal(classify(err));
        return;
      }
      first = false;
      if (!consumer) return;
      const failure = await this.receive(consumer);
      if (failure === undefined) return;
      consumer.close();
      if (this.consumer === consumer) this.consumer = undefined;
      if (!waitable(failure)) {
        this.ctx.onFatal(classify(failure));
        return;
      }
      this.log.warn({ code: failure.code, err: failure }, 'consumer failed; subscribing again');
    }
  }

  /** Subscribes, waiting with backoff while that cannot work yet; undefined when intake stops first. */
  private async subscribe(first: boolean): Promise<Consumer | undefined> {
    const { topic, subscription, type, keyFilters } = this.config;
    const outcome = await retry(
      async () => {
        const consumer = await this.ctx.client.subscribe({
          topic,
          name: this.consumerName,
          subscription,
          type: type ?? 'shared',
          ...(keyFilters ? { keyFilters } : {}),
          onGap: (gap) => this.onGap(gap),
          // One attempt: this loop retries, so it can report degraded at once (acks keep the client's budget).
          subscribeRetry: { maxRetries: 0 },
        });
        if (this.ctx.intake.aborted) {
          consumer.close();
          return undefined;
        }
        this.consumer = consumer;
        this.log.info({ partitions: consumer.topicNames.length }, 'subscribed');
        this.ctx.status.recover(this.statusKey);
        if (first) this.markStarted();
        return consumer;
      },
      {
        budget: this.subscribeRetry,
        whenExhausted: 'block',
        signal: this.ctx.intake,
        classify: (err) => (waitable(err) ? 'retry' : 'stop'),
        onRetry: (err, attempt) => {
          if (attempt !== 1 || !waitable(err)) return;
          const why = err.code === 'DC_ERR_TOPIC_NOT_FOUND' ? 'topic does not exist yet' : `Danube unavailable (${err.code})`;
          this.ctx.status.degrade(this.statusKey, `cannot subscribe to ${topic}: ${why}; retrying`);
          this.log.warn({ code: err.code }, `cannot subscribe: ${why}; retrying`);
          if (first) this.markStarted();
        },
      },
    );
    if (outcome.kind === 'done') return outcome.value;
    if (outcome.kind === 'stopped') throw outcome.error;
    return undefined;
  }

  /** Hands messages to their partitions until intake stops (undefined) or the consumer fails (its error). */
  private async receive(consumer: Consumer): Promise<unknown> {
    const { intake, metrics } = this.ctx;
    const topic = this.config.topic;
    for (;;) {
      let message;
      try {
        message = await consumer.receive(intake);
      } catch (err) {
        if (intake.aborted) return undefined;
        return err ?? new Error('consumer failed without a reason');
      }
      const partition = this.ctx.partition({ topic, partitionTopic: message.topic, partition: message.partition });
      const record = new SinkRecord(message, topic, { reliable: this.config.dispatch !== 'non_reliable' });
      if (partition.offer({ message, record, consumer })) {
        metrics.recordReceived(topic, message.payload.length);
      } else {
        this.log.debug({ partitionTopic: message.topic, offset: message.offset }, 'redelivery of a pending record ignored');
      }
      // Memory stays bounded (docs/delivery-semantics.md §7): a partition with a full buffer holds back the whole consumer. On
      // reliable topics the broker's window keeps each partition below its capacity, so this rarely waits.
      await partition.room(intake);
    }
  }
}
