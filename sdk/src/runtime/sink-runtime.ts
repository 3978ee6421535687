import type { SinkConnector } from '../connector.js';
import { classify, ConnectorError } from '../errors.js';
import type { ConnectorRuntime, RuntimeDeps, RuntimeStatus } from './connector-runtime.js';
import { consumerNames } from './consumer-names.js';
import { DeadLetterPublisher } from './dead-letter.js';
import { SinkPartition, type SinkPartitionContext } from './sink-partition.js';
import { StatusTracker } from './status-tracker.js';
import { SinkSubscription } from './sink-subscription.js';

/**
 * Runs a sink connector: one consumer per `consumerConfigs()` entry, one worker per partition (in order within,
 * in parallel across), batches flushed by size, time or a full unacked window, and at-least-once delivery: a
 * message is acked only after the write that carried it succeeded, or after it was dead-lettered or dropped as
 * invalid. docs/delivery-semantics.md §4.
 */
export class SinkRuntime implements ConnectorRuntime {
  private readonly state = new StatusTracker();
  /** Aborted on stop or failure: nothing more is received, no batch starts. */
  private readonly intake = new AbortController();
  /** Aborted when the drain time is up or on failure: waits between retries end, and the signal each write gets aborts. */
  private readonly run = new AbortController();
  private readonly subscriptions: SinkSubscription[] = [];
  private readonly partitions = new Map<string, SinkPartition>();
  private readonly fatalListeners: Array<(error: ConnectorError) => void> = [];
  private readonly maxUnacked: number;
  private deadLetters: DeadLetterPublisher | undefined;
  private failure: ConnectorError | undefined;
  /** Records settled (acked, dead-lettered, dropped) so far, for the drain count. */
  private settled = 0;
  private stopping: Promise<{ drained: number; abandoned: number }> | undefined;
  private stopped = false;

  constructor(
    private readonly connector: SinkConnector,
    private readonly deps: RuntimeDeps,
  ) {
    this.maxUnacked = deps.settings.maxUnacked;
    deps.metrics.watchInFlight({
      byTopic: () => this.pendingByTopic(),
      oldestAgeMs: () => Math.max(0, ...[...this.partitions.values()].map((p) => p.oldestPendingAgeMs())),
    });
    this.state.onChange((status) => {
      if (this.failure || this.stopped) return;
      deps.metrics.setHealth(status.state === 'connected' ? 'healthy' : 'degraded');
      deps.logger.info({ state: status.state, detail: status.detail }, `sink ${status.state}`);
    });
  }

  async start(): Promise<void> {
    const { settings, logger } = this.deps;
    if (typeof this.connector.process !== 'function' && typeof this.connector.processBatch !== 'function') {
      throw ConnectorError.fatal(`sink connector ${this.deps.name} implements neither process nor processBatch`);
    }
    if (!(settings.batchSize >= 1) || !(settings.batchTimeoutMs >= 0) || !(this.maxUnacked >= 1)) {
      throw ConnectorError.fatal(
        `sink ${this.deps.name}: batchSize must be >= 1, batchTimeoutMs >= 0 and maxUnacked >= 1, got ${settings.batchSize}, ${settings.batchTimeoutMs}, ${this.maxUnacked}`,
      );
    }
    const configs = await this.connector.consumerConfigs();
    if (this.intake.signal.aborted) return;
    if (configs.length === 0) throw ConnectorError.fatal(`sink connector ${this.deps.name} returned no consumer configs`);
    if (settings.deadLetterTopic !== undefined) {
      this.deadLetters = new DeadLetterPublisher(this.deps.client, settings.deadLetterTopic, this.deps.name, this.deps.logger);
    }
    this.deps.metrics.labelTopics(configs.map((config) => config.topic));
    const names = consumerNames(this.deps.name, configs);
    configs.forEach((config, index) => {
      this.subscriptions.push(
        new SinkSubscription(config, names[index] as string, {
          client: this.deps.client,
          settings,
          metrics: this.deps.metrics,
          logger,
          status: this.state,
          intake: this.intake.signal,
          partition: (key) => this.partition(index, key),
          onFatal: (error) => this.fail(error),
        }),
      );
    });
    try {
      await Promise.all(this.subscriptions.map((s) => s.started));
    } catch (err) {
      this.intake.abort();
      this.run.abort();
      for (const subscription of this.subscriptions) subscription.close();
      throw classify(err);
    }
    logger.info({ subscriptions: configs.length, batchSize: settings.batchSize, maxUnacked: this.maxUnacked }, 'sink started');
  }

