// Danube → MQTT through the built plugin in a real connector child, against a real mosquitto.
import { randomBytes } from 'node:crypto';
import type { IPublishPacket } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { danubeProducer, MqttTap, sendSequence, startDanube, startMosquitto, startSink, uniqueTopic } from './support/harness.js';

const payloadOf = (p: IPublishPacket) => Buffer.from(p.payload);

describe('sink-mqtt round trip', () => {
  for (const qos of [0, 1, 2] as const) {
    it(`QoS ${qos}: every message arrives byte for byte, on the templated topic, at QoS ${qos}`, async () => {
      const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
      const topic = uniqueTopic();
      const producer = await danubeProducer(danube, topic);
      const tap = await MqttTap.open(mosquitto.url, 'out/#');
      await startSink(danube, { url: mosquitto.url, routes: [{ from: topic, to: 'out/{topic}/{key}/{attr:mqtt.topic}', qos }] });
      // Every byte value, invalid UTF-8, an empty payload and 64 KiB of random bytes.
      const payloads = [Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from([0xff, 0xfe, 0x00, 0xc3]), Buffer.alloc(0), randomBytes(65_536)];
      for (const [i, payload] of payloads.entries()) await producer.send(payload, { key: 'dev-1', attributes: { 'mqtt.topic': `room/${i}` } });
      await tap.until(() => tap.packets.length >= payloads.length);
      const bare = topic.slice(1);
      for (const [i, payload] of payloads.entries()) {
        const packet = tap.packets.find((p) => p.topic === `out/${bare}/dev-1/room/${i}`);
        expect(packet, `message ${i} on out/${bare}/dev-1/room/${i}`).toBeDefined();
        expect(payloadOf(packet as IPublishPacket).equals(payload), `payload ${i} byte for byte`).toBe(true);
        expect((packet as IPublishPacket).qos).toBe(qos);
      }
    });
  }

  it('MQTT 5 properties from attributes: user properties, content type, response topic, correlation data, expiry; the origin mark', async () => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
    const topic = uniqueTopic();
    const producer = await danubeProducer(danube, topic);
    const tap = await MqttTap.open(mosquitto.url, 'props/#');
    const connector = `props-${randomBytes(3).toString('hex')}`;
    await startSink(danube, {
      url: mosquitto.url,
      routes: [
        {
          from: topic,
          to: 'props/{attr:device}',
          content_type: '{attr:content-type}',
          response_topic: 'replies/{attr:device}',
          correlation_data: '{attr:corr}',
          message_expiry: '{attr:ttl}',
        },
      ],
    }, { connector });
    await producer.send('{"t":21.5}', { attributes: { device: 'd7', 'content-type': 'application/json', corr: 'c-42', ttl: '3600', 'x.dotted.name': 'v' } });
    await producer.send('bare', { attributes: { device: 'd8' } });
    await tap.until(() => tap.packets.length >= 2);
    const [full, bare] = [tap.packets.find((p) => p.topic === 'props/d7'), tap.packets.find((p) => p.topic === 'props/d8')];
    expect(full?.properties?.contentType).toBe('application/json');
    expect(full?.properties?.responseTopic).toBe('replies/d7');
    expect(Buffer.from(full?.properties?.correlationData ?? []).toString()).toBe('c-42');
    // The broker passes on the remaining lifetime: at most what was set.
    expect(full?.properties?.messageExpiryInterval).toBeGreaterThan(3000);
    expect(full?.properties?.messageExpiryInterval).toBeLessThanOrEqual(3600);
    expect(full?.properties?.userProperties).toMatchObject({ device: 'd7', corr: 'c-42', 'x.dotted.name': 'v', 'danube-origin': connector });
    // Absent attributes leave optional properties out.
    expect(bare?.properties?.contentType).toBeUndefined();
    expect(bare?.properties?.correlationData).toBeUndefined();
    expect(bare?.properties?.messageExpiryInterval).toBeUndefined();
    expect(bare?.properties?.responseTopic).toBe('replies/d8');
  });

  it('per-key order across 4 partitions, every message once at least', async () => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
    const topic = uniqueTopic();
    const producer = await danubeProducer(danube, topic, 4);
    const tap = await MqttTap.open(mosquitto.url, 'ordered/#', { qos: 1 });
    await startSink(danube, { url: mosquitto.url, routes: [{ from: topic, to: 'ordered/{partition}/{key}' }] });
    const count = 800;
    await sendSequence(producer, 0, count, 8);
    await tap.untilSequence(0, count);
    const partitionsSeen = new Set(tap.packets.map((p) => p.topic.split('/')[1]));
    expect(partitionsSeen.size, 'the keys spread over several partitions').toBeGreaterThan(1);
    const last = new Map<string, number>();
    for (const p of tap.packets) {
      const key = p.topic.split('/')[2] as string;
      const n = Number(payloadOf(p).toString());
      expect(n, `key ${key}: ${n} after ${last.get(key)}`).toBeGreaterThan(last.get(key) ?? -1);
      last.set(key, n);
    }
  });
});
