import type { Logger } from 'pino';
import type { SourceConnector, SourceOutput } from '../connector.js';
import { InFlightWindow } from '../danube/in-flight-window.js';
import { classify, ConnectorError, looksLikeConnectorError } from '../errors.js';
import type { SourceRecord } from '../record.js';
import type { ConnectorMetrics } from './connector-metrics.js';
import type { ConnectorRuntime, RuntimeDeps, RuntimeStatus } from './connector-runtime.js';
import type { InFlightRecord } from './in-flight-record.js';
import { InvalidRecords } from './invalid-records.js';
import { OrderedCommitter } from './ordered-committer.js';
import { PollLoop } from './poll-loop.js';
import type { RuntimeSettings } from './runtime-settings.js';
import { StatusTracker } from './status-tracker.js';
import { SourceProducers } from './source-producers.js';
import type { PublisherEvents } from './topic-publisher.js';
import { TopicPublishers } from './topic-publishers.js';

type Phase = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/**
 * Most `output.send` calls that may wait for a slot at once, unless maxInFlight is larger: past it a send is
 * refused at once, so a push source that neither awaits nor pauses cannot queue without bound.
 */
const MIN_MAX_WAITERS = 1024;

/** Failures not tied to a topic (poll) carry an empty topic label, which Prometheus treats as absent. */
const NO_TOPIC = '';

/** Why `record` is not a record at all (a plugin bug, thrown back at the caller), or undefined. */
function malformed(record: unknown): string | undefined {
  if (typeof record !== 'object' || record === null) return `a record must be an object, got ${record === null ? 'null' : typeof record}`;
  const { topic, payload, invalid } = record as Partial<SourceRecord>;
  if (typeof topic !== 'string') return `record.topic must be a string, got ${typeof topic}`;
  if (!(payload instanceof Uint8Array)) return `record.payload of a record for ${topic} must be a Buffer, got ${payload === null ? 'null' : typeof payload}`;
  // Anything else (a retryable error, a plain Error) is not a verdict on the data: never dead-letter on it.
  if (invalid !== undefined && !(looksLikeConnectorError(invalid) && invalid.kind === 'invalid_data')) {
    return `record.invalid of a record for ${topic} must be a ConnectorError of kind invalid_data (ConnectorError.invalidData(…)), got ${looksLikeConnectorError(invalid) ? `kind ${invalid.kind}` : typeof invalid}`;
  }
  return undefined;
}

function countByTopic(entries: readonly InFlightRecord[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { topic } of entries) counts.set(topic, (counts.get(topic) ?? 0) + 1);
  return counts;
}

/**
 * Runs a source connector (docs/delivery-semantics.md §3): takes records from `poll` or `output.send` into a bounded window,
 * publishes each to its topic's producer, and commits them (each record's `ack`, then the connector's
 * `commit`) strictly in acceptance order once Danube has them, so nothing is acknowledged upstream that Danube
 * does not hold. Danube being unavailable pauses intake (the window fills) and is retried forever; invalid
 * records go to the dead-letter topic or are dropped, and count as done; fatal errors stop intake and are
 * reported through `onFatal` (during `start`, `start` rejects with them instead).
 */
export class SourceRuntime implements ConnectorRuntime {
  private readonly settings: RuntimeSettings;
  private readonly logger: Logger;
  private readonly metrics: ConnectorMetrics;
  private readonly health = new StatusTracker();
  private readonly fatalListeners: Array<(error: ConnectorError) => void> = [];
  private readonly producers: SourceProducers;
  private readonly publishers: TopicPublishers;
  /** Records accepted and not yet committed: the back-pressure a source feels. */
  private readonly window: InFlightWindow;
  private readonly committer: OrderedCommitter;
  private readonly invalidRecords: InvalidRecords;
  /** Aborted on a fatal error or at the stop deadline: ends every wait between retries. */
  private readonly work = new AbortController();
  private readonly output: SourceOutput = { send: (record) => this.accept(record) };
  private phase: Phase = 'idle';
  private pollLoop: PollLoop | undefined;
  private intakeStopped: Promise<void> | undefined;
  private stopping: Promise<{ drained: number; abandoned: number }> | undefined;
  private fatalError: ConnectorError | undefined;
  private overflowWarned = false;
  /** Topics that cannot be written right now: logged at error once per episode, and once when it ends. */
  private readonly failingTopics = new Set<string>();

