import { describe, expect, it } from 'vitest';
import type { ConnectorProcess } from '@danube-connect/sdk/testing';
import { DanubeTap, mqttClient, publishSequence, startDanube, startMosquitto, startSource, uniqueTopic } from './support/harness.js';

type Metrics = Awaited<ReturnType<ConnectorProcess['metrics']>>;
const value = (metrics: Metrics, name: string, labels: Record<string, string> = {}) =>
  metrics.find((m) => m.name === name)?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;

describe('source-mqtt metrics', () => {
  it('has the reference names with the route\'s Danube topic as label, and its own MQTT metrics', async () => {
    // Overlapping filters with one copy per subscription: the second copy is counted, not published.
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto({ config: ['allow_duplicate_messages true'] })]);
    const narrow = uniqueTopic('m-narrow');
    const wide = uniqueTopic('m-wide');
    const [tap] = await Promise.all([DanubeTap.open(danube, narrow), DanubeTap.open(danube, wide)]);
    const connector = `mqtt-metrics-${Date.now()}`;
    const child = await startSource(danube, { url: mosquitto.url, reconnect_period_ms: 50, routes: [{ from: 'm/a/#', to: narrow }, { from: 'm/#', to: wide }] }, { connector });
    await child.log((l) => l.msg === 'MQTT subscribed');
    const publisher = await mqttClient(mosquitto.url);
    await publishSequence(publisher, 'm/a/x', 0, 5);
    await tap.untilSequence(0, 5);
    // Committed (and so counted processed) once Danube's acknowledgement is back, which may follow the delivery.
    while ((await child.ping()).stats.processed < 5) await new Promise((r) => setTimeout(r, 20));
    let metrics = await child.metrics();
    expect(value(metrics, 'danube_connector_messages_received_total', { connector, topic: narrow })).toBe(5);
    expect(value(metrics, 'danube_connector_messages_processed_total', { connector, topic: narrow })).toBe(5);
    expect(value(metrics, 'danube_connector_mqtt_duplicates_ignored_total', { connector, topic: narrow })).toBe(5);
    expect(value(metrics, 'danube_connector_mqtt_unmatched_total', { connector })).toBe(0);
    expect(value(metrics, 'danube_connector_mqtt_reconnects_total', { connector })).toBe(0);
    expect(value(metrics, 'danube_connector_mqtt_connected', { connector })).toBe(1);
    expect(value(metrics, 'danube_connector_mqtt_awaiting_puback', { connector })).toBe(0);
    expect(value(metrics, 'danube_connector_messages_received_total', { connector, topic: wide })).toBeUndefined();

    // The deliberately wrong case of the connected gauge: it reads 0 while the broker is down.
    await mosquitto.stop();
    await child.log((l) => l.msg === 'MQTT connection closed; reconnecting');
    metrics = await child.metrics();
    expect(value(metrics, 'danube_connector_mqtt_connected', { connector })).toBe(0);
    await mosquitto.restart();
    await child.log((l) => l.msg === 'MQTT connected' && l.epoch === 2);
    metrics = await child.metrics();
    expect(value(metrics, 'danube_connector_mqtt_connected', { connector })).toBe(1);
    expect(value(metrics, 'danube_connector_mqtt_reconnects_total', { connector })).toBe(1);
    await child.stop(10_000);
  });
});
