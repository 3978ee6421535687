import { describe, expect, it, onTestFinished } from 'vitest';
import { DanubeClient } from '../../src/danube/danube-client.js';
import { runningHealthChecks } from '../../src/danube/health-check.js';
import { uniqueName, uniqueTopic } from '../contract/target.js';
import { startBroker } from '../broker.js';

/** The client's registries of producers and consumers (white-box: what close() must prune). */
function registries(client: DanubeClient): { producers: number; consumers: number } {
  const inner = client as unknown as { producers: Set<unknown>; consumers: Set<unknown> };
  return { producers: inner.producers.size, consumers: inner.consumers.size };
}

describe('DanubeClient keeps no dead structures', () => {
  it('a partitioned producer whose creation fails on one partition leaves no partition producer running', async () => {
    const broker = await startBroker();
    // Partition 1 lives on a second broker of the cluster that is down: its creation retries until the deadline,
    // long after the other partitions' producers exist.
    const other = await startBroker({ cluster: broker.cluster });
    const topic = uniqueTopic('half');
    other.createTopic(`${topic}-part-1`, { dispatch: 'reliable' });
    await other.goOffline();
    const client = new DanubeClient({ serviceUrl: broker.serviceUrl, healthCheckIntervalMs: 1_000, retry: { deadlineMs: 1_500, initialDelayMs: 20, maxDelayMs: 100 } });
    onTestFinished(() => client.close(1_000));
    const before = runningHealthChecks();
    await expect(client.createProducer({ topic, name: uniqueName('p'), partitions: 3 })).rejects.toMatchObject({ code: 'DC_ERR_UNAVAILABLE' });
    expect(runningHealthChecks()).toBe(before);
    expect(registries(client).producers).toBe(0);
  });

  it('forgets producers and consumers once they are closed', async () => {
    const broker = await startBroker();
    const client = new DanubeClient({ serviceUrl: broker.serviceUrl, healthCheckIntervalMs: 1_000 });
    onTestFinished(() => client.close(1_000));
    const before = runningHealthChecks();
    for (let i = 0; i < 20; i++) {
      const topic = uniqueTopic('churn');
      const producer = await client.createProducer({ topic, name: uniqueName('p'), partitions: 2 });
      const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: 's' });
      await producer.close();
      consumer.close();
    }
    expect(registries(client)).toEqual({ producers: 0, consumers: 0 });
    expect(runningHealthChecks()).toBe(before);
  });
});
