import { describe, expect, it } from 'vitest';
import { DanubeTap, itWithTestBroker, mqttClient, publishSequence, startDanube, startMosquitto, startSource, uniqueTopic } from './support/harness.js';
import { ScriptedBroker } from './support/scripted-broker.js';

const subscribedCount = (logs: Record<string, unknown>[]) => logs.filter((l) => l.msg === 'MQTT subscribed').length;

describe('source-mqtt sessions and reconnects', () => {
  it.each([
    [false, 1],
    [true, 2], // the deliberately wrong case: a clean session is not kept, so resubscribing re-sends the retained message
  ])('after a broker restart (clean_session %s), resubscribes only without a kept session; the retained message reaches Danube %i time(s)', async (cleanSession, retainedCopies) => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto({ persistence: true })]);
    const topic = uniqueTopic('session');
    const tap = await DanubeTap.open(danube, topic);
    const setup = await mqttClient(mosquitto.url);
    await setup.publishAsync('s/config', 'retained', { qos: 1, retain: true });
    await setup.endAsync();
    const child = await startSource(danube, { url: mosquitto.url, clean_session: cleanSession, reconnect_period_ms: 50, routes: [{ from: 's/#', to: topic }] });
    await child.log((l) => l.msg === 'MQTT subscribed');
    await tap.until(() => tap.texts().includes('retained'));
    await mosquitto.restart();
    await child.log((l) => l.msg === 'MQTT connected' && l.epoch === 2);
    if (cleanSession) await child.log(() => subscribedCount(child.logs()) === 2);
    else await child.log((l) => l.msg === 'MQTT session resumed: subscriptions kept, not resubscribing');
    const publisher = await mqttClient(mosquitto.url);
    await publisher.publishAsync('s/after', 'after restart', { qos: 1 });
    await tap.until(() => tap.texts().includes('after restart'));
    await child.stop(10_000);
    expect(tap.texts().filter((t) => t === 'retained')).toHaveLength(retainedCopies);
    expect(subscribedCount(child.logs())).toBe(cleanSession ? 2 : 1);
    // One reconnect after a broker restart is no takeover (the flapping check's wrong case).
    expect(child.logs().some((l) => l.code === 'DC_ERR_MQTT_TAKEOVER')).toBe(false);
  });

  it.each([
    [false, 50],
    [true, 0], // the deliberately wrong case: a clean session is gone with the connection, and so is what came meanwhile
  ])('with clean_session %s, what is published while the connector is stopped reaches Danube after it restarts: %i of 50', async (cleanSession, expected) => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
    const topic = uniqueTopic('away');
    const tap = await DanubeTap.open(danube, topic);
    const connector = `mqtt-away-${Date.now()}`;
    const config = { url: mosquitto.url, clean_session: cleanSession, routes: [{ from: 'away/#', to: topic }] };
    const first = await startSource(danube, config, { connector });
    await first.log((l) => l.msg === 'MQTT subscribed');
    const { exit } = await first.stop(10_000);
    expect(exit.code).toBe(0);
    // DISCONNECT sent (mosquitto logs "disconnected." for it, "closed its connection." without), no UNSUBSCRIBE.
    expect(mosquitto.log).toContain(`Client danube-${connector} disconnected.`);
    const publisher = await mqttClient(mosquitto.url);
    await publishSequence(publisher, 'away/x', 0, 50);
    const second = await startSource(danube, config, { connector });
    await second.log((l) => l.msg === 'MQTT subscribed');
    await publisher.publishAsync('away/x', 'marker', { qos: 1 });
    await tap.until(() => tap.texts().includes('marker'));
    await second.stop(10_000);
    expect(new Set(tap.texts().filter((t) => t !== 'marker')).size).toBe(expected);
  });

  it.each([
    [0x8e, true],
    [0x8b, false], // the deliberately wrong case: "server shutting down" is no takeover
  ])('reports a DISCONNECT with reason %i as a takeover naming the client id: %s', async (reasonCode, takeover) => {
    const danube = await startDanube();
    const broker = await ScriptedBroker.start();
    const connector = `mqtt-takeover-${Date.now()}`;
    const child = await startSource(danube, { url: broker.url, reconnect_period_ms: 50, routes: [{ from: 't/#', to: uniqueTopic('takeover') }] }, { connector });
    await broker.until(() => broker.count('subscribe') >= 1);
    broker.disconnect(reasonCode);
    await child.log((l) => l.msg === 'MQTT connected' && l.epoch === 2);
    const reports = child.logs().filter((l) => l.code === 'DC_ERR_MQTT_TAKEOVER');
    if (!takeover) {
      expect(reports).toEqual([]);
      expect(child.logs().some((l) => l.msg === 'MQTT broker sent DISCONNECT' && l.reasonCode === reasonCode)).toBe(true);
      return;
    }
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ level: 50, clientId: `danube-${connector}` });
    expect(String(reports[0]?.msg)).toContain(`client id "danube-${connector}" is in use by another client`);
    await child.kill();
  });

  it.each([5, 4])('detects a takeover from the connection flapping (MQTT %i: mosquitto just closes the old connection)', async (protocolVersion) => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
    const connector = `mqtt-flap-${Date.now()}`;
    const child = await startSource(danube, { url: mosquitto.url, protocol_version: protocolVersion, reconnect_period_ms: 20, reconnect_max_period_ms: 40, routes: [{ from: 't/#', to: uniqueTopic('flap') }] }, { connector });
    await child.log((l) => l.msg === 'MQTT subscribed');
    expect(child.logs().some((l) => l.code === 'DC_ERR_MQTT_TAKEOVER'), 'no report before the intruder').toBe(false);
    // An intruder with the same id that reconnects as eagerly: each connect kicks the other out.
    await mqttClient(mosquitto.url, { protocolVersion: protocolVersion as 4 | 5, clientId: `danube-${connector}`, reconnectPeriod: 20, clean: false });
    const report = await child.log((l) => l.code === 'DC_ERR_MQTT_TAKEOVER', 20_000);
    expect(String(report.msg)).toContain(`client id "danube-${connector}"`);
    await child.kill();
  });
  // MQTT.js goes on handing over the PUBLISH packets it had read from a connection after that connection closed,
  // until it reconnects. Such a packet can no longer be acknowledged, and a kept session redelivers it: it is
  // published once, and its redelivery is acknowledged once Danube has it, not published again.
  itWithTestBroker.each([1, 2] as const)('QoS %i: a PUBLISH handed over after its connection closed reaches Danube once, and so does its redelivery', async (qos) => {
    const danube = await startDanube();
    const topic = uniqueTopic(`stale${qos}`);
    const tap = await DanubeTap.open(danube, topic);
    const broker = await ScriptedBroker.start();
    const COUNT = 30;
    // One record at a time into Danube, each held 50 ms: the packets read before the drop are handed over one by
    // one for about a second and a half, most of them after the close; the reconnect waits longer than that.
    const child = await startSource(
      danube,
      { url: broker.url, receive_maximum: COUNT, reconnect_period_ms: 3_000, reconnect_max_period_ms: 3_000, routes: [{ from: 'w/#', to: topic, qos }] },
      { runtime: { maxInFlight: 1 } },
    );
    await broker.until(() => broker.count('subscribe') >= 1);
    danube.broker?.delayAcks(50);
    broker.sessionPresent = true;
    const ids = Array.from({ length: COUNT }, (_, i) => i + 1);
    for (const id of ids) broker.publish(`w/${id}`, String(id), qos, id);
    broker.drop();
    await broker.until(() => broker.count('connect') >= 2, 30_000);
    // The kept session: every message not acknowledged on the first connection comes again, with DUP set.
    for (const id of ids) broker.publish(`w/${id}`, String(id), qos, id, true);
    const ack = qos === 1 ? 'puback' : 'pubrec';
    await broker.until(() => new Set(broker.ids(ack, 2)).size === COUNT, 30_000, `a ${ack} for each of the ${COUNT} redelivered messages`);
    broker.publish('w/marker', 'marker', qos, COUNT + 1);
    await tap.until(() => tap.texts().includes('marker'));
    await child.stop(10_000);
    expect(tap.texts().filter((t) => t !== 'marker').sort((a, b) => Number(a) - Number(b))).toEqual(ids.map(String));
    expect(broker.ids(ack, 2).slice(0, COUNT), `one ${ack} per redelivered message, in receipt order`).toEqual(ids);
  });
});
