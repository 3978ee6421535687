import { sleep } from '../danube/backoff.js';
import type { Producer, SendReceipt } from '../danube/producer.js';
import { RetryBudget } from '../danube/retry.js';
import { classify, ConnectorError } from '../errors.js';
import { isCollateralFailure } from './collateral-failure.js';
import type { InFlightRecord } from './in-flight-record.js';
import { retryBudget, retriesExhaustedError, type RetrySettings } from './retry-settings.js';

/** What a TopicPublisher reports to the runtime. */
export interface PublisherEvents {
  /** Danube acknowledged the record. */
  published(entry: InFlightRecord, receipt: SendReceipt): void;
  /** The record can never be published (too large, refused by a schema, …): dead-letter or drop it. */
  invalid(entry: InFlightRecord, error: ConnectorError): void;
  /** The topic cannot be published to at all (missing namespace, auth, …). */
  fatal(error: ConnectorError): void;
  /** A creation or publish attempt failed with `code`. */
  failed(topic: string, code: string): void;
  /** `count` records are sent again. */
  retrying(topic: string, count: number): void;
  /** Danube is unavailable for this topic; the next attempt is in `delayMs`. */
  unavailable(topic: string, error: ConnectorError, delayMs: number): void;
  /** The topic (created on first use) cannot be written for a reason that is not transient; its records wait. */
  blocked(topic: string, error: ConnectorError, delayMs: number): void;
  /** A producer was created or a send succeeded: Danube is reachable for this topic again. */
  available(topic: string): void;
  /**
   * The blocked topic's records went to the dead-letter path and the publisher stopped: forget it, so the
   * topic's next record starts a new round of attempts.
   */
  retired(topic: string): void;
}

interface TopicPublisherOptions {
  topic: string;
  /** One attempt to create the producer. */
  create: () => Promise<Producer>;
  /**
   * Created on a record's first use rather than listed by producerConfigs(): a bad topic name is that record's
   * fault, and a topic that cannot be written (missing namespace, schema, access) blocks its records instead of
   * stopping the connector.
   */
  lazy: boolean;
  /** A dead-letter topic is set and on_retry_exhausted = "dead_letter": a blocked topic's records go there after the retries. */
  deadLetterWhenExhausted: boolean;
  settings: RetrySettings;
  /** Aborts waits between retries and the creation loop (stop deadline, fatal error). */
  signal: AbortSignal;
  events: PublisherEvents;
}

type PublisherState =
  /** Creating the producer; records wait in the queue. */
  | 'creating'
  /** Records are sent as they come. */
  | 'open'
  /** A send failed: nothing new is sent until every send in flight settled and the failures were sorted out. */
  | 'recovering'
  /** The topic name is invalid: every record is invalid data. */
  | 'rejecting'
  /** Stopped (fatal error or stop deadline): records stay uncommitted. */
  | 'closed';

/**
 * Publishes one topic's records in acceptance order and retries failures without reordering them.
 *
 * The producer's client-side retries are off (one attempt per send), and a failure turns the topic to
 * 'recovering' before anything else can be sent: the producer fails the sends queued behind a failed one on the
 * same partition ('partition' ordering), the failure reaches us in the same microtask run, and the producer's own
 * window never makes a send wait (it is as large as the runtime's). So no send can overtake a failed one on its
 * partition. Once every send in flight has settled, failures are sorted: retryable ones (Danube unavailable) and
 * those failed for an earlier one's sake go back to the front of the queue in acceptance order and are sent
 * again after a capped backoff, forever; invalid records leave for the dead-letter path; anything else is fatal.
 */
export class TopicPublisher {
  readonly topic: string;
  /** Settles after the first creation attempt, whatever its outcome (fatal errors go to `events.fatal`). */
  readonly firstAttempt: Promise<void>;
  private producer: Producer | undefined;
  private state: PublisherState = 'creating';
  private queue: InFlightRecord[] = [];
  private failures: Array<{ entry: InFlightRecord; error: unknown }> = [];
  private inFlight = 0;
  private rejection: ConnectorError | undefined;
  /** Danube unavailable: never a reason to give up (docs/delivery-semantics.md), retried forever whatever on_retry_exhausted says. */
  private readonly unavailableBudget: RetryBudget;
  /** Failures of a topic that cannot be written (not transient), under on_retry_exhausted. */
  private readonly blockedBudget: RetryBudget;
  private readonly whenExhausted: RetrySettings['onRetryExhausted'];

  constructor(private readonly options: TopicPublisherOptions) {
    this.topic = options.topic;
    this.unavailableBudget = new RetryBudget(retryBudget(options.settings, { maxRetries: Infinity }));
    this.blockedBudget = new RetryBudget(retryBudget(options.settings));
    // Never dropped: without a dead-letter topic, 'dead_letter' waits like 'block'.
    const policy = options.settings.onRetryExhausted;
    this.whenExhausted = policy === 'dead_letter' && !options.deadLetterWhenExhausted ? 'block' : policy;
    let attempted!: () => void;
    this.firstAttempt = new Promise((resolve) => (attempted = resolve));
    void this.createLoop(attempted);
  }

  /** Sends sent and not yet settled. */
  get sending(): number {
    return this.inFlight;
  }

  /** Nothing queued, sending or being sorted out, and not creating: closing it now costs nothing. */
  get idle(): boolean {
    return (this.state === 'open' || this.state === 'rejecting') && this.queue.length === 0 && this.inFlight === 0 && this.failures.length === 0;
  }

