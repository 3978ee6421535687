import mqtt from 'mqtt';
import { describe, expect, it, onTestFinished } from 'vitest';
import { DanubeTap, itWithTestBroker, mqttClient, publishSequence, startDanube, startMosquitto, startSource, uniqueTopic } from './support/harness.js';
import { ScriptedBroker } from './support/scripted-broker.js';

// The PUBACK window proven by what leaves the client, never by looking at private methods (docs/delivery-semantics.md §10–2).
// A scripted broker records every packet; the TestBroker holds Danube's acknowledgements.

/** The script: QoS 1 on routed and unrouted topics, interleaved (`x/…` matches no route). */
const SCRIPT: Array<[string, number]> = [
  ['w/1', 1],
  ['w/2', 2],
  ['x/3', 3],
  ['w/4', 4],
  ['w/5', 5],
  ['x/6', 6],
];

/** Check: no PUBACK reached the broker before `time`. */
const expectNoPubackBefore = (broker: ScriptedBroker, time: number) =>
  expect(broker.seen.filter((s) => s.cmd === 'puback' && s.at < time).map((s) => s.messageId), 'PUBACKs while Danube holds the messages').toEqual([]);

describe('the in-order deferred PUBACK window', () => {
  itWithTestBroker('holds every PUBACK until Danube has the message and all before it, keeps answering PINGRESP meanwhile, then acks in receipt order', async () => {
    const danube = await startDanube();
    const topic = uniqueTopic('window');
    const tap = await DanubeTap.open(danube, topic);
    const broker = await ScriptedBroker.start();
    await startSource(danube, { url: broker.url, keepalive_s: 1, routes: [{ from: 'w/#', to: topic, ordering: 'none' }] });
    await broker.until(() => broker.count('subscribe') >= 1);
    const holdMs = 4_000;
    danube.broker?.delayAcks(holdMs);
    const sentAt = performance.now();
    for (const [t, id] of SCRIPT) broker.publish(t, t, 1, id);
    // Two keep-alive rounds while held: a client whose packet loop waits for the PUBACK never reads PINGRESP
    // and drops the connection after about one keep-alive interval.
    await broker.until(() => broker.count('pingreq', sentAt) >= 2);
    const checkedAt = performance.now();
    expect(checkedAt - sentAt, 'checked while still held').toBeLessThan(holdMs);
    expectNoPubackBefore(broker, checkedAt);
    expect(broker.closed, 'connection kept').toBe(0);
    await broker.until(() => broker.pubacks().length === SCRIPT.length);
    expect(broker.pubacks()).toEqual(SCRIPT.map(([, id]) => id));
    expect(broker.seen.find((s) => s.cmd === 'puback')!.at - sentAt, 'first PUBACK after Danube acknowledged').toBeGreaterThanOrEqual(holdMs - 50);
    await tap.until(() => tap.messages.length >= 4);
    expect(tap.texts().sort()).toEqual(['w/1', 'w/2', 'w/4', 'w/5']);
    expect(broker.closed).toBe(0);
  });

  itWithTestBroker('never holds more than receive_maximum unacknowledged, even from a broker that sends more (mosquitto 2.0.11 does under load)', async () => {
    const danube = await startDanube();
    const topic = uniqueTopic('bounded');
    const tap = await DanubeTap.open(danube, topic);
    const broker = await ScriptedBroker.start();
    const child = await startSource(danube, { url: broker.url, receive_maximum: 4, routes: [{ from: 'w/#', to: topic, ordering: 'none' }] });
    await broker.until(() => broker.count('subscribe') >= 1);
    danube.broker?.delayAcks(500);
    for (let id = 1; id <= 10; id++) broker.publish(`w/${id}`, String(id), 1, id); // 10 > our Receive Maximum of 4
    await broker.until(() => broker.pubacks().length === 10);
    expect(broker.pubacks()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await tap.until(() => tap.messages.length >= 10);
    await child.stop(10_000);
    // The broker pushed 10 at once, so a window that did not park the fifth would have reached 10.
    expect(await child.log((l) => l.msg === 'MQTT disconnected')).toMatchObject({ maxAwaitingPuback: 4, pubacksSent: 10 });
  });

  it('the checks fail for clients that get it wrong (the deliberately wrong cases)', async () => {
    // 1. MQTT.js as it comes: PUBACK on receipt.
    const auto = await ScriptedBroker.start();
    const plain = await mqttClient(auto.url, { protocolVersion: 5, keepalive: 1 });
    await plain.subscribeAsync('w/#', { qos: 1 });
    for (const [t, id] of SCRIPT) auto.publish(t, t, 1, id);
    await auto.until(() => auto.pubacks().length >= 4);
    expect(() => expectNoPubackBefore(auto, performance.now())).toThrow();
    // 2. Holding MQTT.js's handleMessage callback until the ack: PINGRESP is never read, the connection drops.
    const stalled = await ScriptedBroker.start();
    const holding = mqtt.connect(stalled.url, { protocolVersion: 5, keepalive: 1, reconnectPeriod: 0 });
    onTestFinished(() => {
      holding.end(true);
    });
    holding.handleMessage = () => {}; // never calls back
    await new Promise((resolve) => holding.once('connect', resolve));
    await holding.subscribeAsync('w/#', { qos: 1 });
    for (const [t, id] of SCRIPT) stalled.publish(t, t, 1, id);
    await stalled.until(() => stalled.closed >= 1, 10_000, 'the stalled client dropping the connection');
    expect(stalled.pubacks()).toEqual([]);
  });

  // Throughput with a 5 ms Danube acknowledgement: serial PUBACKs would cap it at 1 / 5 ms = 200 msg/s. Counted
  // on the connector's side (committed = PUBACKed), so the observer's own speed does not enter.
  const DELAY_MS = 5;
  const drainMs = async (receiveMaximum: number, count: number) => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
    const child = await startSource(danube, { url: mosquitto.url, receive_maximum: receiveMaximum, routes: [{ from: 'rate/#', to: uniqueTopic('rate'), ordering: 'none' }] });
    await child.log((l) => l.msg === 'MQTT subscribed');
    danube.broker?.delayAcks(DELAY_MS);
    const publisher = await mqttClient(mosquitto.url);
    const started = performance.now();
    await publishSequence(publisher, 'rate/x', 0, count, 1, 200);
    while ((await child.ping()).stats.processed < count) await new Promise((r) => setTimeout(r, 20));
    return performance.now() - started;
  };

  // Serial PUBACKs cannot beat count × delay whatever the load; the window's cost is CPU, which a loaded 2-core
  // machine stretches, so the bound leaves room: clearly under the serial floor (typically a third of it).
  itWithTestBroker(`is not throttled to 1 / Danube delay: 2000 messages with a ${DELAY_MS} ms delay take well under 2000 × ${DELAY_MS} ms`, async () => {
    expect(await drainMs(64, 2_000)).toBeLessThan(2_000 * DELAY_MS * 0.75);
  });

  itWithTestBroker('the throughput check fails for a window of one (the deliberately wrong case)', async () => {
    expect(await drainMs(1, 400)).toBeGreaterThanOrEqual(400 * DELAY_MS * 0.9);
  });
});

