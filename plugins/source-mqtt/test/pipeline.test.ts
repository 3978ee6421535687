import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DanubeTap, mqttClient, publishSequence, startDanube, startMosquitto, startSource, uniqueTopic } from './support/harness.js';

// QoS 0/1 end to end: a real mosquitto, the built plugin in a real connector child, Danube (TestBroker or
// DANUBE_SERVICE_URL), every message observed on the Danube side.
describe('source-mqtt pipeline', () => {
  it('routes each message to the first matching route, with key and attributes', async () => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
    const special = uniqueTopic('special');
    const rest = uniqueTopic('rest');
    const [specialTap, restTap] = await Promise.all([DanubeTap.open(danube, special), DanubeTap.open(danube, rest)]);
    const child = await startSource(danube, {
      url: mosquitto.url,
      routes: [
        { from: 'plant/special/#', to: special },
        { from: 'plant/#', to: rest },
      ],
    });
    await child.log((l) => l.msg === 'MQTT subscribed');
    const publisher = await mqttClient(mosquitto.url);
    await publisher.publishAsync('plant/special/k1', 'a', { qos: 1 });
    await publisher.publishAsync('plant', 'b', { qos: 1 }); // `plant/#` matches its parent level
    await publisher.publishAsync('plant/line/k2', 'c', { qos: 1 });
    await publisher.publishAsync('plant/special', 'd', { qos: 1 }); // `plant/special/#` matches `plant/special`
    await specialTap.until(() => specialTap.messages.length >= 2);
    await restTap.until(() => restTap.messages.length >= 2);
    expect(specialTap.texts()).toEqual(['a', 'd']);
    expect(restTap.texts()).toEqual(['b', 'c']);
    expect(specialTap.messages[0]?.routingKey).toBe('plant/special/k1');
    expect(specialTap.messages[0]?.attributes).toEqual({ 'mqtt.topic': 'plant/special/k1', 'mqtt.qos': '1', 'mqtt.retain': 'false', 'mqtt.dup': 'false', source: 'mqtt' });
    const { exit } = await child.stop(10_000);
    expect(exit.code).toBe(0);
  });

  it('acknowledges, counts and logs messages no route takes (a filter the kept session still has from an older config)', async () => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
    const topic = uniqueTopic('kept');
    const old = uniqueTopic('old');
    const tap = await DanubeTap.open(danube, topic);
    const connector = `mqtt-unmatched-${Date.now()}`;
    const first = await startSource(danube, { url: mosquitto.url, routes: [{ from: 'old/#', to: old }, { from: 'kept/#', to: topic }] }, { connector });
    await first.log((l) => l.msg === 'MQTT subscribed');
    await first.stop(10_000);
    // Same client id, `old/#` gone from the routes: the broker's session still delivers it.
    const second = await startSource(danube, { url: mosquitto.url, routes: [{ from: 'kept/#', to: topic }] }, { connector });
    await second.log((l) => l.msg === 'MQTT subscribed');
    const publisher = await mqttClient(mosquitto.url);
    await publisher.publishAsync('old/k3', 'nowhere', { qos: 1 });
    await publisher.publishAsync('kept/k1', 'after', { qos: 1 });
    await tap.until(() => tap.messages.length >= 1);
    const unmatched = await second.log((l) => l.msg === 'MQTT message matches no route: acknowledged and not published');
    expect(unmatched).toMatchObject({ topic: 'old/k3', unmatched_total: 1 });
    const counted = (await second.metrics()).find((m) => m.name === 'danube_connector_mqtt_unmatched_total');
    expect(counted?.values).toEqual([expect.objectContaining({ labels: { connector }, value: 1 })]);
    await second.stop(10_000);
    expect(tap.texts()).toEqual(['after']);
    // PUBACKed: the broker holds nothing more for this client id.
    const probe = await startSource(danube, { url: mosquitto.url, routes: [{ from: 'kept/#', to: topic }] }, { connector });
    await probe.log((l) => l.msg === 'MQTT subscribed');
    await publisher.publishAsync('kept/k2', 'last', { qos: 1 });
    await tap.until(() => tap.messages.length >= 2);
    await probe.stop(10_000);
    expect(probe.logs().some((l) => l.msg === 'MQTT message matches no route: acknowledged and not published')).toBe(false);
    expect(tap.texts()).toEqual(['after', 'last']);
  });

  it('passes payloads through byte for byte: binary, empty, JSON as written, 1 MiB', async () => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
    const topic = uniqueTopic('bytes');
    const tap = await DanubeTap.open(danube, topic);
    const child = await startSource(danube, { url: mosquitto.url, include_metadata: false, routes: [{ from: 'bytes/+', to: topic, key: 'none' }] });
    await child.log((l) => l.msg === 'MQTT subscribed');
    const payloads = [
      randomBytes(1024),
      Buffer.alloc(0),
      Buffer.from('{ "b" : 1,\n  "a": 12345678901234567890 }', 'utf8'), // the reference re-encoded JSON
      Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x22]), // not UTF-8, starts like JSON
      randomBytes(1024 * 1024),
    ];
    const publisher = await mqttClient(mosquitto.url);
    for (const [i, payload] of payloads.entries()) await publisher.publishAsync(`bytes/${i}`, payload, { qos: 1 });
    await tap.until(() => tap.messages.length >= payloads.length, 60_000);
    expect(tap.messages.map((m) => m.payload.length)).toEqual(payloads.map((p) => p.length));
    for (const [i, payload] of payloads.entries()) expect(tap.messages[i]?.payload.equals(payload), `payload ${i} byte for byte`).toBe(true);
    expect(tap.messages[0]?.attributes).toEqual({});
    expect(tap.messages[0]?.routingKey).toBeUndefined();
    await child.stop(10_000);
  });

  it('QoS 0 routes publish non-reliably with mqtt.qos 0; retained messages carry mqtt.retain', async () => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
    const topic = uniqueTopic('qos0');
    const retained = uniqueTopic('retained');
    const [tap, retainedTap] = await Promise.all([DanubeTap.open(danube, topic, { reliable: false }), DanubeTap.open(danube, retained)]);
    const publisher = await mqttClient(mosquitto.url);
    await publisher.publishAsync('config/k1', 'kept', { qos: 1, retain: true });
    const child = await startSource(danube, {
      url: mosquitto.url,
      routes: [
        { from: 'fast/#', to: topic, qos: 0 },
        { from: 'config/#', to: retained },
      ],
    });
    await child.log((l) => l.msg === 'MQTT subscribed');
    await publishSequence(publisher, 'fast/x', 0, 20, 0);
    await tap.untilSequence(0, 20);
    expect(tap.messages[0]?.attributes['mqtt.qos']).toBe('0');
    await retainedTap.until(() => retainedTap.messages.length >= 1);
    expect(retainedTap.messages[0]?.attributes).toMatchObject({ 'mqtt.retain': 'true', 'mqtt.topic': 'config/k1' });
    await child.stop(10_000);
  });

  it('keys by MQTT topic so each topic keeps its order within one partition', async () => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
    const topic = uniqueTopic('parts');
    const tap = await DanubeTap.open(danube, topic, { partitions: 4 });
    const child = await startSource(danube, { url: mosquitto.url, routes: [{ from: 'dev/+', to: topic, partitions: 4 }] });
    await child.log((l) => l.msg === 'MQTT subscribed');
    const publisher = await mqttClient(mosquitto.url);
    await publishSequence(publisher, (i) => `dev/d${i % 8}`, 0, 400);
    await tap.untilSequence(0, 400);
    const partitionsOf = new Map<string, Set<number | undefined>>();
    const lastOf = new Map<string, number>();
    for (const m of tap.messages) {
      const device = m.attributes['mqtt.topic'] as string;
      partitionsOf.set(device, (partitionsOf.get(device) ?? new Set()).add(m.partition));
      const n = Number(m.payload.toString());
      expect(n, `order of ${device}`).toBeGreaterThan(lastOf.get(device) ?? -1);
      lastOf.set(device, n);
    }
    for (const [device, partitions] of partitionsOf) expect(partitions.size, `${device} in one partition`).toBe(1);
    expect(new Set([...partitionsOf.values()].map((s) => [...s][0])).size, 'several partitions used').toBeGreaterThan(1);
    await child.stop(10_000);
  });

  it.each([
    [5, 1],
    [4, 2], // the deliberately wrong case: MQTT 3.1.1 has no subscription identifiers, so the broker's second copy is published too
  ])('with protocol %i, a message matching two overlapping filters reaches Danube %i time(s)', async (protocolVersion, copies) => {
    // Mosquitto 2 sends one copy per matching subscription only when told so; brokers differ.
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto({ config: ['allow_duplicate_messages true'] })]);
    const narrow = uniqueTopic('narrow');
    const wide = uniqueTopic('wide');
    const [narrowTap, wideTap] = await Promise.all([DanubeTap.open(danube, narrow), DanubeTap.open(danube, wide)]);
    const child = await startSource(danube, {
      url: mosquitto.url,
      protocol_version: protocolVersion,
      routes: [
        { from: 'o/a/#', to: narrow },
        { from: 'o/#', to: wide },
      ],
    });
    await child.log((l) => l.msg === 'MQTT subscribed');
    const publisher = await mqttClient(mosquitto.url);
    await publisher.publishAsync('o/a/1', 'both', { qos: 1 });
    await publisher.publishAsync('o/b', 'marker', { qos: 1 });
    await wideTap.until(() => wideTap.texts().includes('marker'));
    await narrowTap.until(() => narrowTap.messages.length >= copies);
    await child.stop(10_000);
    expect(narrowTap.texts()).toEqual(Array(copies).fill('both'));
    expect(wideTap.texts()).toEqual(['marker']);
  });
});
