import { ConnectorError, type ConnectorContext, type ConnectorHealth, type ConsumerConfig, type SinkConnector, type SinkRecord } from '@danube-connect/sdk';
import { MqttConnection } from '@danube-connect/mqtt';
import { subscriptionOf, type SinkMqttConfig } from './config.js';
import { MessageBuilder, type MqttMessage } from './mqtt-message.js';
import { MqttPublisher } from './mqtt-publisher.js';

/**
 * Danube → MQTT. Pipelined (docs/delivery-semantics.md §4.2): the runtime hands over each record as it arrives,
 * without waiting for earlier publishes, up to the subscription's unacked window (10 on a reliable subscription)
 * per partition; the publisher sends in call order on the one MQTT connection, which keeps each partition's order
 * (MQTT 5 §4.6), and a call resolves only when its publish completed, so Danube acks only what the broker has,
 * message by message. Partitions publish side by side on the same connection.
 */
export class MqttSink implements SinkConnector {
  readonly pipelined = true;
  private readonly connection: MqttConnection;
  private readonly publisher: MqttPublisher;
  /** Per `<topic>|<subscription>`: the route's message builder. */
  private readonly builders = new Map<string, MessageBuilder>();

  constructor(
    private readonly config: SinkMqttConfig,
    private readonly ctx: ConnectorContext,
  ) {
    const origin = config.mark_origin ? ctx.name : undefined;
    for (const route of config.routes) this.builders.set(`${route.from}|${subscriptionOf(route, ctx.name)}`, new MessageBuilder(route, origin));
    this.connection = new MqttConnection({
      config,
      clientId: config.client_id ?? `danube-${ctx.name}`,
      logger: ctx.logger,
      hooks: {
        // The sink subscribes to nothing; a session kept from an earlier use of the client id may still deliver.
        onPublish: (_packet, done) => done(),
        onConnect: (info) => this.publisher.connected(info.receiveMaximum, info.maximumPacketSize),
        onDisconnect: (epoch) => this.publisher.disconnected(epoch),
      },
    });
    this.publisher = new MqttPublisher(this.connection);
  }

  /** Connects (resolves when connected or, unreachable, retrying in the background; rejects when refused for good). */
  start(): Promise<void> {
    return this.connection.start();
  }

  consumerConfigs(): ConsumerConfig[] {
    return this.config.routes.map((route) => ({
      topic: route.from,
      subscription: subscriptionOf(route, this.ctx.name),
      type: route.subscription_type,
      consumerName: route.consumer_name ?? this.ctx.name,
    }));
  }

  async processBatch(records: readonly SinkRecord[], signal: AbortSignal, written?: (record: SinkRecord) => void): Promise<void> {
    const version = this.connection.version;
    // An invalid record (no topic, a malformed property, too large) is never sent; the valid ones around it are, in
    // order, and the call then fails as invalid data: the runtime dead-letters the bad one and acks the rest (each
    // reported written), so no later call's message goes out before a valid one of this call.
    const sendable: Array<{ record: SinkRecord; message: MqttMessage }> = [];
    let invalid: ConnectorError | undefined;
    for (const record of records) {
      const builder = this.builders.get(`${record.topic}|${record.subscription}`);
      if (!builder) throw ConnectorError.fatal(`no route for ${record.topic} (subscription ${record.subscription})`, { code: 'DC_ERR_CONNECTOR_BUG' });
      try {
        const message = builder.build(record, version);
        this.publisher.checkSize(message);
        sendable.push({ record, message });
      } catch (err) {
        if (!(err instanceof ConnectorError) || err.kind !== 'invalid_data') throw err;
        invalid ??= err;
      }
    }
    // Each record is reported as its own PUBACK comes, so the runtime acks it without waiting for the others.
    const messages = sendable.map((s) => s.message);
    await this.publisher.publishAll(messages, signal, written && ((index) => written((sendable[index] as (typeof sendable)[number]).record)));
    if (invalid) throw invalid;
  }

  health(): ConnectorHealth {
    return this.connection.health();
  }

  async close(): Promise<void> {
    await this.connection.end();
  }
}
