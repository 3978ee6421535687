import { describe, expect, it } from 'vitest';
import { textRecord } from '../../src/record.js';
import { uniqueTopic } from '../contract/target.js';
import { startBroker } from '../broker.js';
import { expectBalanced, PushSource, range, sourceRuntime, storedTexts } from './source-fixtures.js';

describe('SourceRuntime: broker-side publish failures are not bad data (docs/danube-protocol.md §8.2)', () => {
  it('a storage fault on the broker for a while: nothing dropped or dead-lettered, degraded meanwhile, everything arrives after it clears', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic('wal-fault');
    const deadLetterTopic = uniqueTopic('wal-fault-dlq');
    const source = new PushSource([{ topic }]);
    const { runtime, metrics, status, statuses, logs } = sourceRuntime(source, broker, { deadLetterTopic });
    await runtime.start();
    await source.send(topic, 'warm');
    await source.log.untilAcked(1);

    const texts = range(20);
    const statesAtAck: string[] = [];
    const brokerText = 'Failed to append message to WAL: I/O error: No space left on device (os error 28)';
    broker.rejectSendsFor(600, brokerText);
    for (const text of texts) {
      await source.output?.send(textRecord(topic, text, { ack: () => void statesAtAck.push(runtime.status().state) }));
    }
    // Every record is committed upstream in the end; the question is whether it is in Danube.
    await source.log.changed.until(() => source.log.commits.flat().length === 1 + texts.length);
    // Degraded while the broker refused to store the records, naming the topic; nothing acked upstream meanwhile.
    const degraded = statuses.filter((s) => s.state === 'degraded');
    expect(degraded.length, JSON.stringify(statuses)).toBeGreaterThan(0);
    expect(degraded[0]?.detail).toMatch(topic);
    expect(statesAtAck).toEqual(texts.map(() => 'connected'));
    expect(runtime.status().state).toBe('connected');
    expect([...new Set(storedTexts(broker, topic))]).toEqual(['warm', ...texts]);
    expect(() => broker.storedMessages(deadLetterTopic)).toThrow(/not served/);
    expect(await runtime.stop(5_000)).toMatchObject({ abandoned: 0 });
    const totals = await expectBalanced(metrics);
    expect(totals).toMatchObject({ received: 21, processed: 21, deadLettered: 0, dropped: 0, inFlight: 0 });
    expect((await metrics.snapshot())[topic]?.failed).toBeGreaterThan(0);
    // An operator sees the episode without debug logs: one error naming topic, code and the broker's text, then
    // one line when it cleared (pino: 50 = error, 30 = info).
    const episode = logs.filter((line) => line.topic === topic && (line.level === 50 || /recovered/.test(String(line.msg))));
    expect(episode.map((line) => [line.level, line.code])).toEqual([
      [50, 'DC_ERR_PUBLISH_FAILED'],
      [30, undefined],
    ]);
    expect(String(episode[0]?.msg)).toContain(brokerText);
    expect(String(episode[0]?.msg)).toContain(topic);
    expect(String(episode[1]?.msg)).toMatch(/recovered/);
  });
});
