import { Counter, Gauge, Registry, type Metric, type MetricObjectWithValues, type MetricValue } from 'prom-client';

/** Distinct `topic` label values per connector; records of further topics count under OTHER_TOPICS. */
export const MAX_TOPIC_LABELS = 100;
/** The `topic` label of records whose topic came after MAX_TOPIC_LABELS others (a source writing to ever new topics). */
export const OTHER_TOPICS = '_other';

const DURATION_NAME = 'danube_connector_processing_duration_seconds';
const DURATION_HELP = 'From receipt to processed (sources: to commit; sinks: the write of a batch)';
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Why a record left the pipeline without reaching its destination (label `reason`). */
export type DropReason = 'invalid_data' | 'retries_exhausted';

/**
 * What a runtime holds right now, read on every snapshot and scrape: records per topic that were received and
 * are not yet processed, dead-lettered or dropped, taken from the runtime's own pending structures (the source's
 * committer, the sinks' batchers), never derived from the counters here.
 */
export interface InFlightView {
  /** Records held per topic (the topic as passed to `recordReceived`). */
  byTopic(): ReadonlyMap<string, number>;
  /** How long the oldest record held has been held, ms; 0 when none. */
  oldestAgeMs(): number;
}

/** The connector's log output, read at scrape time (BoundedLogStream). */
export interface LogOutputView {
  readonly droppedLines: number;
  readonly bufferedBytes: number;
}

/**
 * What the per-record path counts for one `topic` label, as plain numbers: every record's received, bytes,
 * processed and duration go here, and prom-client sees them only when a scrape, a snapshot or a pong collects.
 * prom-client's inc() and observe() build a label-hash string and check the labels on every call: those four
 * cost ~5 µs of CPU and ~0.9 KB of garbage per record in a source-mqtt child (README "Benchmarks").
 */
class TopicTally {
  received = 0;
  bytes = 0;
  processed = 0;
  /** Durations per bucket, not cumulative; the last slot holds those above the largest bound. */
  readonly buckets = new Float64Array(DURATION_BUCKETS.length + 1);
  durationSum = 0;
  durationCount = 0;

  constructor(readonly labels: Readonly<{ connector: string; topic: string }>) {}

  observe(seconds: number): void {
    // prom-client threw on these; a clock quirk must not stop the commit path that reports it.
    if (!Number.isFinite(seconds)) return;
    let i = 0;
    while (i < DURATION_BUCKETS.length && seconds > (DURATION_BUCKETS[i] as number)) i++;
    (this.buckets[i] as number)++;
    this.durationSum += seconds;
    this.durationCount++;
  }
}

/**
 * The duration histogram as prom-client's Histogram exports it (cumulative `_bucket` series with `le`, then
 * `_sum` and `_count`), read from the tallies at collection. A plain metric object, as prom-client's own
 * AggregatorRegistry registers for what it merges, which is also how the host reads it (docs/architecture.md §5.12).
 */
function durationHistogram(tallies: () => Iterable<TopicTally>): Metric {
  const series = (metricName: string, labels: Record<string, string | number>, value: number) => ({ value, metricName, labels });
  const read = () => {
    const values: ReturnType<typeof series>[] = [];
    for (const tally of tallies()) {
      if (tally.durationCount === 0) continue;
      let cumulative = 0;
      DURATION_BUCKETS.forEach((le, i) => {
        cumulative += tally.buckets[i] as number;
        values.push(series(`${DURATION_NAME}_bucket`, { le, ...tally.labels }, cumulative));
      });
      values.push(
        series(`${DURATION_NAME}_bucket`, { le: '+Inf', ...tally.labels }, tally.durationCount),
        series(`${DURATION_NAME}_sum`, { ...tally.labels }, tally.durationSum),
        series(`${DURATION_NAME}_count`, { ...tally.labels }, tally.durationCount),
      );
    }
    return { name: DURATION_NAME, help: DURATION_HELP, type: 'histogram', aggregator: 'sum', values };
  };
  // prom-client's typings only name its own classes; the registry needs name, get() and reset().
  return { name: DURATION_NAME, help: DURATION_HELP, type: 'histogram', aggregator: 'sum', get: async () => read(), reset: () => {} } as unknown as Metric;
}