  constructor(
    private readonly connector: SourceConnector,
    deps: RuntimeDeps,
  ) {
    const pull = typeof connector?.poll === 'function';
    const push = typeof connector?.start === 'function';
    if (pull === push) {
      throw new TypeError(`source connector ${deps.name} must implement exactly one of poll(signal) (pull) and start(output) (push); it implements ${pull ? 'both' : 'neither'}`);
    }
    this.settings = deps.settings;
    this.logger = deps.logger;
    this.metrics = deps.metrics;
    if (!Number.isInteger(deps.settings.maxInFlight) || deps.settings.maxInFlight < 1) {
      throw new RangeError(`maxInFlight must be a whole number >= 1, got ${deps.settings.maxInFlight}`);
    }
    this.window = new InFlightWindow(deps.settings.maxInFlight, {
      maxWaiters: Math.max(deps.settings.maxInFlight, MIN_MAX_WAITERS),
      onFull: () => this.callConnector('pause'),
      onRoom: () => this.callConnector('resume'),
      onOverflow: () => this.overflowed(),
    });
    this.producers = new SourceProducers(deps.client, deps.name, deps.settings.maxInFlight);
    this.publishers = new TopicPublishers({
      producers: this.producers,
      settings: deps.settings,
      deadLetterWhenExhausted: deps.settings.deadLetterTopic !== undefined && deps.settings.onRetryExhausted === 'dead_letter',
      signal: this.work.signal,
      events: this.publisherEvents,
    });
    this.invalidRecords = new InvalidRecords({ client: deps.client, connector: deps.name, deadLetterTopic: deps.settings.deadLetterTopic, logger: deps.logger });
    this.committer = new OrderedCommitter({
      commit: connector.commit ? (records) => connector.commit?.(records) : undefined,
      settings: deps.settings,
      signal: this.work.signal,
      logger: deps.logger,
      events: {
        committed: (entries) => this.committed(entries),
        failed: (topic, code) => this.metrics.recordFailure(topic, code),
        retrying: (topic) => this.metrics.recordRetry(topic),
        blocked: (stage, error) => this.blocked(stage, error),
        fatal: (error) => this.fail(error),
      },
    });
    deps.metrics.watchInFlight({
      byTopic: () => countByTopic(this.committer.entries()),
      oldestAgeMs: () => {
        const oldest = this.committer.entries()[0];
        return oldest ? performance.now() - oldest.acceptedAt : 0;
      },
    });
    this.health.onChange((status) => {
      if (status.state === 'degraded') this.logger.warn({ detail: status.detail }, 'degraded');
      else this.logger.info('connected');
      if (!this.fatalError && this.phase !== 'stopped') this.metrics.setHealth(status.state === 'degraded' ? 'degraded' : 'healthy');
    });
  }

  async start(): Promise<void> {
    if (this.phase !== 'idle') throw new Error(`source runtime: start() called while ${this.phase}`);
    this.phase = 'starting';
    try {
      const configs = (await this.connector.producerConfigs?.()) ?? [];
      if (!Array.isArray(configs)) throw new TypeError(`producerConfigs() must return an array, got ${typeof configs}`);
      const listed = this.producers.configure(configs);
      this.metrics.labelTopics(listed.map((settings) => settings.topic));
      const publishers = listed.map((settings) => this.publishers.for(settings));
      // One creation attempt each: a missing namespace fails the start; a broker that is down only degrades it.
      await Promise.all(publishers.map((publisher) => publisher.firstAttempt));
      if (this.fatalError) throw this.fatalError;
      if (this.phase !== 'starting') return;
      if (this.connector.start) {
        await this.connector.start(this.output);
      } else {
        this.pollLoop = this.startPolling(this.connector.poll as NonNullable<SourceConnector['poll']>);
      }
      if (this.fatalError) throw this.fatalError;
      if (this.phase !== 'starting') return;
      this.phase = 'running';
      this.logger.info({ topics: listed.map((s) => s.topic), intake: this.pollLoop ? 'poll' : 'push', maxInFlight: this.settings.maxInFlight }, 'source runtime started');
    } catch (err) {
      const error = this.fatalError ?? classify(err);
      this.fatalError = error;
      this.metrics.setHealth('unhealthy');
      if (this.phase === 'starting') this.phase = 'failed';
      this.work.abort();
      this.window.close('source intake');
      void this.stopIntake();
      throw error;
    }
  }

  stop(timeoutMs: number): Promise<{ drained: number; abandoned: number }> {
    this.stopping ??= this.drainAndClose(timeoutMs);
    return this.stopping;
  }

  status(): RuntimeStatus {
    return this.health.status;
  }

  onStatus(listener: (status: RuntimeStatus) => void): void {
    this.health.onChange(listener);
  }

