import { describe, expect, it } from 'vitest';
import { DanubeTap, mqttClient, startDanube, startMosquitto, startSource, uniqueTopic } from './support/harness.js';

// The scale-out recipe (README "Several instances"): connectors with a client id each and one `$share/<group>/`
// filter split the messages between them. A real mosquitto, the built plugin in real connector children, Danube
// (TestBroker or DANUBE_SERVICE_URL).
describe('source-mqtt shared subscriptions', () => {
  it.each([
    ['$share/danube/shared/#', 1, 1],
    ['$share/danube/shared/#', 2, 1],
    ['shared/#', 1, 2], // the deliberately wrong case: without $share each connector gets every message
  ])('two connectors on %s at QoS %i: each message reaches Danube %i time(s)', async (filter, qos, copies) => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
    const topic = uniqueTopic('shared');
    const tap = await DanubeTap.open(danube, topic);
    const config = (clientId: string) => ({ url: mosquitto.url, client_id: clientId, routes: [{ from: filter, to: topic, qos }] });
    const stamp = Date.now().toString(36);
    const [a, b] = await Promise.all([startSource(danube, config(`iot-a-${stamp}`)), startSource(danube, config(`iot-b-${stamp}`))]);
    await Promise.all([a.log((l) => l.msg === 'MQTT subscribed'), b.log((l) => l.msg === 'MQTT subscribed')]);
    const publisher = await mqttClient(mosquitto.url);
    const COUNT = 400;
    // Published at the route's QoS, so it is delivered at it; 50 in flight stays below mosquitto's Receive Maximum.
    for (let start = 0; start < COUNT; start += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => publisher.publishAsync(`shared/d${(start + j) % 8}`, String(start + j), { qos: qos as 1 | 2 })));
    }
    await tap.until(() => tap.messages.length >= COUNT * copies, 60_000, `${COUNT * copies} messages`);
    await Promise.all([a.stop(10_000), b.stop(10_000)]);
    const counts = new Map<string, number>();
    for (const text of tap.texts()) counts.set(text, (counts.get(text) ?? 0) + 1);
    expect(counts.size).toBe(COUNT);
    expect([...counts.values()].every((n) => n === copies), `every message ${copies} time(s)`).toBe(true);
    expect(tap.messages).toHaveLength(COUNT * copies);
    // The broker spread the group's messages: each connector acknowledged (so published) a share of them.
    const acked = await Promise.all([a, b].map(async (child) => ((await child.log((l) => l.msg === 'MQTT disconnected')) as { pubacksSent: number }).pubacksSent));
    expect(acked[0], 'connector a').toBeGreaterThan(0);
    expect(acked[1], 'connector b').toBeGreaterThan(0);
    expect((acked[0] as number) + (acked[1] as number)).toBe(COUNT * copies);
  });
});
