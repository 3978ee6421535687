import { Counter, Gauge, type Registry } from 'prom-client';

/** What the gauges read at scrape time. */
export interface MqttGaugeSource {
  connected(): boolean;
  awaitingPuback(): number;
}

/**
 * The plugin's own metrics beside the runtime's reference ones (which carry the route's Danube topic as label):
 * messages no route takes, extra copies of overlapping subscriptions, what a Danube sink published (loop
 * prevention), reconnects, connection state and the
 * PUBACK window. Gauges are read when scraped, so the message path only increments counters.
 */
export class SourceMetrics {
  private readonly unmatched: Counter<'connector'>;
  private readonly duplicates: Counter<'connector' | 'topic'>;
  private readonly reconnects: Counter<'connector'>;
  private readonly loopIgnored: Counter<'connector'>;

  constructor(
    private readonly connector: string,
    registry: Registry | undefined,
    gauges: MqttGaugeSource,
  ) {
    const registers = registry ? [registry] : [];
    this.unmatched = new Counter({ name: 'danube_connector_mqtt_unmatched_total', help: 'MQTT messages no route takes: acknowledged, not published', labelNames: ['connector'], registers });
    this.duplicates = new Counter({
      name: 'danube_connector_mqtt_duplicates_ignored_total',
      help: 'Extra copies the broker sent for overlapping subscriptions (MQTT 5 subscription identifiers): acknowledged, not published again',
      labelNames: ['connector', 'topic'],
      registers,
    });
    this.reconnects = new Counter({ name: 'danube_connector_mqtt_reconnects_total', help: 'MQTT connections after the first', labelNames: ['connector'], registers });
    this.loopIgnored = new Counter({
      name: 'danube_connector_mqtt_loop_ignored_total',
      help: 'MQTT messages a Danube sink published (user property danube-origin in ignore_origins): acknowledged, not published, so a bridge cannot loop',
      labelNames: ['connector'],
      registers,
    });
    new Gauge({
      name: 'danube_connector_mqtt_connected',
      help: '1 while connected to the MQTT broker, else 0',
      labelNames: ['connector'],
      registers,
      collect() {
        this.set({ connector }, gauges.connected() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'danube_connector_mqtt_awaiting_puback',
      help: 'QoS 1 and 2 messages received and not yet acknowledged to the broker (PUBACK / PUBREC; at most receive_maximum)',
      labelNames: ['connector'],
      registers,
      collect() {
        this.set({ connector }, gauges.awaitingPuback());
      },
    });
    // Present at 0 from the start, so dashboards and alerts see the series before the first event.
    this.unmatched.inc({ connector }, 0);
    this.reconnects.inc({ connector }, 0);
    this.loopIgnored.inc({ connector }, 0);
  }

  recordLoopIgnored(): void {
    this.loopIgnored.inc({ connector: this.connector });
  }

  recordUnmatched(): void {
    this.unmatched.inc({ connector: this.connector });
  }

  recordDuplicate(topic: string): void {
    this.duplicates.inc({ connector: this.connector, topic });
  }

  recordReconnect(): void {
    this.reconnects.inc({ connector: this.connector });
  }
}
