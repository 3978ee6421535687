import { describe, it } from 'vitest';
import { until } from '../testing/helpers.js';
import { expectAccounting, sendAll, sinkRuntime, sinkSetup, testSink, texts } from './sink-harness.js';

describe('SinkRuntime keeps up with its subscription (protocol §9.4)', () => {
  it.each(['single', 'batch'] as const)(
    'writes record after record without waiting for each ack round trip; acks are pipelined within the window (%s)',
    async (mode) => {
      const { broker, client, topic, configs, producer, external } = await sinkSetup();
      const handle = sinkRuntime(testSink(external, configs, mode), client, { batchSize: 1, batchTimeoutMs: 0 });
      await handle.runtime.start();
      // Every ack's round trip lasts until the broker is told to answer.
      broker.holdAcks();
      const sent = texts('m', 10);
      await sendAll(producer, sent);
      // The whole window is written and its acks are on the wire together.
      await until(() => broker.heldAcks === 10 && external.rows.length === 10, 5_000).catch(() => {
        throw new Error(`held acks ${broker.heldAcks}, rows written ${external.rows.length}: the sink waited for an ack before the next write`);
      });
      broker.releaseAcks();
      const more = texts('n', 20);
      await sendAll(producer, more);
      await external.waitForTexts([...sent, ...more]);
      await handle.runtime.stop(5_000);
      await expectAccounting(handle.metrics, topic, { processed: 30, inFlight: 0 });
    },
  );
});
