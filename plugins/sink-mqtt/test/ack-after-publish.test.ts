// The sink's write resolves (and so Danube gets its ack, docs/delivery-semantics.md) only after the MQTT broker
// confirmed every publish, and a batch is published pipelined, not one round trip at a time. The broker is
// frozen (SIGSTOP) so confirmations cannot come; each check is run against a deliberately wrong sink too.
import { createConnectorLogger, SinkRecord, type ConnectorContext, type DanubeMessage, type SinkConnector } from '@danube-connect/sdk';
import type { MqttClient } from 'mqtt';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseConfig } from '../src/config.js';
import { MqttSink } from '../src/mqtt-sink.js';
import { MqttTap, startMosquitto } from './support/harness.js';

function records(count: number): SinkRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const message: DanubeMessage = {
      payload: Buffer.from(String(i)),
      attributes: {},
      topic: '/default/events',
      partition: undefined,
      offset: String(i),
      requestId: String(i),
      producerName: 'p',
      publishTime: 0,
      routingKey: `k${i % 3}`,
      schemaId: undefined,
      schemaVersion: undefined,
      subscription: 'ack-sink-mqtt',
      messageId: { producerId: '1', topicName: '/default/events', brokerAddr: '', topicOffset: String(i) },
    };
    return new SinkRecord(message, '/default/events');
  });
}

async function openSink(url: string, qos: 0 | 1 | 2): Promise<MqttSink> {
  const controller = new AbortController();
  const ctx = { name: 'ack', logger: createConnectorLogger({ connector: 'ack' }, 'error', { write: () => {} }), signal: controller.signal } as unknown as ConnectorContext;
  const sink = new MqttSink(parseConfig({ url, routes: [{ from: '/default/events', to: 'ack/{key}', qos }] }), ctx);
  await sink.start();
  onTestFinished(() => sink.close());
  return sink;
}

/** Resolves once `check()` holds (checked on every turn of the event loop); rejects after `timeoutMs`. */
async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

type Variant = (sink: MqttSink) => SinkConnector;
const correct: Variant = (sink) => sink;
// Resolves at once and publishes in the background: Danube would ack what the broker may never get.
const acksBeforePublish: Variant = (sink) => ({
  consumerConfigs: () => sink.consumerConfigs(),
  processBatch: (batch, signal) => {
    sink.processBatch(batch, signal).catch(() => {});
    return Promise.resolve();
  },
});
// One publish, wait for its PUBACK, the next: one round trip per message.
const serial: Variant = (sink) => ({
  consumerConfigs: () => sink.consumerConfigs(),
  processBatch: async (batch, signal) => {
    for (const record of batch) await sink.processBatch([record], signal);
  },
});

const inFlightOf = (sink: MqttSink) => (sink as unknown as { publisher: { inFlight: number } }).publisher.inFlight;

describe('ack after publish', () => {
  for (const [name, variant, holds] of [
    ['the sink', correct, true],
    ['a deliberately wrong sink that resolves before the broker confirmed', acksBeforePublish, false],
  ] as const) {
    for (const qos of [1, 2] as const) {
      it(`QoS ${qos}, ${name}: the write is still pending while all publishes await the broker's ${qos === 1 ? 'PUBACK' : 'PUBCOMP'}: ${holds}`, async () => {
        const mosquitto = await startMosquitto();
        const tap = await MqttTap.open(mosquitto.url, 'ack/#');
        const sink = await openSink(mosquitto.url, qos);
        mosquitto.pause();
        let resolved = false;
        const writing = variant(sink).processBatch?.(records(10), new AbortController().signal);
        void writing?.then(() => (resolved = true));
        // The event: every publish of the batch has been handed to the connection and none is confirmed.
        await until(() => inFlightOf(sink) === 10, 10_000, 'ten publishes in flight');
        expect(resolved, 'the write resolved before the broker confirmed anything').toBe(!holds);
        mosquitto.resume();
        await writing;
        await until(() => inFlightOf(sink) === 0, 30_000, 'every publish confirmed');
        await tap.untilSequence(0, 10);
      });
    }
  }
});

describe('pipelining', () => {
  for (const [name, variant, pipelined] of [
    ['the sink', correct, true],
    ['a deliberately serial sink (one round trip per message)', serial, false],
  ] as const) {
    it(`${name}: a batch of 10 has all 10 publishes in flight at once: ${pipelined}`, async () => {
      const mosquitto = await startMosquitto();
      const sink = await openSink(mosquitto.url, 1);
      mosquitto.pause();
      const writing = variant(sink).processBatch?.(records(10), new AbortController().signal);
      writing?.catch(() => {});
      let most = 0;
      const reached = await until(
        () => (most = Math.max(most, inFlightOf(sink))) === 10,
        3_000,
        'ten publishes in flight',
      ).then(
        () => true,
        () => false,
      );
      mosquitto.resume();
      await writing;
      expect(reached, `at most ${most} publishes were in flight at once`).toBe(pipelined);
    });
  }

  it("never has more QoS 1 publishes in flight than the broker's Receive Maximum (mosquitto max_inflight_messages 4)", async () => {
    const mosquitto = await startMosquitto({ maxInflightMessages: 4 });
    const tap = await MqttTap.open(mosquitto.url, 'ack/#');
    const sink = await openSink(mosquitto.url, 1);
    mosquitto.pause();
    let most = 0;
    const writing = sink.processBatch(records(10), new AbortController().signal);
    await until(() => (most = Math.max(most, inFlightOf(sink))) === 4, 10_000, 'four publishes in flight');
    mosquitto.resume();
    const watch = setInterval(() => (most = Math.max(most, inFlightOf(sink))), 0);
    await writing;
    clearInterval(watch);
    await tap.untilSequence(0, 10);
    expect(most).toBe(4);
  });

  it("a connection lost with publishes in flight: they fail (retryable), and the retry on the next connection goes out once, within Receive Maximum", async () => {
    const mosquitto = await startMosquitto({ maxInflightMessages: 4 });
    const sink = await openSink(mosquitto.url, 1);
    // What goes over the wire on the next connection: PUBLISHes sent, and how many await their PUBACK at once.
    const client = (sink as unknown as { connection: { mqttClient: MqttClient } }).connection.mqttClient;
    let reconnected = false;
    let sent = 0;
    let onWire = 0;
    let most = 0;
    client.on('connect', () => (reconnected = true));
    client.on('packetsend', (packet) => {
      if (!reconnected || packet.cmd !== 'publish') return;
      sent++;
      most = Math.max(most, ++onWire);
    });
    client.on('packetreceive', (packet) => {
      if (reconnected && packet.cmd === 'puback') onWire--;
    });
    mosquitto.pause();
    const first = sink.processBatch(records(10), new AbortController().signal);
    first.catch(() => {});
    await until(() => inFlightOf(sink) === 4, 10_000, 'four publishes in flight');
    await mosquitto.kill(); // a broker crash with four PUBLISHes unconfirmed
    await expect(first).rejects.toMatchObject({ kind: 'retryable', code: 'DC_ERR_MQTT_PUBLISH' });
    await mosquitto.restart();
    await until(() => sink.health().status === 'healthy', 30_000, 'the sink connected again');
    const tap = await MqttTap.open(mosquitto.url, 'ack/#');
    await sink.processBatch(records(10), new AbortController().signal); // the runtime's retry
    await tap.untilSequence(0, 10);
    expect({ sent, most }).toEqual({ sent: 10, most: 4 });
  });
});
