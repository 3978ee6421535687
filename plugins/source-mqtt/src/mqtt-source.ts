import { ConnectorError, type ConnectorContext, type ConnectorHealth, type ProducerConfig, type SourceConnector, type SourceOutput } from '@danube-connect/sdk';
import { MqttConnection, type ConnectInfo } from '@danube-connect/mqtt';
import type { IPublishPacket } from 'mqtt';
import { reliableOf, type SourceMqttConfig } from './config.js';
import { MetadataAttributes, mqttRecord } from './mqtt-record.js';
import { loadRouteSchemas, type LoadedSchema } from './payload-check.js';
import { OriginFilter } from './origin-filter.js';
import { PubackWindow, type PubackEntry } from './puback-window.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { RouteTable, type Route } from './route-table.js';
import { bindSchema, type BoundSchema } from './schema-binding.js';
import { SourceMetrics } from './source-metrics.js';

/** Passed to MQTT.js's handleMessage callback for QoS 1 and 2: it then sends no PUBACK/PUBREC itself and reads on. */
const DEFERRED = new Error('PUBACK/PUBREC deferred until Danube has the message');

/** SUBACK codes at or above this are failures (0x80 in 3.1.1; 0x80–0xA2 in MQTT 5). */
const SUBACK_FAILURE = 0x80;

/** Counts the source keeps for its log lines. */
interface MqttSourceCounts {
  unmatched: number;
  duplicatesIgnored: number;
}

/**
 * MQTT → Danube (docs/delivery-semantics.md, push style). Each PUBLISH is routed (first matching route), handed to
 * the runtime with an ack handle, and — for QoS 1 — PUBACKed through the in-order window only once Danube has it
 * and everything received before it. MQTT.js's packet loop goes on at once, so keep-alive keeps working while
 * PUBACKs are held; it waits only while the runtime's window is full (its `output.send` is pending) or for a
 * PUBLISH beyond our Receive Maximum, so at most `receive_maximum` messages ever await their PUBACK.
 */
export class MqttSource implements SourceConnector {
  private readonly routes: RouteTable;
  /** The records' shared metadata attributes; undefined without `include_metadata`. */
  private readonly metadata: MetadataAttributes | undefined;
  private readonly connection: MqttConnection;
  private readonly window: PubackWindow;
  private readonly unmatchedLog: RateLimitedLog;
  private readonly loopLog: RateLimitedLog;
  private output: SourceOutput | undefined;
  /** A QoS 1 PUBLISH that found the PUBACK window full (the broker exceeded our Receive Maximum): the loop waits with it. */
  private parked: { packet: IPublishPacket; done: (err?: Error) => void; epoch: number } | undefined;
  /**
   * QoS 1 and 2 messages of closed connections, not acknowledged, by packet id: a kept session redelivers them with
   * the same id and DUP set, and then the copy is acknowledged once the original is in Danube instead of being
   * published twice. Keyed by packet id, this and `released` hold at most 65,535 entries each, and never need
   * trimming: an older bound (4 x receive_maximum) forgot ids still in flight when a broker ran further ahead
   * (mosquitto 2.0.11 counts a QoS 2 message against Receive Maximum only until our PUBREC), and their
   * redeliveries after a broker restart were published twice.
   */
  private readonly unacknowledged = new Map<number, PubackEntry>();
  /**
   * QoS 2 packet ids whose PUBREC went out and whose PUBREL has not come yet (the message is in Danube). A PUBLISH
   * with such an id is the broker re-sending one whose PUBREC it missed (a connection lost): it gets its PUBREC again
   * and is not published twice (MQTT 5 §4.3.3). Lives as long as the process; a SIGKILL forgets it (README).
   */
  private readonly released = new Set<number>();
  /**
   * The last epoch whose connection closed. MQTT.js goes on handing over the PUBLISH packets it had read from a
   * connection until it reconnects; one of a closed epoch can never be acknowledged (see `onPublish`).
   */
  private closedEpoch = 0;
  private stopping = false;
  private readonly counts: MqttSourceCounts = { unmatched: 0, duplicatesIgnored: 0 };
  private readonly metrics: SourceMetrics;
  /** Per route (by index): its schema file and payload check, read and compiled once, at create. */
  private readonly schemas: Array<LoadedSchema | undefined>;
  private readonly origins: OriginFilter;

