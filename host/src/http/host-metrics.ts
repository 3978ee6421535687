import { Counter, Gauge, Registry } from 'prom-client';
import type { StatusSource } from './status-source.js';

/**
 * The host's own metrics, next to the children's: connectors per state, restarts, and scrapes where a child
 * did not answer. Gauges are refreshed from the status source at scrape time.
 */
export class HostMetrics {
  readonly registry = new Registry();
  private readonly state = new Gauge({
    name: 'danube_connect_connector_state',
    help: '1 for the state each connector is in (label state)',
    labelNames: ['connector', 'state'],
    registers: [this.registry],
  });
  private readonly restarts = new Gauge({ name: 'danube_connect_connector_restarts', help: 'Restarts since the host started', labelNames: ['connector'], registers: [this.registry] });
  // Counted by the supervisor; a counter that the scrape sets to its current value.
  private readonly truncated = new Counter({
    name: 'danube_connect_log_lines_truncated_total',
    help: 'Lines of a connector child cut at the 64 KiB line limit (the rest of each line is discarded)',
    labelNames: ['connector'],
    registers: [this.registry],
  });
  private readonly dropped = new Counter({
    name: 'danube_connect_log_lines_dropped_total',
    help: "Log lines (the host's and its children's) dropped because stdout did not keep up and the buffer was full",
    registers: [this.registry],
  });
  private readonly buffered = new Gauge({
    name: 'danube_connect_log_buffered_bytes',
    help: 'Bytes of log lines accepted and not yet written to stdout (bounded: past the bound lines are dropped)',
    registers: [this.registry],
  });
  private readonly missing = new Counter({
    name: 'danube_connect_metrics_scrape_missing_total',
    help: 'Scrapes in which a connector child did not send its metrics in time',
    labelNames: ['connector'],
    registers: [this.registry],
  });

  refresh(source: StatusSource): void {
    this.state.reset();
    this.restarts.reset();
    this.truncated.reset();
    const output = source.logOutput?.();
    if (output) {
      this.dropped.reset();
      this.dropped.inc(output.droppedLines);
      this.buffered.set(output.bufferedBytes);
    }
    for (const connector of source.connectors()) {
      this.state.set({ connector: connector.name, state: connector.state }, 1);
      this.restarts.set({ connector: connector.name }, connector.restarts);
      this.truncated.inc({ connector: connector.name }, connector.truncatedLines);
    }
  }

  countMissing(connectors: string[]): void {
    for (const connector of connectors) this.missing.inc({ connector });
  }
}
