import { describe, expect, it } from 'vitest';
import { MAX_TOPIC_LABELS, OTHER_TOPICS } from '../../src/runtime/connector-metrics.js';
import { MAX_CACHED_TOPICS } from '../../src/runtime/topic-publishers.js';
import { startBroker } from '../broker.js';
import { expectBalanced, PushSource, sourceRuntime } from './source-fixtures.js';

// Memory stays bounded when a source writes to ever new topics (an MQTT bridge mapping device ids to topics):
// counted structurally, in cached publishers, producers and metric series, never by RSS.

// 2,000 topics are six times what the runtime may cache, so an unbounded cache fails from the 500-topic check on.
// (10,000 took 44 s on a quiet 2-core machine and 220 s on a loaded one: each new topic is a lookup and a
// CreateProducer, so more topics prove nothing more and cost the suite minutes.)
const TOPICS = 2_000;
const MAX_IN_FLIGHT = 64;
/** What the runtime may cache at most: its idle topics plus the busy ones (at most one per record in flight). */
const BOUND = MAX_CACHED_TOPICS + MAX_IN_FLIGHT;
/** Label values: the first MAX_TOPIC_LABELS topics, then OTHER_TOPICS. */
const SERIES = MAX_TOPIC_LABELS + 1;

interface Internals {
  publishers: Map<string, unknown>;
  producers: { created: { size: number } };
}

describe('SourceRuntime: ever new topics', () => {
  it(`writing to ${TOPICS} distinct topics over time keeps cached publishers, producers and metric series bounded`, async () => {
    const broker = await startBroker();
    const source = new PushSource();
    const { runtime, metrics } = sourceRuntime(source, broker, { maxInFlight: MAX_IN_FLIGHT });
    await runtime.start();
    const internals = runtime as unknown as Internals;
    const series = async () => {
      const received = (await metrics.toJSON()).find((m) => m.name === 'danube_connector_messages_received_total');
      return received?.values.length ?? 0;
    };
    for (let i = 0; i < TOPICS; i++) {
      await source.send(`/default/device-${i}`, `r${i}`);
      if (i % 250 === 249) {
        // Checked while it runs: an unbounded cache fails here, early.
        expect(internals.publishers.size, `publishers after ${i + 1} topics`).toBeLessThanOrEqual(BOUND);
        expect(internals.producers.created.size, `producers after ${i + 1} topics`).toBeLessThanOrEqual(BOUND);
        expect(await series(), `metric series after ${i + 1} topics`).toBeLessThanOrEqual(SERIES);
      }
    }
    await source.log.untilAcked(TOPICS);
    expect(internals.publishers.size).toBeLessThanOrEqual(BOUND);
    expect(await series()).toBe(SERIES);
    await runtime.stop(10_000);
    const snapshot = await metrics.snapshot();
    expect(snapshot[OTHER_TOPICS]).toMatchObject({ received: TOPICS - MAX_TOPIC_LABELS, processed: TOPICS - MAX_TOPIC_LABELS });
    // Counts survive the bounded labels: every record is accounted for.
    expect(await expectBalanced(metrics)).toMatchObject({ received: TOPICS, processed: TOPICS, inFlight: 0 });
  }, 240_000);
});
