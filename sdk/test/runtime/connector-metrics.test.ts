import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
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

  it("exports the duration histogram exactly as prom-client's Histogram does, merged by the host the same way", async () => {
    // Observations on every bound, between bounds, above the largest and a non-finite one (dropped, not thrown).
    const seconds = [0, 0.0005, 0.0007, 0.001, 0.003, 0.025, 0.2, 0.5, 7, 10, 11, 120];
    const metrics = new ConnectorMetrics('iot');
    const reference = new Registry();
    const histogram = new Histogram({
      name: 'danube_connector_processing_duration_seconds',
      help: 'From receipt to processed (sources: to commit; sinks: the write of a batch)',
      labelNames: ['connector', 'topic'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [reference],
    });
    seconds.forEach((s, i) => {
      const topic = i % 3 === 0 ? '/default/b' : '/default/a';
      if (i % 2 === 0) metrics.recordProcessed(topic, s);
      else metrics.observeDuration(topic, s);
      histogram.observe({ connector: 'iot', topic }, s);
    });
    metrics.recordProcessed('/default/a', Number.NaN);
    metrics.recordProcessed('/default/c');
    const ours = (await metrics.toJSON()).find((m) => m.name === 'danube_connector_processing_duration_seconds');
    const theirs = (await reference.getMetricsAsJSON())[0];
    const plain = (values: unknown) => JSON.parse(JSON.stringify(values, (key, value) => (key === 'exemplar' ? undefined : value)));
    expect(plain(ours?.values)).toEqual(plain(theirs?.values));
    expect(ours).toMatchObject({ type: 'histogram', aggregator: 'sum', help: theirs?.help });
    const text = (json: unknown[]) => AggregatorRegistry.aggregate([json as never]).metrics();
    expect(await text([ours])).toBe(await text([theirs]));
    expect(await text([ours])).toContain('danube_connector_processing_duration_seconds_bucket{le="0.001",connector="iot",topic="/default/a"} 2');
  });
});