  /** Queues a record; it is sent once the producer exists and no failure is being sorted out. */
  publish(entry: InFlightRecord): void {
    if (this.state === 'rejecting') {
      this.options.events.invalid(entry, this.rejection as ConnectorError);
      return;
    }
    this.queue.push(entry);
    this.pump();
  }

  /** Stops sending: queued and failed records stay uncommitted. */
  close(): void {
    this.state = 'closed';
  }

  // A getter, so TypeScript does not narrow the state across awaits (close() may run meanwhile).
  private get closed(): boolean {
    return this.state === 'closed';
  }

  private async createLoop(attempted: () => void): Promise<void> {
    const { events, signal, topic } = this.options;
    for (;;) {
      if (signal.aborted || this.closed) break;
      try {
        this.producer = await this.options.create();
      } catch (err) {
        const error = classify(err);
        if (signal.aborted || this.closed) break;
        events.failed(topic, String(error.code));
        if (error.kind === 'retryable') {
          const { delayMs } = this.unavailableBudget.fail();
          events.unavailable(topic, error, delayMs);
          attempted();
          try {
            await sleep(delayMs, signal);
          } catch {
            break;
          }
          continue;
        }
        if (this.options.lazy && error.code === 'DC_ERR_INVALID_TOPIC') {
          this.reject(ConnectorError.invalidData(error.message, { code: error.code, cause: error }));
          break;
        }
        if (!this.options.lazy) {
          this.state = 'closed';
          events.fatal(error);
          break;
        }
        // A topic created on first use that cannot be written: failing the connector would only restart it into
        // the same record (the source redelivers it), a crash loop. Its records wait instead (degraded).
        const step = this.blockedBudget.fail();
        if (step.exhausted && this.whenExhausted === 'fail') {
          this.state = 'closed';
          events.fatal(retriesExhaustedError(`creating the producer of ${topic}`, this.blockedBudget.failures, error));
          break;
        }
        if (step.exhausted && this.whenExhausted === 'dead_letter') {
          const reason = ConnectorError.invalidData(`topic ${topic} cannot be written: ${error.message}`, { code: error.code, cause: error });
          this.state = 'closed';
          for (const entry of this.queue.splice(0)) events.invalid(entry, reason);
          events.available(topic);
          events.retired(topic);
          break;
        }
        const delayMs = step.delayMs;
        events.blocked(topic, error, delayMs);
        attempted();
        try {
          await sleep(delayMs, signal);
        } catch {
          break;
        }
        continue;
      }
      if (this.closed) break;
      this.unavailableBudget.succeeded();
      this.blockedBudget.succeeded();
      events.available(topic);
      this.state = 'open';
      this.pump();
      break;
    }
    attempted();
  }

  private reject(error: ConnectorError): void {
    this.state = 'rejecting';
    this.rejection = error;
    for (const entry of this.queue.splice(0)) this.options.events.invalid(entry, error);
  }

  private pump(): void {
    if (this.state !== 'open') return;
    const batch = this.queue;
    this.queue = [];
    for (const entry of batch) this.send(entry);
  }

  private send(entry: InFlightRecord): void {
    const producer = this.producer as Producer;
    const { record } = entry;
    entry.attempts++;
    this.inFlight++;
    producer.send(record.payload, { key: record.key, attributes: record.attributes, publishTime: record.eventTime }).then(
      (receipt) => {
        this.inFlight--;
        this.unavailableBudget.succeeded();
        this.options.events.available(this.topic);
        this.options.events.published(entry, receipt);
        this.settle();
      },
      (error: unknown) => {
        this.inFlight--;
        this.failures.push({ entry, error });
        if (this.state === 'open') this.state = 'recovering';
        this.settle();
      },
    );
  }

  private settle(): void {
    if (this.state === 'recovering' && this.inFlight === 0) void this.recover();
  }

  private async recover(): Promise<void> {
    const { events, signal, topic } = this.options;
    const round = this.failures.splice(0);
    const resend: InFlightRecord[] = [];
    let unavailable: ConnectorError | undefined;
    for (const { entry, error: err } of round) {
      if (isCollateralFailure(err)) {
        resend.push(entry);
        continue;
      }
      const error = classify(err);
      // Stop deadline: the producer was closed under these sends; they stay uncommitted.
      if (signal.aborted || error.code === 'DC_ERR_CLOSED') {
        this.state = 'closed';
        return;
      }
      events.failed(topic, String(error.code));
      if (error.kind === 'retryable') {
        resend.push(entry);
        unavailable = error;
      } else if (error.kind === 'invalid_data') {
        events.invalid(entry, error);
      } else {
        this.state = 'closed';
        events.fatal(error);
        return;
      }
    }
    if (resend.length > 0) {
      // Everything failed was sent before anything still queued, but keep acceptance order explicit.
      this.queue = [...resend, ...this.queue].sort((a, b) => a.seq - b.seq);
      events.retrying(topic, resend.length);
    }
    if (unavailable) {
      const { delayMs } = this.unavailableBudget.fail();
      events.unavailable(topic, unavailable, delayMs);
      try {
        await sleep(delayMs, signal);
      } catch {
        this.state = 'closed';
        return;
      }
    }
    if (this.state !== 'recovering') return;
    this.state = 'open';
    this.pump();
  }
}
