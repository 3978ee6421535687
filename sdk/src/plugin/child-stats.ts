import type { ConnectorMetrics } from '../runtime/connector-metrics.js';
import type { ChildStats } from './protocol.js';

export const ZERO_STATS: Readonly<ChildStats> = Object.freeze({ received: 0, processed: 0, deadLettered: 0, dropped: 0, inFlight: 0, failed: 0, retried: 0 });

/** The per-topic counts of a metrics snapshot summed into the totals a pong carries. */
export function sumStats(snapshot: Awaited<ReturnType<ConnectorMetrics['snapshot']>>): ChildStats {
  const total: ChildStats = { ...ZERO_STATS };
  for (const counts of Object.values(snapshot)) {
    for (const key of Object.keys(total) as (keyof ChildStats)[]) total[key] += counts[key];
  }
  return total;
}