/**
 * The Prometheus registry of one connector process, with the reference connectors' metric names
 * (docs/delivery-semantics.md §8) and the real `topic` label, bounded: configured topics and the first MAX_TOPIC_LABELS
 * others have their own, later ones share OTHER_TOPICS (the series count never grows with made-up names). Accounting invariant, per topic:
 *   received = processed + dead_lettered + dropped + in_flight
 * Sources count a record received when the connector hands it over and processed when it is committed;
 * sinks count a message received when it arrives and processed when it is acked after the write. `in_flight`
 * comes from the runtime's InFlightView, so the invariant fails when a runtime loses track of a record.
 */
export class ConnectorMetrics {
  readonly registry = new Registry();
  private readonly received: Counter<'connector' | 'topic'>;
  private readonly processed: Counter<'connector' | 'topic'>;
  private readonly failed: Counter<'connector' | 'topic' | 'reason'>;
  private readonly retried: Counter<'connector' | 'topic'>;
  private readonly deadLettered: Counter<'connector' | 'topic'>;
  private readonly dropped: Counter<'connector' | 'topic' | 'reason'>;
  private readonly bytes: Counter<'connector' | 'topic'>;
  private readonly inFlight: Gauge<'connector' | 'topic'>;
  private readonly health: Gauge<'connector'>;
  private readonly oldestAge: Gauge<'connector'>;
  private readonly offsetGaps: Counter<'connector' | 'topic' | 'subscription'>;
  private offsetGapCount = 0;
  private readonly skipped: Counter<'connector' | 'topic' | 'subscription'>;
  private inFlightView: InFlightView | undefined;
  private logOutput: LogOutputView | undefined;
  private readonly logDropped: Counter<'connector'>;
  private readonly logBuffered: Gauge<'connector'>;
  /** Topics with a label of their own: configured ones, then the first MAX_TOPIC_LABELS others met. */
  private readonly labelled = new Set<string>();
  /** The per-record counts of each label, by label. */
  private readonly tallies = new Map<string, TopicTally>();
  /** The tally of each labelled topic name (names that share OTHER_TOPICS are not kept: they are unbounded). */
  private readonly tallyByName = new Map<string, TopicTally>();
  private unconfigured = 0;
  private logDroppedCounted = 0;

