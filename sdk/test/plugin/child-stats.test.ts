import { describe, expect, it } from 'vitest';
import { ConnectorMetrics } from '../../src/runtime/connector-metrics.js';
import { sumStats } from '../../src/plugin/child-stats.js';

describe('sumStats', () => {
  it('sums the per-topic counts of a metrics snapshot', async () => {
    const metrics = new ConnectorMetrics('c');
    const held = new Map<string, number>();
    metrics.watchInFlight({ byTopic: () => held, oldestAgeMs: () => 0 });
    expect(sumStats(await metrics.snapshot())).toEqual({ received: 0, processed: 0, deadLettered: 0, dropped: 0, inFlight: 0, failed: 0, retried: 0 });
    for (const topic of ['/default/a', '/default/b']) {
      metrics.recordReceived(topic, 3);
      metrics.recordReceived(topic, 3);
      metrics.recordProcessed(topic);
    }
    metrics.recordReceived('/default/a', 1);
    metrics.recordDropped('/default/a', 'invalid_data');
    metrics.recordFailure('/default/b', 'DC_ERR_CONNECTOR_RETRYABLE');
    metrics.recordRetry('/default/b');
    held.set('/default/a', 1).set('/default/b', 1);
    expect(sumStats(await metrics.snapshot())).toEqual({ received: 5, processed: 2, deadLettered: 0, dropped: 1, inFlight: 2, failed: 1, retried: 1 });
  });
});
