import type { ConnectorMetrics } from '../../src/runtime/connector-metrics.js';

type Snapshot = Awaited<ReturnType<ConnectorMetrics['snapshot']>>;

/**
 * Where `received = processed + dead_lettered + dropped + in_flight` does not hold, one line per topic (empty when
 * it holds everywhere). A check that can fail: in_flight is what the runtime still holds, not a difference of the
 * other counters.
 */
export function accountingProblems(snapshot: Snapshot): string[] {
  const problems: string[] = [];
  for (const [topic, c] of Object.entries(snapshot)) {
    const settled = c.processed + c.deadLettered + c.dropped + c.inFlight;
    if (c.received !== settled) {
      problems.push(`${topic}: received ${c.received} != processed ${c.processed} + dead_lettered ${c.deadLettered} + dropped ${c.dropped} + in_flight ${c.inFlight}`);
    }
  }
  return problems;
}

/** The stuck-pipeline gauge of `metrics` (danube_connector_oldest_inflight_age_seconds), or undefined without one. */
export async function oldestInFlightAge(metrics: ConnectorMetrics): Promise<number | undefined> {
  const gauge = (await metrics.toJSON()).find((m) => m.name === 'danube_connector_oldest_inflight_age_seconds');
  return gauge?.values.find((v) => v.labels.connector === metrics.connector)?.value;
}