  constructor(readonly connector: string) {
    const registers = [this.registry];
    // Counters of the per-record tallies, set from them whenever prom-client collects (it calls collect on the counter).
    const collectTallies = (counter: Counter<'connector' | 'topic'>, count: (tally: TopicTally) => number) => this.collectTallies(counter, count);
    const tallied = (name: string, help: string, count: (tally: TopicTally) => number) =>
      new Counter({
        name,
        help,
        labelNames: ['connector', 'topic'],
        registers,
        collect() {
          collectTallies(this, count);
        },
      });
    this.received = tallied('danube_connector_messages_received_total', 'Records received from the source system (sources) or from Danube (sinks)', (tally) => tally.received);
    this.processed = tallied(
      'danube_connector_messages_processed_total',
      'Records delivered: committed after Danube acknowledged them (sources), acked after the write (sinks)',
      (tally) => tally.processed,
    );
    this.failed = new Counter({ name: 'danube_connector_messages_failed_total', help: 'Failed attempts, by error code', labelNames: ['connector', 'topic', 'reason'], registers });
    this.retried = new Counter({ name: 'danube_connector_messages_retried_total', help: 'Retries of retryable failures', labelNames: ['connector', 'topic'], registers });
    this.deadLettered = new Counter({ name: 'danube_connector_messages_dead_lettered_total', help: 'Records sent to the dead-letter topic', labelNames: ['connector', 'topic'], registers });
    this.dropped = new Counter({ name: 'danube_connector_messages_dropped_total', help: 'Records skipped without a dead-letter topic', labelNames: ['connector', 'topic', 'reason'], registers });
    this.bytes = tallied('danube_connector_bytes_total', 'Payload bytes received', (tally) => tally.bytes);
    this.inFlight = new Gauge({
      name: 'danube_connector_inflight_messages',
      help: 'Records received and not yet processed, dead-lettered or dropped',
      labelNames: ['connector', 'topic'],
      registers,
      // Read at scrape time from what the runtime holds.
      collect: () => {
        this.inFlight.reset();
        for (const [topic, count] of this.inFlightByTopic()) this.inFlight.set({ connector, topic }, count);
      },
    });
    this.oldestAge = new Gauge({
      name: 'danube_connector_oldest_inflight_age_seconds',
      help: 'Age of the oldest record received and not yet processed, dead-lettered or dropped (0 when none): a stuck pipeline grows it',
      labelNames: ['connector'],
      registers,
      collect: () => this.oldestAge.set({ connector }, (this.inFlightView?.oldestAgeMs() ?? 0) / 1000),
    });
    this.health = new Gauge({ name: 'danube_connector_health', help: '1 healthy, 0.5 degraded, 0 unhealthy or stopped', labelNames: ['connector'], registers });
    this.registry.registerMetric(durationHistogram(() => this.tallies.values()));
    this.offsetGaps = new Counter({ name: 'danube_connector_offset_gaps_total', help: 'Forward jumps in a partition\'s offsets: ranges the broker skipped for the subscription (docs/danube-protocol.md §9.4)', labelNames: ['connector', 'topic', 'subscription'], registers });
    this.skipped = new Counter({ name: 'danube_connector_skipped_messages_total', help: 'Messages the broker skipped for the subscription, never delivered (docs/danube-protocol.md §9.4)', labelNames: ['connector', 'topic', 'subscription'], registers });
    this.logDropped = new Counter({
      name: 'danube_connector_log_lines_dropped_total',
      help: 'Log lines of the connector dropped because its log buffer was full (it logs faster than the host relays) or its stdout closed',
      labelNames: ['connector'],
      registers,
      collect: () => {
        const missing = (this.logOutput?.droppedLines ?? 0) - this.logDroppedCounted;
        this.logDroppedCounted += missing;
        this.logDropped.inc({ connector }, missing);
      },
    });
    this.logBuffered = new Gauge({
      name: 'danube_connector_log_buffered_bytes',
      help: 'Log text the connector process holds that its stdout has not taken yet, bytes (bounded)',
      labelNames: ['connector'],
      registers,
      collect: () => this.logBuffered.set({ connector }, this.logOutput?.bufferedBytes ?? 0),
    });
    this.health.set({ connector }, 1);
  }

  /** The process's log output reports its drops and backlog through `view`. */
  watchLogOutput(view: LogOutputView): void {
    this.logOutput = view;
  }

  /** Log lines dropped so far (for the pong). */
  get logLinesDropped(): number {
    return this.logOutput?.droppedLines ?? 0;
  }

  /** The broker skipped `count` messages of `topic` (the configured one) for `subscription`. */
  recordOffsetGap(topic: string, subscription: string, count: number): void {
    this.offsetGapCount += 1;
    this.offsetGaps.inc({ connector: this.connector, topic, subscription });
    this.skipped.inc({ connector: this.connector, topic, subscription }, count);
  }

  /** Offset gaps recorded so far, over every topic (what a pong reports). */
  get offsetGapTotal(): number {
    return this.offsetGapCount;
  }

  /** The runtime reports what it holds through `view` (one runtime per registry). */
  watchInFlight(view: InFlightView): void {
    this.inFlightView = view;
  }

  /** Configured topics (a sink's subscriptions, a source's producerConfigs) always get a label of their own. */
  labelTopics(topics: Iterable<string>): void {
    for (const topic of topics) this.labelled.add(topic);
  }

  /** The `topic` label: bounded whatever names a source makes up. */
  private label(topic: string): string {
    if (this.labelled.has(topic)) return topic;
    if (this.unconfigured >= MAX_TOPIC_LABELS) return OTHER_TOPICS;
    this.unconfigured++;
    this.labelled.add(topic);
    return topic;
  }

  private inFlightByTopic(): ReadonlyMap<string, number> {
    const byLabel = new Map<string, number>();
    for (const [topic, count] of this.inFlightView?.byTopic() ?? []) {
      const label = this.label(topic);
      byLabel.set(label, (byLabel.get(label) ?? 0) + count);
    }
    return byLabel;
  }