  onFatal(listener: (error: ConnectorError) => void): void {
    this.fatalListeners.push(listener);
  }

  /**
   * `output.send`: resolves true once the record holds a slot of the window; false when it was not accepted
   * (intake stopped, or too many sends already wait): its `ack` is never called. Rejects only a malformed record.
   */
  private accept(record: SourceRecord): Promise<boolean> {
    const problem = malformed(record);
    if (problem) return Promise.reject(new TypeError(problem));
    // Synchronous when there is room, so records sent back to back are accepted in call order.
    const wait = this.window.acquire();
    if (wait === undefined) {
      this.admit(record);
      return Promise.resolve(true);
    }
    // Refused (intake stopped, or too many sends wait), never an error: a push source's handlers must not see a stop as one.
    return wait.then(
      () => {
        this.admit(record);
        return true;
      },
      () => false,
    );
  }

  private overflowed(): void {
    const message = 'output.send refused: too many sends already wait for the full window; await send() or implement pause()/resume()';
    this.logger[this.overflowWarned ? 'debug' : 'warn']({ maxInFlight: this.settings.maxInFlight }, this.overflowWarned ? message : `${message} (logged once; further refusals at debug)`);
    this.overflowWarned = true;
  }

  private admit(record: SourceRecord): void {
    const entry: InFlightRecord = { seq: -1, record, topic: record.topic, acceptedAt: performance.now(), attempts: 0, outcome: undefined, acked: false };
    this.committer.add(entry);
    this.metrics.recordReceived(entry.topic, record.payload.length);
    const invalid = this.producers.check(record);
    if (invalid) this.invalidate(entry, invalid);
    else this.publishers.for(this.producers.settingsFor(record)).publish(entry);
  }

  private readonly publisherEvents: Omit<PublisherEvents, 'retired'> = {
    published: (entry) => this.committer.done(entry, 'published'),
    invalid: (entry, error) => this.invalidate(entry, error),
    fatal: (error) => this.fail(error),
    failed: (topic, code) => this.metrics.recordFailure(topic, code),
    retrying: (topic, count) => {
      for (let i = 0; i < count; i++) this.metrics.recordRetry(topic);
    },
    unavailable: (topic, error, delayMs) => {
      if (!this.failingTopics.has(topic)) {
        this.failingTopics.add(topic);
        // Once per episode at error: a broker that refuses to store (DC_ERR_PUBLISH_FAILED) or cannot be reached
        // stalls intake behind these records, and an operator must see it without debug logs.
        this.logger.error(
          { topic, code: error.code, err: error, delayMs },
          `cannot publish to ${topic} (${error.code}: ${error.message}); its records wait and are retried until Danube takes them`,
        );
      } else {
        this.logger.debug({ topic, code: error.code, delayMs }, 'Danube unavailable, retrying');
      }
      this.health.degrade(`danube ${topic}`, `Danube unavailable: cannot publish to ${topic} (${error.code}); retrying`);
    },
    blocked: (topic, error, delayMs) => {
      const key = `danube ${topic}`;
      if (!this.failingTopics.has(topic)) {
        this.failingTopics.add(topic);
        this.logger.error({ topic, code: error.code, err: error, delayMs }, `cannot write to ${topic}; its records wait (retrying with backoff), and with in-order commits intake stalls behind them`);
      }
      this.health.degrade(key, `cannot write to ${topic}: ${error.message} (${error.code}); its records wait, retrying`);
    },
    available: (topic) => {
      // Called on every publish: free unless the topic was failing (both degrading events above mark it).
      if (!this.failingTopics.delete(topic)) return;
      this.logger.info({ topic }, `${topic} can be written again (recovered)`);
      this.health.recover(`danube ${topic}`);
    },
  };

  /** Dead-letters or drops a record that can never be published; it is done once that is settled. */
  private invalidate(entry: InFlightRecord, error: ConnectorError): void {
    this.invalidRecords.handle(entry, error).then(
      (outcome) => this.committer.done(entry, outcome),
      (err: unknown) => {
        const failure = classify(err);
        // Stopping: the dead-letter producer was closed; the record stays uncommitted and is redelivered.
        if (this.work.signal.aborted || failure.code === 'DC_ERR_CLOSED') return;
        // The dead-letter producer retries transient failures forever, so what arrives here is permanent.
        this.fail(
          failure.kind === 'fatal'
            ? failure
            : ConnectorError.fatal(`dead-letter topic ${this.settings.deadLetterTopic}: ${failure.message}`, { code: failure.code, cause: failure }),
        );
      },
    );
  }

