import { describe, expect, it } from 'vitest';
import { DanubeTap, duplicates, itWithTestBroker, missing, mqttClient, publishPaced, startDanube, startMosquitto, startSource, uniqueTopic } from './support/harness.js';
import { ScriptedBroker } from './support/scripted-broker.js';

// QoS 2 end to end (README "Delivery guarantees"): a real mosquitto, the built plugin in a real connector child,
// Danube (TestBroker or DANUBE_SERVICE_URL). PUBREC leaves only once Danube has the message, so a SIGKILL or a
// broker restart loses nothing; what it may duplicate is bounded by the window.

describe('source-mqtt QoS 2', () => {
  it('delivers QoS 2 messages into a reliable Danube topic, in order, with mqtt.qos 2', async () => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
    const topic = uniqueTopic('qos2');
    const tap = await DanubeTap.open(danube, topic);
    const child = await startSource(danube, { url: mosquitto.url, routes: [{ from: 'q2/#', to: topic, qos: 2 }] });
    await child.log((l) => l.msg === 'MQTT subscribed');
    const publisher = await mqttClient(mosquitto.url, { protocolVersion: 5 });
    await publishPaced(publisher, 'q2/x', 300, { qos: 2, ratePerS: 5_000 });
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
    const publishing = publishPaced(publisher, 'kill2/x', COUNT, { qos: 2 });
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
    const publishing = publishPaced(publisher, 'restart2/x', COUNT, { qos: 2 });
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

  itWithTestBroker('holds each PUBREC until Danube has the message and all before it, sends them in receipt order, answers PUBREL with PUBCOMP', async () => {
    const danube = await startDanube();
    const topic = uniqueTopic('pubrec');
    const tap = await DanubeTap.open(danube, topic);
    const broker = await ScriptedBroker.start();
    await startSource(danube, { url: broker.url, routes: [{ from: 'w/#', to: topic, qos: 2, ordering: 'none' }] });
    await broker.until(() => broker.count('subscribe') >= 1);
    const holdMs = 2_000;
    danube.broker?.delayAcks(holdMs);
    const sentAt = performance.now();
    for (const id of [1, 2, 3, 4]) broker.publish(`w/${id}`, String(id), 2, id);
    await tap.until(() => tap.messages.length >= 4); // Danube has them; its acknowledgements are held
    const checkedAt = performance.now();
    expect(checkedAt - sentAt, 'checked while still held').toBeLessThan(holdMs);
    expect(broker.seen.filter((s) => s.cmd === 'pubrec' && s.at < checkedAt), 'PUBRECs while Danube holds the acks').toEqual([]);
    await broker.until(() => broker.ids('pubrec').length === 4);
    expect(broker.ids('pubrec')).toEqual([1, 2, 3, 4]);
    expect(broker.ids('puback'), 'no PUBACK for QoS 2').toEqual([]);
    for (const id of [1, 2, 3, 4]) broker.pubrel(id);
    await broker.until(() => broker.ids('pubcomp').length === 4);
    expect(broker.ids('pubcomp')).toEqual([1, 2, 3, 4]);
    expect(tap.texts().sort()).toEqual(['1', '2', '3', '4']);
    expect(broker.closed).toBe(0);
  });

  it.each([
    [true, 1],
    [false, 2], // the deliberately wrong case: without a kept session the re-sent PUBLISH is a new message
  ])('a PUBLISH re-sent after its PUBREC was lost with the connection (session kept %s) reaches Danube %i time(s) and gets its PUBREC again', async (sessionPresent, expected) => {
    const danube = await startDanube();
    const topic = uniqueTopic('resent');
    const tap = await DanubeTap.open(danube, topic);
    const broker = await ScriptedBroker.start();
    const child = await startSource(danube, { url: broker.url, reconnect_period_ms: 20, routes: [{ from: 'w/#', to: topic, qos: 2 }] });
    await broker.until(() => broker.count('subscribe') >= 1);
    broker.publish('w/7', 'seven', 2, 7);
    await broker.until(() => broker.ids('pubrec', 1).length === 1);
    // As if our PUBREC had been lost on the way: the broker drops the connection and, on a kept session, sends the PUBLISH again.
    broker.sessionPresent = sessionPresent;
    broker.drop();
    await broker.until(() => broker.count('connect') >= 2);
    broker.publish('w/7', 'seven', 2, 7, true);
    await broker.until(() => broker.ids('pubrec', 2).length === 1);
    broker.pubrel(7);
    await broker.until(() => broker.ids('pubcomp', 2).length === 1);
    broker.publish('w/8', 'marker', 2, 8);
    await tap.until(() => tap.texts().includes('marker'));
    await child.stop(10_000);
    expect(tap.texts()).toEqual([...Array(expected).fill('seven'), 'marker']);
  });
  it('remembers every PUBREC the broker has not answered with PUBREL, however far it runs ahead: their redeliveries are not published again', async () => {
    const danube = await startDanube();
    const topic = uniqueTopic('ahead');
    const tap = await DanubeTap.open(danube, topic);
    const broker = await ScriptedBroker.start();
    // mosquitto 2.0.11 counts a QoS 2 message against Receive Maximum only until our PUBREC, so it may hold many
    // times receive_maximum of them waiting for PUBCOMP; after a restart it sends them again as PUBLISH with DUP.
    const RECEIVE_MAXIMUM = 4;
    const COUNT = 40;
    const child = await startSource(danube, { url: broker.url, receive_maximum: RECEIVE_MAXIMUM, reconnect_period_ms: 20, routes: [{ from: 'w/#', to: topic, qos: 2 }] });
    await broker.until(() => broker.count('subscribe') >= 1);
    const ids = Array.from({ length: COUNT }, (_, i) => i + 1);
    for (const id of ids) broker.publish(`w/${id}`, String(id), 2, id);
    await broker.until(() => broker.ids('pubrec', 1).length === COUNT);
    broker.sessionPresent = true;
    broker.drop();
    await broker.until(() => broker.count('connect') >= 2);
    for (const id of ids) broker.publish(`w/${id}`, String(id), 2, id, true);
    await broker.until(() => broker.ids('pubrec', 2).length === COUNT);
    broker.publish('w/marker', 'marker', 2, COUNT + 1);
    await tap.until(() => tap.texts().includes('marker'));
    await child.stop(10_000);
    expect(tap.texts()).toEqual([...ids.map(String), 'marker']);
  });
});