  /** The tally of `name`'s label. */
  private tally(name: string): TopicTally {
    const known = this.tallyByName.get(name);
    if (known) return known;
    const topic = this.label(name);
    let tally = this.tallies.get(topic);
    if (!tally) {
      tally = new TopicTally({ connector: this.connector, topic });
      this.tallies.set(topic, tally);
    }
    if (topic === name) this.tallyByName.set(name, tally);
    return tally;
  }

  /** Sets `counter` to the tallies' counts (a counter of a label appears once its count is above zero, as with inc). */
  private collectTallies(counter: Counter<'connector' | 'topic'>, count: (tally: TopicTally) => number): void {
    counter.reset();
    for (const tally of this.tallies.values()) {
      const value = count(tally);
      if (value > 0) counter.inc(tally.labels, value);
    }
  }

  recordReceived(name: string, bytes: number): void {
    const tally = this.tally(name);
    tally.received++;
    tally.bytes += bytes;
  }

  recordProcessed(name: string, seconds?: number): void {
    const tally = this.tally(name);
    tally.processed++;
    if (seconds !== undefined) tally.observe(seconds);
  }

  /** A write or publish attempt failed; `reason` is a stable error code, never message text (no payloads in labels). */
  recordFailure(name: string, reason: string): void {
    const topic = this.label(name);
    this.failed.inc({ connector: this.connector, topic, reason });
  }

  recordRetry(name: string): void {
    const topic = this.label(name);
    this.retried.inc({ connector: this.connector, topic });
  }

  recordDeadLettered(name: string): void {
    const topic = this.label(name);
    this.deadLettered.inc({ connector: this.connector, topic });
  }

  recordDropped(name: string, reason: DropReason): void {
    const topic = this.label(name);
    this.dropped.inc({ connector: this.connector, topic, reason });
  }

  /** Observe a batch write (sinks) without changing counts. */
  observeDuration(name: string, seconds: number): void {
    this.tally(name).observe(seconds);
  }

  setHealth(status: 'healthy' | 'degraded' | 'unhealthy' | 'stopped'): void {
    this.health.set({ connector: this.connector }, status === 'healthy' ? 1 : status === 'degraded' ? 0.5 : 0);
  }

  /** Current counts per topic, for pings and the accounting checks. */
  async snapshot(): Promise<Record<string, { received: number; processed: number; deadLettered: number; dropped: number; inFlight: number; failed: number; retried: number }>> {
    const sum = async (metric: { get(): Promise<{ values: MetricValue<string>[] }> }) => {
      const byTopic = new Map<string, number>();
      for (const v of (await metric.get()).values) {
        const topic = String(v.labels.topic);
        byTopic.set(topic, (byTopic.get(topic) ?? 0) + v.value);
      }
      return byTopic;
    };
    // One consistent moment: what the runtime holds now, and the counters read in the same tick (prom-client's
    // get() runs a synchronous collect, such as the tallies', and reads its values before its first await).
    const inFlight = this.inFlightByTopic();
    const [received, processed, deadLettered, dropped, failed, retried] = await Promise.all(
      [this.received, this.processed, this.deadLettered, this.dropped, this.failed, this.retried].map(sum),
    );
    const topics = new Set([...received!.keys(), ...inFlight.keys()]);
    const out: Awaited<ReturnType<ConnectorMetrics['snapshot']>> = {};
    for (const topic of topics) {
      out[topic] = {
        received: received!.get(topic) ?? 0,
        processed: processed!.get(topic) ?? 0,
        deadLettered: deadLettered!.get(topic) ?? 0,
        dropped: dropped!.get(topic) ?? 0,
        inFlight: inFlight.get(topic) ?? 0,
        failed: failed!.get(topic) ?? 0,
        retried: retried!.get(topic) ?? 0,
      };
    }
    return out;
  }

  /** prom-client's JSON form, which the host merges across children with AggregatorRegistry (docs/architecture.md §5.12). */
  toJSON(): Promise<MetricObjectWithValues<MetricValue<string>>[]> {
    return this.registry.getMetricsAsJSON();
  }
}