describe('redeliveries after a reconnect', () => {
  itWithTestBroker.each([
    [true, 5],
    [false, 10], // the deliberately wrong case: without a kept session the copies are new messages and are published
  ])('session kept %s: messages redelivered while their originals are still on the way reach Danube %i times in all', async (sessionPresent, expected) => {
    const danube = await startDanube();
    const topic = uniqueTopic('redeliver');
    const tap = await DanubeTap.open(danube, topic);
    const broker = await ScriptedBroker.start();
    const child = await startSource(danube, { url: broker.url, reconnect_period_ms: 20, routes: [{ from: 'w/#', to: topic, ordering: 'none' }] });
    await broker.until(() => broker.count('subscribe') >= 1);
    danube.broker?.delayAcks(1_500);
    for (let id = 1; id <= 5; id++) broker.publish(`w/${id}`, String(id), 1, id);
    await tap.until(() => tap.messages.length >= 5);
    broker.sessionPresent = sessionPresent;
    broker.drop();
    await broker.until(() => broker.count('connect') >= 2);
    for (let id = 1; id <= 5; id++) broker.publish(`w/${id}`, String(id), 1, id, sessionPresent);
    danube.broker?.delayAcks(0);
    await broker.until(() => broker.seen.filter((s) => s.cmd === 'puback' && s.connection === 2).length === 5);
    expect(broker.seen.filter((s) => s.cmd === 'puback' && s.connection === 1)).toEqual([]);
    expect(broker.seen.filter((s) => s.cmd === 'puback' && s.connection === 2).map((s) => s.messageId)).toEqual([1, 2, 3, 4, 5]);
    await tap.until(() => tap.messages.length >= expected);
    await child.stop(10_000);
    expect(tap.messages).toHaveLength(expected);
  });
});