  constructor(
    private readonly config: SourceMqttConfig,
    private readonly ctx: Pick<ConnectorContext, 'name' | 'logger' | 'metricsRegistry' | 'danube'>,
  ) {
    this.routes = new RouteTable(config.routes);
    this.metadata = config.include_metadata ? new MetadataAttributes() : undefined;
    this.schemas = loadRouteSchemas(config.routes);
    this.origins = new OriginFilter(config.ignore_origins);
    this.window = new PubackWindow(config.receive_maximum, {
      send: (messageId, epoch, qos) => {
        const sent = this.connection.sendAck(messageId, epoch, qos);
        if (sent && qos === 2) this.released.add(messageId);
        return sent;
      },
      flushed: () => this.resumeLoop(),
    });
    this.unmatchedLog = new RateLimitedLog(ctx.logger, 'MQTT message matches no route: acknowledged and not published');
    // A sink of the same bridge writes where this source reads: the configuration loops, prevented here.
    this.loopLog = new RateLimitedLog(ctx.logger, 'MQTT message published by a Danube sink reached this source: acknowledged and not published (ignore_origins); the configuration loops');
    this.metrics = new SourceMetrics(ctx.name, ctx.metricsRegistry, { connected: () => this.connection.connected, awaitingPuback: () => this.window.size });
    this.connection = new MqttConnection({
      config,
      clientId: config.client_id ?? `danube-${ctx.name}`,
      logger: ctx.logger,
      hooks: {
        onPublish: (packet, done, epoch) => this.onPublish(packet, done, epoch),
        onConnect: (info) => this.onConnect(info),
        onPubrel: (messageId) => this.released.delete(messageId),
        onDisconnect: (epoch) => {
          this.closedEpoch = epoch;
          const dropped = this.window.dropEpoch(epoch);
          this.ctx.logger.debug({ epoch, dropped: dropped.length }, 'MQTT connection down: its PUBACKs are void, the broker redelivers');
          for (const entry of dropped) this.unacknowledged.set(entry.messageId, entry);
          // The loop of a closed connection never reads again; a new connection has its own.
          this.parked = undefined;
        },
      },
    });
  }

  /** One producer per Danube topic; a route's schema is registered and resolved here, before any producer exists. */
  async producerConfigs(): Promise<ProducerConfig[]> {
    const byTopic = new Map<string, ProducerConfig>();
    const bySubject = new Map<string, BoundSchema>();
    for (const route of this.routes.routes) {
      if (byTopic.has(route.to)) continue; // config.ts checked that routes sharing a topic agree
      const config: ProducerConfig = { topic: route.to, partitions: route.partitions, dispatch: reliableOf(route) ? 'reliable' : 'non_reliable', ordering: route.ordering };
      if (route.schema) {
        let bound = bySubject.get(route.schema.subject); // config.ts checked that routes sharing a subject agree
        if (!bound) {
          bound = await bindSchema(this.ctx.danube.schemaRegistry, route.schema, this.schemas[route.index]?.file, `routes/${route.index}/schema`, this.ctx.logger);
          bySubject.set(route.schema.subject, bound);
        }
        config.schema = bound;
      }
      byTopic.set(route.to, config);
    }
    return [...byTopic.values()];
  }

  async start(output: SourceOutput): Promise<void> {
    this.output = output;
    await this.connection.start();
  }

  /** Stops intake: from now on nothing is read or acknowledged; what the runtime holds drains, then `close`. */
  stop(): void {
    this.stopping = true;
  }

  /** DISCONNECT after the drain, without UNSUBSCRIBE: the broker keeps the session and queues for us. */
  async close(): Promise<void> {
    this.stopping = true;
    await this.connection.end();
    this.ctx.logger.info(
      { awaitingPuback: this.window.size, maxAwaitingPuback: this.window.maxSize, receiveMaximum: this.config.receive_maximum, pubacksSent: this.window.pubacksSent },
      'MQTT disconnected',
    );
  }

  health(): ConnectorHealth {
    return this.connection.health();
  }

  private async onConnect(info: ConnectInfo): Promise<void> {
    if (!info.first) this.metrics.recordReconnect();
    // Without a kept session nothing is redelivered, and packet ids start afresh.
    if (!info.sessionPresent) {
      this.unacknowledged.clear();
      this.released.clear();
    }
    // Resubscribing into a kept session would make the broker re-send retained messages.
    if (info.sessionPresent && !info.first) {
      this.ctx.logger.info({ epoch: info.epoch }, 'MQTT session resumed: subscriptions kept, not resubscribing');
      return;
    }
    const filters = [...new Map(this.routes.routes.map((r) => [r.from, r])).values()];
    await Promise.all(
      filters.map(async (route) => {
        const options =
          info.protocolVersion === 5
            ? // rh 1: retained messages only for a subscription the session did not have yet.
              { qos: route.qos, rh: 1, properties: { subscriptionIdentifier: route.subscriptionId } }
            : { qos: route.qos };
        const granted = await info.client.subscribeAsync(route.from, options);
        const code = granted[0]?.qos ?? SUBACK_FAILURE;
        if (code >= SUBACK_FAILURE) {
          throw ConnectorError.fatal(`MQTT broker refused the subscription to "${route.from}" (routes/${route.index}, SUBACK ${code}); check the broker's ACL for client id "${this.connection.clientId}"`, { code: 'DC_ERR_MQTT_SUBSCRIBE' });
        }
        if (code < route.qos) this.ctx.logger.warn({ filter: route.from, requested: route.qos, granted: code }, 'MQTT broker granted a lower QoS than requested: messages may be lost');
      }),
    );
    this.ctx.logger.info({ filters: filters.map((r) => r.from), sessionPresent: info.sessionPresent }, 'MQTT subscribed');
  }

