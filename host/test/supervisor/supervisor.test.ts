import type { TestBroker } from '@danube-connect/testing';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureSpec, startBroker, stored, SupervisorUnderTest, uniqueTopic } from './helpers.js';

// Several connectors under one Supervisor: isolation of a crash loop, reload by fingerprint, metrics pulled
// from every child.

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
});

describe('Supervisor', () => {
  it('a crash loop marks one connector failed while another keeps running', async () => {
    const t = new SupervisorUnderTest();
    const topic = uniqueTopic('steady');
    t.supervisor.start([
      fixtureSpec('counter-source', { name: 'steady', serviceUrl: broker.serviceUrl, config: { topic, batch: 1 } }),
      fixtureSpec('crash-after-n', { name: 'flaky', serviceUrl: broker.serviceUrl, config: { topic: uniqueTopic('flaky') }, restart: { initialDelayMs: 20, maxCrashes: 3 } }),
    ]);
    const { pid } = await t.state('steady', 'running');
    const failed = await t.state('flaky', 'failed');
    expect(failed).toMatchObject({ restarts: 2, detail: expect.stringMatching(/^crash loop: 3 crashes within 60000 ms; last: .*crashing after 3 records/) });
    expect(t.statesOf('flaky').filter((s) => s === 'backoff')).toHaveLength(2);

    // The other connector was never touched and still publishes.
    const before = stored(broker, topic).length;
    await t.until('steady', () => stored(broker, topic).length > before + 10);
    expect(t.snapshot('steady')).toMatchObject({ state: 'running', pid, restarts: 0 });
    expect(t.statesOf('steady')).toEqual(['starting', 'running']);
    expect(t.supervisor.connectors().map((c) => [c.name, c.state])).toEqual([
      ['steady', 'running'],
      ['flaky', 'failed'],
    ]);
  });

  it('replace (reload): restarts only the changed connector, starts new ones, stops removed ones, restarts failed ones', async () => {
    const t = new SupervisorUnderTest();
    const base = uniqueTopic('reload');
    const spec = (name: string, extra: Record<string, unknown> = {}) =>
      fixtureSpec('counter-source', { name, serviceUrl: broker.serviceUrl, config: { topic: `${base}-${name}`, ...extra } });
    t.supervisor.start([spec('same'), spec('changed'), spec('removed'), fixtureSpec('wrong-default-export', { name: 'broken', serviceUrl: broker.serviceUrl })]);
    const same = await t.state('same', 'running');
    const changed = await t.state('changed', 'running');
    const removed = await t.state('removed', 'running');
    await t.state('broken', 'failed');

    const result = await t.supervisor.replace([spec('same'), spec('changed', { batch: 5 }), spec('added'), fixtureSpec('wrong-default-export', { name: 'broken', serviceUrl: broker.serviceUrl })]);
    expect(result).toEqual({ started: ['added'], restarted: ['changed', 'broken'], stopped: ['removed'], unchanged: ['same'], updated: [], needsRestart: [] });

    expect(t.snapshot('same')).toMatchObject({ state: 'running', pid: same.pid });
    const changedAfter = await t.state('changed', 'running');
    expect(changedAfter.pid).not.toBe(changed.pid);
    expect(changedAfter.fingerprint).not.toBe(changed.fingerprint);
    await t.state('added', 'running');
    expect(t.supervisor.connector('removed')).toBeUndefined();
    expect(t.statesOf('removed')).toEqual(['starting', 'running', 'stopping', 'stopped']);
    expect(removed.pid).toBeGreaterThan(0);
    await t.until('broken', () => t.statesOf('broken').length === 4);
    expect(t.statesOf('broken')).toEqual(['starting', 'failed', 'starting', 'failed']);
    expect(t.statesOf('same')).toEqual(['starting', 'running']);

    await expect(t.supervisor.replace([spec('x'), spec('x')])).rejects.toThrow('duplicate connector names');
  });

  it('metrics(): collects every child, skips and counts a silent one', async () => {
    const t = new SupervisorUnderTest({ stopGraceMs: 200 });
    const topic = uniqueTopic('metrics');
    t.supervisor.start([
      fixtureSpec('counter-source', { name: 'counter', serviceUrl: broker.serviceUrl, config: { topic, count: 20 } }),
      fixtureSpec('counter-source', { name: 'other', serviceUrl: broker.serviceUrl, config: { topic: uniqueTopic('other'), count: 5 } }),
      // A long ping interval: the hang is not detected during this test, the child just stays silent.
      fixtureSpec('hangs', { name: 'silent', serviceUrl: broker.serviceUrl, pingIntervalMs: 60_000, shutdownTimeoutMs: 200, config: { afterMs: 300 } }),
    ]);
    await t.state('counter', 'running');
    await t.state('other', 'running');
    await t.state('silent', 'running');
    await t.until('silent', () => t.childLogs.some((l) => l.connector === 'silent' && l.msg === 'hangs: entering a busy loop'));
    await t.until('counter', () => stored(broker, topic).length === 20);

    // The silent child never answers, so the wait only costs time; 2 s (not 0.5) lets a starved live child answer.
    const collection = await t.supervisor.metrics(2_000);
    expect(collection.skipped).toEqual(['silent']);
    expect(collection.connectors.map((c) => c.connector)).toEqual(['counter', 'other']);
    expect(t.snapshot('silent').metricsSkipped).toBe(1);
    expect(t.snapshot('counter').metricsSkipped).toBe(0);

    // The JSON merges into one valid exposition, labelled by connector.
    const registry = AggregatorRegistry.aggregate(collection.connectors.map((c) => c.metrics as MetricObjectWithValues<MetricValue<string>>[]));
    const text = await registry.metrics();
    expect(text).toContain(`danube_connector_messages_received_total{connector="counter",topic="${topic}"} 20`);
    expect(text).toMatch(/danube_connector_messages_received_total\{connector="other",topic="[^"]+"\} 5/);
    expect(text.match(/^# TYPE danube_connector_messages_received_total /gm)).toHaveLength(1);

    const stop = await t.supervisor.stop();
    expect(stop.connectors.find((c) => c.connector === 'silent')?.outcome).toBe('killed');
  });
});
