// Keeping up is correctness: a Danube subscription created at "latest" loses messages for good when it falls
// further behind its producer than the broker's live-tail channel holds (docs/danube-protocol.md §9.4; the TestBroker emulates
// it with a channel of a few dozen). This run measures how many a producer at its full pace makes the sink lose
// (printed) and checks that none is lost in silence: every message arrives or is counted as skipped. The
// deliberately wrong case is a Shared subscription, where gap detection cannot work (skips go uncounted). At full
// pace a sink may keep up, and then nothing is skipped and the check has nothing to catch; so the held cases
// freeze mosquitto (SIGSTOP) while the producer runs: the sink's window stays unacked, the subscription falls
// 2,000 behind a channel of 32, and skips are certain, for the correct sink and the wrong one alike.
import { describe, expect } from 'vitest';
import { BATCHING, danubeProducer, itWithTestBroker, MqttTap, SERIAL, startDanube, startMosquitto, startSink, uniqueTopic } from './support/harness.js';

const COUNT = 2_000;

describe('keep up with the producer, or say what was lost', () => {
  for (const [name, entry, type, held, accounted] of [
    ['the sink', undefined, 'exclusive', false, true],
    ['the sink handed one batch at a time (before it was pipelined), for comparison', BATCHING, 'exclusive', false, true],
    ['a deliberately serial sink (one publish round trip per message), for comparison', SERIAL, 'exclusive', false, true],
    ['the sink with mosquitto held while the producer runs', undefined, 'exclusive', true, true],
    ['the sink on a Shared subscription (deliberately wrong: no gap detection there), mosquitto held while the producer runs', undefined, 'shared', true, false],
  ] as const) {
    itWithTestBroker(`${name}: ${COUNT} messages at the producer's full pace through a live-tail channel of 32, each arrived or counted skipped: ${accounted}`, async () => {
      const [danube, mosquitto] = await Promise.all([startDanube({ liveTailCapacity: 32 }), startMosquitto()]);
      const topic = uniqueTopic('keepup');
      const producer = await danubeProducer(danube, topic);
      const tap = await MqttTap.open(mosquitto.url, 'keepup/#', { qos: 1 });
      const route = { from: topic, to: 'keepup/x', subscription_type: type, ...(type === 'shared' ? { consumer_name: 'sink-shared' } : {}) };
      const child = await startSink(danube, { url: mosquitto.url, routes: [route] }, { ...(entry ? { entry } : {}), logLevel: 'warn' });
      if (held) mosquitto.pause();
      const started = performance.now();
      const sends: Promise<unknown>[] = [];
      for (let i = 0; i < COUNT; i++) sends.push(producer.send(String(i)));
      await Promise.all(sends);
      const producerRate = Math.round(COUNT / ((performance.now() - started) / 1000));
      if (held) mosquitto.resume();
      // The last message is never skipped (it is the live tail): once it arrived, everything that will has.
      await tap.until(() => tap.texts().includes(String(COUNT - 1)), 120_000, 'the last message');
      const metrics = await child.metrics();
      const skipped = metrics.find((m) => m.name === 'danube_connector_skipped_messages_total')?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;
      const arrived = new Set(tap.texts()).size;
      // Held, the subscription fell far behind its channel: a run without skips would not test the check.
      if (held) expect(arrived, 'messages skipped while mosquitto was held').toBeLessThan(COUNT);
      console.log(JSON.stringify({ bench: 'sink-mqtt-keep-up', case: name, producer_msg_per_s: producerRate, arrived, skipped }));
      expect(arrived + skipped === COUNT, `${arrived} arrived + ${skipped} counted skipped of ${COUNT}`).toBe(accounted);
    });
  }
});