  private onPublish(packet: IPublishPacket, done: (err?: Error) => void, epoch: number): void {
    // Stopping: hold the loop and acknowledge nothing more; the broker redelivers it to the next run.
    if (this.stopping || !this.output) return;
    const needsAck = packet.qos > 0;
    // Read before its connection closed: no PUBACK or PUBREC can reach the broker for it any more, so it stays out
    // of the window. It is published all the same (the session may not be kept) and remembered, so that the kept
    // session's redelivery is acknowledged once Danube has it instead of being published twice.
    const stale = needsAck && epoch <= this.closedEpoch;
    if (needsAck && !stale && this.window.full) {
      // Only a broker that ignores our Receive Maximum gets here (mosquitto 2.0.11 does under load): the window
      // stays bounded, and the loop reads on once a PUBACK made room. A compliant broker never stalls the loop.
      this.parked = { packet, done, epoch };
      return;
    }
    const messageId = packet.messageId as number;
    const qos = packet.qos as 1 | 2;
    const entry = !needsAck ? undefined : stale ? { messageId, epoch, qos, done: false } : this.window.add(messageId, epoch, qos);
    const next = () => this.continueLoop(needsAck ? () => done(DEFERRED) : () => done());
    const topic = packet.topic.toString();
    const decision = this.routes.decide(topic, packet.properties?.subscriptionIdentifier);
    const original = needsAck ? this.unacknowledged.get(messageId) : undefined;
    // A stale copy leaves the original for the redelivery still to come.
    if (original && !stale) this.unacknowledged.delete(messageId);
    if (entry && packet.qos === 2 && this.released.has(entry.messageId)) {
      // Already in Danube, PUBREC sent and lost with a connection: PUBREC again (in order), publish nothing.
      this.counts.duplicatesIgnored++;
      if (decision.kind !== 'unmatched') this.metrics.recordDuplicate(decision.route.to);
      this.window.complete(entry);
      next();
      return;
    }
    if (entry && original && packet.dup) {
      // The redelivery of a message an earlier connection handed to the runtime: PUBACK it once Danube has that.
      this.counts.duplicatesIgnored++;
      if (decision.kind !== 'unmatched') this.metrics.recordDuplicate(decision.route.to);
      // A stale copy is acknowledged by nobody: its own redelivery waits for the original.
      const redelivered = entry;
      if (!stale) {
        if (original.done) this.window.complete(redelivered);
        else original.onDone = () => this.window.complete(redelivered);
      }
      next();
      return;
    }
    if (decision.kind !== 'route') {
      if (decision.kind === 'unmatched') {
        this.counts.unmatched++;
        this.metrics.recordUnmatched();
        this.unmatchedLog.event({ topic, qos: packet.qos, unmatched_total: this.counts.unmatched });
      } else {
        this.counts.duplicatesIgnored++;
        this.metrics.recordDuplicate(decision.route.to);
      }
      if (entry) this.window.complete(entry);
      next();
      return;
    }
    const origin = this.origins.skipped(packet);
    if (origin !== undefined) {
      // Published by a Danube sink: taking it in again would loop (README, Loops).
      this.metrics.recordLoopIgnored();
      this.loopLog.event({ topic, origin });
      if (entry) this.window.complete(entry);
      next();
      return;
    }
    if (stale && entry) this.unacknowledged.set(messageId, entry);
    const record = mqttRecord(packet, topic, decision.route, this.metadata, entry ? () => this.window.complete(entry) : undefined);
    const invalid = this.payloadProblem(decision.route, record.payload);
    // Not published: the runtime dead-letters (or drops) it in order, and only then calls its ack (the PUBACK).
    if (invalid) record.invalid = invalid;
    this.output.send(record).then(
      (accepted: unknown) => {
        // false (or a rejection): the runtime stopped intake; hold the loop, the message stays unacknowledged.
        if (accepted === false) this.stopping = true;
        else next();
      },
      () => {
        this.stopping = true;
      },
    );
  }

  /** Why the payload fails the route's schema, as invalid data; undefined when it fits or is not checked. */
  private payloadProblem(route: Route, payload: Buffer): ConnectorError | undefined {
    const problem = this.schemas[route.index]?.check?.(payload);
    if (problem === undefined) return undefined;
    return ConnectorError.invalidData(`routes/${route.index}: schema "${route.schema?.subject}" (${route.schema?.type}): ${problem}`, { code: 'DC_ERR_MQTT_PAYLOAD_INVALID' });
  }

  /** Lets MQTT.js read the next packet. */
  private continueLoop(release: () => void): void {
    if (!this.stopping) release();
  }

  /** PUBACKs went out: a parked PUBLISH now fits. */
  private resumeLoop(): void {
    const parked = this.parked;
    if (!parked || this.stopping || this.window.full) return;
    this.parked = undefined;
    this.onPublish(parked.packet, parked.done, parked.epoch);
  }
}
