// Measures the pace Danube → MQTT (a backlog drained from start to the last arrival) (1 KiB, QoS 1, exclusive subscription, 1 and 4 partitions) beside a plain
// MQTT.js publisher with 10 in flight to the same mosquitto, and prints one JSON row per run. It asserts only
// that everything arrived: the machine is shared, so figures are reported, not required.
import { randomBytes } from 'node:crypto';
import { createConnectorLogger, SinkRecord, type ConnectorContext, type DanubeMessage } from '@danube-connect/sdk';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseConfig } from '../src/config.js';
import { MqttSink } from '../src/mqtt-sink.js';
import { danubeProducer, MqttTap, startDanube, startMosquitto, startSink, uniqueTopic } from './support/harness.js';

const COUNT = 3_000;
const PAYLOAD = randomBytes(1024);

describe('pace', () => {
  for (const partitions of [1, 4]) {
    it(`${COUNT} messages of 1 KiB, QoS 1, ${partitions} partition(s)`, async () => {
      const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
      const topic = uniqueTopic('pace');
      const producer = await danubeProducer(danube, topic, partitions === 1 ? 0 : partitions);
      const tap = await MqttTap.open(mosquitto.url, 'pace/#', { qos: 1 });
      const config = { url: mosquitto.url, routes: [{ from: topic, to: 'pace/{key}' }] };
      const connector = `pace-${randomBytes(3).toString('hex')}`;
      // The subscription exists (first start), the backlog is written while the sink is stopped, and the second
      // start drains it: the figure is the sink's pace, not the test producer's.
      await (await startSink(danube, config, { connector, logLevel: 'warn' })).stop();

      const baselineTap = await MqttTap.open(mosquitto.url, 'base/#', { qos: 1 });
      const baseline = (await import('mqtt')).default;
      const publisher = await baseline.connectAsync(mosquitto.url, { protocolVersion: 5 });
      let started = performance.now();
      for (let i = 0; i < COUNT; i += 10) await Promise.all(Array.from({ length: 10 }, (_, j) => publisher.publishAsync(`base/k${(i + j) % 16}`, PAYLOAD, { qos: 1 })));
      await baselineTap.until(() => baselineTap.packets.length >= COUNT, 120_000);
      const baselineMs = performance.now() - started;
      await publisher.endAsync(true);

      started = performance.now();
      const sends: Promise<unknown>[] = [];
      for (let i = 0; i < COUNT; i++) sends.push(producer.send(PAYLOAD, { key: `k${i % 16}` }));
      await Promise.all(sends);
      const sentMs = performance.now() - started;
      started = performance.now();
      await startSink(danube, config, { connector, logLevel: 'warn' });
      await tap.until(() => tap.packets.length >= COUNT, 120_000);
      const sinkMs = performance.now() - started;
      const row = {
        bench: 'sink-mqtt',
        partitions,
        messages: COUNT,
        bytes: PAYLOAD.length,
        qos: 1,
        msg_per_s: Math.round(COUNT / (sinkMs / 1000)),
        baseline_msg_per_s: Math.round(COUNT / (baselineMs / 1000)),
        producer_msg_per_s: Math.round(COUNT / (sentMs / 1000)),
        danube: danube.broker ? 'TestBroker' : 'DANUBE_SERVICE_URL',
      };
      console.log(JSON.stringify(row));
      expect(tap.packets.every((p) => Buffer.from(p.payload).equals(PAYLOAD))).toBe(true);
    });
  }
});

/** A record of partition `partition` as the runtime hands it (for the in-process MQTT-side figure). */
const recordOf = (offset: number, partition: number) =>
  new SinkRecord(
    {
      payload: PAYLOAD,
      attributes: {},
      topic: `/default/pace-part-${partition}`,
      partition,
      offset: String(offset),
      requestId: String(offset),
      producerName: 'p',
      publishTime: 0,
      routingKey: `k${partition}`,
      schemaId: undefined,
      schemaVersion: undefined,
      subscription: 'pace-sink-mqtt',
      messageId: { producerId: '1', topicName: `/default/pace-part-${partition}`, brokerAddr: '', topicOffset: String(offset) },
    } satisfies DanubeMessage,
    '/default/pace',
  );

describe('pace of the MQTT side alone', () => {
  it(`${COUNT} messages of 1 KiB, QoS 1, one record per call with 10 in flight per partition as the runtime hands them, 1 and 4 partitions side by side`, async () => {
    const mosquitto = await startMosquitto();
    const tap = await MqttTap.open(mosquitto.url, 'alone/#', { qos: 1 });
    const ctx = { name: 'pace', logger: createConnectorLogger({ connector: 'pace' }, 'error', { write: () => {} }), signal: new AbortController().signal } as unknown as ConnectorContext;
    const sink = new MqttSink(parseConfig({ url: mosquitto.url, routes: [{ from: '/default/pace', to: 'alone/{key}' }] }), ctx);
    await sink.start();
    onTestFinished(() => sink.close());
    let expected = 0;
    for (const partitions of [1, 4]) {
      const started = performance.now();
      await Promise.all(
        Array.from({ length: partitions }, async (_, p) => {
          // As the runtime drives a pipelined sink: the next record as soon as one of the 10 in flight is done.
          const signal = new AbortController().signal;
          let next = 0;
          const lane = async () => {
            while (next < COUNT / partitions) await sink.processBatch([recordOf(next++, p)], signal);
          };
          await Promise.all(Array.from({ length: 10 }, lane));
        }),
      );
      const ms = performance.now() - started;
      expected += COUNT;
      await tap.until(() => tap.packets.length >= expected, 60_000);
      console.log(JSON.stringify({ bench: 'sink-mqtt-publisher', partitions, messages: COUNT, bytes: PAYLOAD.length, qos: 1, msg_per_s: Math.round(COUNT / (ms / 1000)) }));
    }
  });
});