  private committed(entries: readonly InFlightRecord[]): void {
    const now = performance.now();
    for (const entry of entries) {
      if (entry.outcome === 'published') this.metrics.recordProcessed(entry.topic, (now - entry.acceptedAt) / 1000);
      else if (entry.outcome === 'dead_lettered') this.metrics.recordDeadLettered(entry.topic);
      else this.metrics.recordDropped(entry.topic, 'invalid_data');
    }
    this.window.release(entries.length);
  }

  private blocked(what: string, error: ConnectorError | undefined): void {
    if (error) this.health.degrade(what, `${what} keeps failing (${error.code}); retrying`);
    else this.health.recover(what);
  }

  private startPolling(poll: NonNullable<SourceConnector['poll']>): PollLoop {
    return new PollLoop({
      poll: (signal) => poll.call(this.connector, signal),
      accept: (record) => this.accept(record),
      window: this.window,
      pollIntervalMs: this.settings.pollIntervalMs,
      settings: this.settings,
      logger: this.logger,
      events: {
        failed: (code) => this.metrics.recordFailure(NO_TOPIC, code),
        retrying: () => this.metrics.recordRetry(NO_TOPIC),
        blocked: (error) => this.blocked('poll', error),
        fatal: (error) => this.fail(error),
      },
    });
  }

  private callConnector(method: 'pause' | 'resume'): void {
    this.logger.debug({ inFlight: this.window.inFlight }, method === 'pause' ? 'window full: pausing intake' : 'window has room: resuming intake');
    try {
      this.connector[method]?.();
    } catch (err) {
      this.logger.warn({ err }, `connector ${method}() threw`);
    }
  }

  /**
   * Stops intake for good: polling ends, then the connector's `stop` runs while `output.send` still accepts (a
   * push source's last sends are taken, not failed), then the window closes: from then on `output.send`
   * resolves false (not accepted) for waiting and later sends.
   */
  private stopIntake(): Promise<void> {
    this.intakeStopped ??= (async () => {
      this.pollLoop?.stop();
      try {
        await this.connector.stop?.();
      } catch (err) {
        this.logger.warn({ err }, 'connector stop() threw');
      }
      this.window.close('source intake');
      await this.pollLoop?.done;
    })();
    return this.intakeStopped;
  }

  private fail(error: ConnectorError): void {
    if (this.fatalError) return;
    this.fatalError = error;
    this.logger.error({ err: error, code: error.code }, 'fatal error: intake stopped');
    this.metrics.setHealth('unhealthy');
    this.work.abort();
    this.window.close('source intake');
    void this.stopIntake();
    // During start the start rejects with it; while stopping the stop reports the abandoned records.
    if (this.phase !== 'running') return;
    for (const listener of this.fatalListeners) listener(error);
  }

  private async drainAndClose(timeoutMs: number): Promise<{ drained: number; abandoned: number }> {
    const before = this.committer.committed;
    const end = Date.now() + Math.max(0, timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, timeoutMs))));
    const withinDeadline = (work: Promise<unknown>) => Promise.race([work, expired]);
    if (this.phase !== 'failed') this.phase = 'stopping';
    this.logger.info({ timeoutMs, inFlight: this.committer.pending }, 'stopping: intake stops, in-flight records drain');
    try {
      await withinDeadline(this.stopIntake());
      // Even when the connector's stop() hangs: nothing is accepted past this point.
      this.window.close('source intake');
      // After a fatal error the record that caused it never completes, and nothing after it can be committed.
      if (!this.fatalError) await withinDeadline(this.committer.whenEmpty());
      this.work.abort();
      this.publishers.closeAll();
      await this.committer.halt();
      const abandoned = this.committer.pending;
      // Sends still in flight after the deadline are cut short: their records are not committed anyway.
      await withinDeadline(this.producers.closeAll(Math.max(0, end - Date.now())).catch((err: unknown) => this.logger.warn({ err }, 'closing producers failed')));
      try {
        await this.connector.close?.();
      } catch (err) {
        this.logger.warn({ err }, 'connector close() threw');
      }
      const drained = this.committer.committed - before;
      this.phase = 'stopped';
      this.metrics.setHealth('stopped');
      if (abandoned > 0) this.logger.warn({ drained, abandoned }, 'stopped; abandoned records were not committed and will be redelivered by the source');
      else this.logger.info({ drained }, 'stopped, every accepted record committed');
      return { drained, abandoned };
    } finally {
      clearTimeout(timer);
    }
  }
}