  async stop(timeoutMs: number): Promise<{ drained: number; abandoned: number }> {
    this.stopping ??= this.drainAndClose(timeoutMs);
    return this.stopping;
  }

  status(): RuntimeStatus {
    return this.state.status;
  }

  onStatus(listener: (status: RuntimeStatus) => void): void {
    this.state.onChange(listener);
  }

  onFatal(listener: (error: ConnectorError) => void): void {
    this.fatalListeners.push(listener);
  }

  private partition(subscription: number, key: Pick<SinkPartitionContext, 'topic' | 'partitionTopic' | 'partition'>): SinkPartition {
    const id = `${subscription}/${key.partitionTopic}`;
    let partition = this.partitions.get(id);
    if (!partition) {
      partition = new SinkPartition({
        ...key,
        connector: this.connector,
        connectorName: this.deps.name,
        settings: this.deps.settings,
        maxUnacked: this.maxUnacked,
        metrics: this.deps.metrics,
        logger: this.deps.logger,
        status: this.state,
        deadLetters: this.deadLetters,
        intake: this.intake.signal,
        run: this.run.signal,
        onSettled: (count) => {
          this.settled += count;
        },
        onFatal: (error) => this.fail(error),
      });
      this.partitions.set(id, partition);
    }
    return partition;
  }

  private pendingByTopic(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const partition of this.partitions.values()) counts.set(partition.topic, (counts.get(partition.topic) ?? 0) + partition.inFlight);
    return counts;
  }

  /** A fatal error: intake stops, nothing more is acked by retries, and the listeners hear it once. */
  private fail(error: ConnectorError): void {
    if (this.failure || this.stopped) return;
    this.failure = error;
    this.intake.abort();
    this.run.abort();
    this.deps.metrics.setHealth('unhealthy');
    this.deps.logger.error({ code: error.code, err: error }, 'sink failed');
    for (const listener of this.fatalListeners) listener(error);
  }

  private async drainAndClose(timeoutMs: number): Promise<{ drained: number; abandoned: number }> {
    const { logger } = this.deps;
    const settledBefore = this.settled;
    logger.info({ timeoutMs }, 'sink stopping');
    this.intake.abort();
    // The batch in progress of each partition may finish (and be acked); buffered records are left to the broker.
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      Promise.all([...this.partitions.values()].map((p) => p.done)).then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    this.run.abort();
    const drained = this.settled - settledBefore;
    // Cut short: records whose write was still running. Buffered records never reached the connector; they are
    // left to the broker like any unacked message, not given up.
    let abandoned = 0;
    for (const partition of this.partitions.values()) abandoned += partition.inWrite;
    // Closing the consumers makes the broker redeliver every unacked message (docs/danube-protocol.md §9.2).
    // Not waiting for the subscriptions to end: a subscribe in progress cannot be cut short, and one that
    // succeeds after this closes its consumer itself.
    for (const subscription of this.subscriptions) subscription.close();
    try {
      await this.connector.close?.();
    } catch (err) {
      logger.warn({ err }, 'connector close failed');
    }
    this.stopped = true;
    this.deps.metrics.setHealth('stopped');
    logger.info({ drained, abandoned, timedOut }, 'sink stopped');
    return { drained, abandoned };
  }
}
