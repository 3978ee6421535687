import { describe, expect, it } from 'vitest';
import { HostMetrics } from '../../src/http/host-metrics.js';
import type { ConnectorView, StatusSource } from '../../src/http/status-source.js';

const view = (name: string, truncatedLines: number): ConnectorView => ({ name, plugin: '@fixtures/p', version: '1.0.0', state: 'running', restarts: 0, truncatedLines, config: {} });

function source(connectors: ConnectorView[]): StatusSource {
  return { connectors: () => connectors, childMetrics: async () => ({ metrics: [], missing: [] }), reload: async () => ({ restarted: [], started: [], stopped: [] }), control: async () => undefined, scrub: (text) => text };
}

describe('HostMetrics', () => {
  it('exposes the lines cut per connector as a counter', async () => {
    const metrics = new HostMetrics();
    metrics.refresh(source([view('iot', 3), view('quiet', 0)]));
    const text = await metrics.registry.metrics();
    expect(text).toContain('# TYPE danube_connect_log_lines_truncated_total counter');
    expect(text).toContain('danube_connect_log_lines_truncated_total{connector="iot"} 3');
    expect(text).toContain('danube_connect_log_lines_truncated_total{connector="quiet"} 0');
  });
});
