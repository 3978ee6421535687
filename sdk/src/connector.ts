import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { SubscriptionType } from './danube/consumer.js';
import type { DanubeClient } from './danube/danube-client.js';
import type { DispatchMode, ProducerOrdering, SchemaVersionChoice } from './danube/producer.js';
import type { SinkRecord, SourceRecord } from './record.js';

/** What a connector gets besides its config when it is created. */
export interface ConnectorContext {
  /** The connector's name from host.toml: stable across restarts, the default for derived names. */
  readonly name: string;
  /** pino logger tagged with the connector name; secrets are redacted. */
  readonly logger: Logger;
  /**
   * Aborted when the connector is asked to stop: stop taking in new work now. Work already under way (a sink's
   * write) should use the signal passed to that call instead, which aborts only at the drain deadline.
   */
  readonly signal: AbortSignal;
  /** The connector's Danube client (schema registry, extra producers or consumers). */
  readonly danube: DanubeClient;
  /**
   * The connector process's prom-client registry (the one the host scrapes): a plugin registers its own metrics
   * here, named `danube_connector_<plugin>_…` and labelled `connector`. Absent outside a connector child.
   */
  readonly metricsRegistry?: Registry;
}

/** Health a connector reports about its external system; `degraded` keeps running, `unhealthy` is shown as such. */
export interface ConnectorHealth {
  status: 'healthy' | 'degraded' | 'unhealthy';
  detail?: string;
}

/** A topic a source writes to. Topics not listed get a producer with the defaults when first used. */
export interface ProducerConfig {
  topic: string;
  /** 0 or absent: plain topic; N: `<topic>-part-0..N-1`. */
  partitions?: number;
  /** Default 'reliable'. */
  dispatch?: DispatchMode;
  /** Default 'partition': strict order per partition. */
  ordering?: ProducerOrdering;
  schema?: { subject: string; version?: SchemaVersionChoice };
  /** Producer name; default derived from the connector name and the topic (stable across restarts). */
  name?: string;
  /** Local payload limit in bytes; larger records are invalid data. 0 = none. */
  maxMessageBytes?: number;
}

/** How a push-style source hands records to the runtime. */
export interface SourceOutput {
  /**
   * Accepts one record. Resolves `true` once it is in the runtime's bounded in-flight window (not yet in Danube:
   * that is what the record's `ack` says). Waiting on it is the back-pressure: while the window is full it
   * stays pending. Resolves `false` when the record was not accepted — the runtime is stopping (after your
   * `stop()` returned) or stopped by a fatal error, or more than max(maxInFlight, 1024) sends already wait (a
   * source that neither awaits `send` nor implements `pause`): its `ack` is never called, so do not acknowledge
   * it upstream; the external system redelivers it. Never rejects for either reason (event handlers need no
   * catch); rejects only for a malformed record (a plugin bug).
   */
  send(record: SourceRecord): Promise<boolean>;
}

/**
 * A source moves data from an external system into Danube. Implement either `poll` (pull) or `start` (push).
 * Every method may throw; the runtime classifies what it throws (see `ConnectorError`).
 */
export interface SourceConnector {
  /** Producer settings per topic (partitions, dispatch, ordering, schema). Called once before intake starts. */
  producerConfigs?(): ProducerConfig[] | Promise<ProducerConfig[]>;
  /**
   * Pull style: return the next records, or [] when there are none (the runtime then waits `pollIntervalMs`).
   * Called again only when the in-flight window has room.
   */
  poll?(signal: AbortSignal): Promise<SourceRecord[]>;
  /** Push style: start delivering through `output.send`; resolve once intake runs. */
  start?(output: SourceOutput): Promise<void> | void;
  /** Push style, optional: the window is full, stop reading until `resume` (for sources that cannot await `send`). */
  pause?(): void;
  resume?(): void;
  /**
   * Called in poll order with records Danube has acknowledged (after each record's own `ack`), so a source
   * with offsets can commit the last one. Never called for a record before every earlier record is done.
   */
  commit?(records: readonly SourceRecord[]): Promise<void> | void;
  /**
   * Stop intake: after it resolves no more records are produced. Called first on stop, while `output.send` still
   * accepts; then the window closes (later sends resolve false) and the runtime drains and commits.
   */
  stop?(): Promise<void> | void;
  /** Release resources; called last, after the drain. */
  close?(): Promise<void> | void;
  health?(): ConnectorHealth | Promise<ConnectorHealth>;
}

/** A subscription a sink reads. */
export interface ConsumerConfig {
  topic: string;
  subscription: string;
  /** Default 'shared'. */
  type?: SubscriptionType;
  /** Consumer name; default derived from the connector name (stable across restarts, needed for reattach). */
  consumerName?: string;
  /** KeyShared only. */
  keyFilters?: string[];
  /**
   * The topic's dispatch mode, as it was created. Default 'reliable'. Declare 'non_reliable' for a non-reliable
   * topic: its records then carry no `offset` (the broker passes on what the producer sent, not a unique id).
   */
  dispatch?: DispatchMode;
}

/**
 * A sink moves data from Danube into an external system. Implement `process` or `processBatch` (or both:
 * batches are used when present). A message is acked only after the call that carried it resolved.
 */
export interface SinkConnector {
  consumerConfigs(): ConsumerConfig[] | Promise<ConsumerConfig[]>;
  /**
   * Write one record; throw a ConnectorError to retry, dead-letter or stop. `signal` aborts at the drain deadline
   * of a stop (or on a fatal error): pass it to your I/O (`fetch(url, { signal })`); a graceful stop lets the
   * write finish until then.
   */
  process?(record: SinkRecord, signal: AbortSignal): Promise<void>;
  /**
   * Write a batch of records from one partition, in order. All or nothing: resolve when all are written;
   * throw to retry the whole batch (writes must be idempotent: at-least-once). `signal` as for `process`.
   * `written` (pipelined connectors only, else absent): call it with a record of this batch as soon as that one
   * is durably written, before the call resolves; the runtime acks it then, once every record before it is
   * written too. A record reported written stays written if the call fails later.
   */
  processBatch?(records: readonly SinkRecord[], signal: AbortSignal, written?: (record: SinkRecord) => void): Promise<void>;
  /**
   * Default false: one write at a time per partition, the next batch once the last one is acked. True: writes of
   * one partition may overlap because the connector keeps the order of its calls (each call's writes go out before
   * a later call's, e.g. on one ordered connection). The runtime then hands over records as soon as they arrive
   * (what arrived in one turn of the event loop in one call; `batch_size` and `batch_timeout_ms` do not apply), up to
   * `max_unacked` records in write per partition, and acks each once it and every record before it are written
   * (reported through `processBatch`'s `written`, or when the call resolves), so the broker's unacked window
   * refills message by message (docs/delivery-semantics.md §4.2). After a failure the failed record and every later
   * one in write are written again, in order, as one batch, with the usual retries.
   */
  readonly pipelined?: boolean;
  close?(): Promise<void> | void;
  health?(): ConnectorHealth | Promise<ConnectorHealth>;
}
