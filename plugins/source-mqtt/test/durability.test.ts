import { describe, expect, it } from 'vitest';
import { DanubeTap, itWithTestBroker, missing, mqttClient, publishPaced, publishSequence, startDanube, startMosquitto, startSource, uniqueTopic } from './support/harness.js';

describe('source-mqtt loses nothing', () => {
  it.each([
    [false, true],
    [true, false], // the deliberately wrong case: with a clean session the broker drops what the killed connector had not acknowledged
  ])('SIGKILL of the connector mid-stream at ~1,000 msg/s, then a restart (clean_session %s): every sequence number arrives: %s', async (cleanSession, complete) => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
    const topic = uniqueTopic('kill');
    const tap = await DanubeTap.open(danube, topic);
    const connector = `mqtt-kill-${Date.now()}`;
    const config = { url: mosquitto.url, clean_session: cleanSession, routes: [{ from: 'kill/#', to: topic }] };
    const first = await startSource(danube, config, { connector });
    await first.log((l) => l.msg === 'MQTT subscribed');
    const publisher = await mqttClient(mosquitto.url, { clean: false, clientId: `pub-${connector}` });
    const COUNT = 3_000;
    const publishing = publishPaced(publisher, 'kill/x', COUNT);
    await tap.until(() => tap.messages.length >= 500);
    await first.kill('SIGKILL');
    const atKill = tap.messages.length;
    await publishing;
    expect(atKill, 'killed mid-stream').toBeLessThan(COUNT);
    const second = await startSource(danube, config, { connector });
    await second.log((l) => l.msg === 'MQTT subscribed');
    await publisher.publishAsync('kill/x', 'marker', { qos: 1 });
    await tap.until(() => tap.texts().includes('marker'), 60_000);
    if (complete) await tap.untilSequence(0, COUNT, 60_000);
    await second.stop(10_000);
    expect(missing(tap, COUNT).length === 0).toBe(complete);
  });

  it('mosquitto restarted mid-stream: every sequence number arrives', async () => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto({ persistence: true })]);
    const topic = uniqueTopic('restart');
    const tap = await DanubeTap.open(danube, topic);
    const child = await startSource(danube, { url: mosquitto.url, reconnect_period_ms: 50, routes: [{ from: 'restart/#', to: topic }] });
    await child.log((l) => l.msg === 'MQTT subscribed');
    const publisher = await mqttClient(mosquitto.url, { clean: false, clientId: `pub-restart-${Date.now()}`, reconnectPeriod: 50 });
    const COUNT = 3_000;
    const publishing = publishPaced(publisher, 'restart/x', COUNT);
    await tap.until(() => tap.messages.length >= 500);
    await mosquitto.restart();
    await publishing;
    await tap.untilSequence(0, COUNT, 60_000);
    await child.stop(10_000);
    expect(child.logs().some((l) => l.msg === 'MQTT session resumed: subscriptions kept, not resubscribing')).toBe(true);
    expect(missing(tap, COUNT)).toEqual([]);
  });

  itWithTestBroker('Danube unavailable for seconds: nothing lost, the PUBACK window filled to receive_maximum and never beyond', async () => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
    const topic = uniqueTopic('outage');
    const tap = await DanubeTap.open(danube, topic);
    const RECEIVE_MAXIMUM = 16;
    const child = await startSource(danube, { url: mosquitto.url, receive_maximum: RECEIVE_MAXIMUM, routes: [{ from: 'outage/#', to: topic }] }, { runtime: { retryInitialDelayMs: 50, retryMaxDelayMs: 500 } });
    await child.log((l) => l.msg === 'MQTT subscribed');
    const publisher = await mqttClient(mosquitto.url);
    const COUNT = 2_000;
    await publishSequence(publisher, 'outage/x', 0, 200);
    danube.broker?.unavailableFor(4_000);
    await publishSequence(publisher, 'outage/x', 200, COUNT - 200);
    await child.log((l) => l.msg === 'degraded');
    await tap.untilSequence(0, COUNT, 60_000);
    await child.stop(10_000);
    const report = await child.log((l) => l.msg === 'MQTT disconnected');
    expect(report).toMatchObject({ maxAwaitingPuback: RECEIVE_MAXIMUM, receiveMaximum: RECEIVE_MAXIMUM, awaitingPuback: 0 });
    expect(missing(tap, COUNT)).toEqual([]);
  });
});
