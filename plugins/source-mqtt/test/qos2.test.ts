import { describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { DanubeTap, mqttClient, startDanube, startMosquitto, startSource, uniqueTopic } from './support/harness.js';

// QoS 2 end to end (README "Delivery guarantees"): a real mosquitto, the built plugin in a real connector child,
// Danube (TestBroker or DANUBE_SERVICE_URL). PUBREC leaves only once Danube has the message, so a SIGKILL or a
// broker restart loses nothing; what it may duplicate is bounded by the window.

/**
 * Publishes 0..count-1 at QoS 2 at about `ratePerS` (ticks of 10 ms), at most `inFlight` unfinished (below
 * mosquitto's Receive Maximum, which refuses more with "Quota exceeded"); resolves when every PUBCOMP came.
 */
async function publishPaced(client: MqttClient, topic: string, count: number, ratePerS = 1_000, inFlight = 50): Promise<void> {
  const pending = new Set<Promise<unknown>>();
  const started = performance.now();
  const perTick = Math.max(1, Math.round(ratePerS / 100));
  for (let i = 0; i < count; i++) {
    while (pending.size >= inFlight) await Promise.race(pending);
    const sent: Promise<unknown> = client.publishAsync(topic, String(i), { qos: 2 }).finally(() => pending.delete(sent));
    pending.add(sent);
    if (i % perTick === perTick - 1) {
      const due = started + ((i + 1) / ratePerS) * 1_000;
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    }
  }
  await Promise.all(pending);
}

const missing = (tap: DanubeTap, count: number) => {
  const seen = new Set(tap.texts().map(Number));
  return Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
};
const duplicates = (tap: DanubeTap) => tap.texts().length - new Set(tap.texts()).size;

describe('source-mqtt QoS 2', () => {
  it('delivers QoS 2 messages into a reliable Danube topic, in order, with mqtt.qos 2', async () => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
    const topic = uniqueTopic('qos2');
    const tap = await DanubeTap.open(danube, topic);
    const child = await startSource(danube, { url: mosquitto.url, routes: [{ from: 'q2/#', to: topic, qos: 2 }] });
    await child.log((l) => l.msg === 'MQTT subscribed');
    const publisher = await mqttClient(mosquitto.url, { protocolVersion: 5 });
    await publishPaced(publisher, 'q2/x', 300, 5_000);
    await tap.untilSequence(0, 300);
    await child.stop(10_000);
    expect(tap.texts()).toEqual(Array.from({ length: 300 }, (_, i) => String(i)));
    expect(tap.messages[0]?.attributes).toMatchObject({ 'mqtt.qos': '2', 'mqtt.topic': 'q2/x' });
    const report = await child.log((l) => l.msg === 'MQTT disconnected');
    expect(report).toMatchObject({ awaitingPuback: 0, pubacksSent: 300 });
  });

  it.each([5, 4])('SIGKILL of the connector mid-stream at ~1,000 msg/s, then a restart (protocol %i): every sequence number arrives, duplicates at most receive_maximum', async (protocolVersion) => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
    const topic = uniqueTopic('kill2');
    const tap = await DanubeTap.open(danube, topic);
    const connector = `mqtt-kill2-${Date.now()}`;
    const RECEIVE_MAXIMUM = 64;
    const config = { url: mosquitto.url, protocol_version: protocolVersion, receive_maximum: RECEIVE_MAXIMUM, routes: [{ from: 'kill2/#', to: topic, qos: 2 }] };
    const first = await startSource(danube, config, { connector });
    await first.log((l) => l.msg === 'MQTT subscribed');
    const publisher = await mqttClient(mosquitto.url, { clean: false, clientId: `pub-${connector}` });
    const COUNT = 3_000;
    const publishing = publishPaced(publisher, 'kill2/x', COUNT);
    await tap.until(() => tap.messages.length >= 500);
    await first.kill('SIGKILL');
    const atKill = tap.messages.length;
    await publishing;
    expect(atKill, 'killed mid-stream').toBeLessThan(COUNT);
    const second = await startSource(danube, config, { connector });
    await second.log((l) => l.msg === 'MQTT subscribed');
    await publisher.publishAsync('kill2/x', 'marker', { qos: 2 });
    await tap.until(() => tap.texts().includes('marker'), 60_000);
    await tap.untilSequence(0, COUNT, 60_000);
    await second.stop(10_000);
    expect(missing(tap, COUNT)).toEqual([]);
    // Only what Danube had and the broker had no PUBREC for when the connector died comes again: the window.
    expect(duplicates(tap)).toBeLessThanOrEqual(RECEIVE_MAXIMUM);
  });

  it('mosquitto restarted mid-stream: every sequence number arrives, none twice', async () => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto({ persistence: true })]);
    const topic = uniqueTopic('restart2');
    const tap = await DanubeTap.open(danube, topic);
    const child = await startSource(danube, { url: mosquitto.url, reconnect_period_ms: 50, routes: [{ from: 'restart2/#', to: topic, qos: 2 }] });
    await child.log((l) => l.msg === 'MQTT subscribed');
    const publisher = await mqttClient(mosquitto.url, { clean: false, clientId: `pub-restart2-${Date.now()}`, reconnectPeriod: 50 });
    const COUNT = 3_000;
    const publishing = publishPaced(publisher, 'restart2/x', COUNT);
    await tap.until(() => tap.messages.length >= 500);
    await mosquitto.restart();
    await publishing;
    await tap.untilSequence(0, COUNT, 60_000);
    await child.stop(10_000);
    expect(child.logs().some((l) => l.msg === 'MQTT session resumed: subscriptions kept, not resubscribing')).toBe(true);
    expect(missing(tap, COUNT)).toEqual([]);
    // The connector lived: what the broker re-sent after the restart is recognised by its packet id, not republished.
    expect(duplicates(tap)).toBe(0);
  });
});
