import { AggregatorRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ConnectorMetrics } from '../../src/runtime/connector-metrics.js';

describe('ConnectorMetrics', () => {
  it("counts per topic and takes in_flight from the runtime's view, so the invariant can fail", async () => {
    const metrics = new ConnectorMetrics('iot');
    const held = new Map([
      ['/default/a', 3],
      ['/default/b', 2],
    ]);
    metrics.watchInFlight({ byTopic: () => held, oldestAgeMs: () => 0 });
    for (let i = 0; i < 10; i++) metrics.recordReceived('/default/a', 100);
    for (let i = 0; i < 3; i++) metrics.recordReceived('/default/b', 10);
    for (let i = 0; i < 6; i++) metrics.recordProcessed('/default/a', 0.002);
    metrics.recordDeadLettered('/default/a');
    metrics.recordDropped('/default/b', 'invalid_data');
    metrics.recordFailure('/default/a', 'DC_ERR_UNAVAILABLE');
    const snapshot = await metrics.snapshot();
    expect(snapshot['/default/a']).toMatchObject({ received: 10, processed: 6, deadLettered: 1, dropped: 0, inFlight: 3, failed: 1 });
    expect(snapshot['/default/b']).toMatchObject({ received: 3, processed: 0, deadLettered: 0, dropped: 1, inFlight: 2 });
    for (const s of Object.values(snapshot)) expect(s.received).toBe(s.processed + s.deadLettered + s.dropped + s.inFlight);
    const gauge = (await metrics.toJSON()).find((m) => m.name === 'danube_connector_inflight_messages');
    expect(gauge?.values).toEqual(expect.arrayContaining([{ value: 3, labels: { connector: 'iot', topic: '/default/a' } }]));
    // A runtime that lost a record holds one less than the counters imply.
    held.set('/default/a', 2);
    const after = (await metrics.snapshot())['/default/a']!;
    expect(after.received).not.toBe(after.processed + after.deadLettered + after.dropped + after.inFlight);
  });

  it('counts offset gaps over every topic for the pong, one per gap whatever its size', () => {
    const metrics = new ConnectorMetrics('iot');
    expect(metrics.offsetGapTotal).toBe(0);
    metrics.recordOffsetGap('/default/a', 'sub', 5);
    metrics.recordOffsetGap('/default/b', 'sub', 1);
    expect(metrics.offsetGapTotal).toBe(2);
  });

  it('exports the reference names with connector and real topic labels, mergeable by the host', async () => {
    const a = new ConnectorMetrics('a');
    const b = new ConnectorMetrics('b');
    a.recordReceived('/default/x', 5);
    b.recordReceived('/default/y', 5);
    const json = await a.toJSON();
    expect(json.map((m) => m.name)).toEqual(
      expect.arrayContaining([
        'danube_connector_messages_received_total',
        'danube_connector_messages_processed_total',
        'danube_connector_messages_failed_total',
        'danube_connector_processing_duration_seconds',
        'danube_connector_health',
        'danube_connector_inflight_messages',
      ]),
    );
    const received = json.find((m) => m.name === 'danube_connector_messages_received_total');
    expect(received?.values).toEqual([{ value: 1, labels: { connector: 'a', topic: '/default/x' } }]);
    const merged = await AggregatorRegistry.aggregate([json, await b.toJSON()]).metrics();
    expect(merged).toContain('danube_connector_messages_received_total{connector="a",topic="/default/x"} 1');
    expect(merged).toContain('danube_connector_messages_received_total{connector="b",topic="/default/y"} 1');
  });
});
