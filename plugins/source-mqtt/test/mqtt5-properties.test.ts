import { describe, expect, it } from 'vitest';
import { DanubeTap, mqttClient, startDanube, startMosquitto, startSource, uniqueTopic } from './support/harness.js';

// MQTT 5 properties as Danube attributes (README "Attributes"), end to end: a real mosquitto, the built plugin in a
// real connector child, Danube (TestBroker or DANUBE_SERVICE_URL).

const CORRELATION = Buffer.from([0x00, 0xff, 0x10, 0x80, 0x7f]); // not UTF-8: hence base64

describe('source-mqtt MQTT 5 properties', () => {
  it('become attributes: user properties as mqtt.user.<name>, content type, response topic, correlation data (base64), message expiry', async () => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
    const topic = uniqueTopic('props');
    const tap = await DanubeTap.open(danube, topic);
    const child = await startSource(danube, { url: mosquitto.url, routes: [{ from: 'props/#', to: topic }] });
    await child.log((l) => l.msg === 'MQTT subscribed');
    const publisher = await mqttClient(mosquitto.url, { protocolVersion: 5 });
    await publisher.publishAsync('props/d1', 'full', {
      qos: 1,
      properties: {
        // Names that look like ours cannot overwrite ours: they all land under mqtt.user.
        userProperties: { device: 'd1', rep: ['a', 'b', 'a'], source: 'spoofed', 'mqtt.topic': 'spoofed', 'x.dotted': 'v', '': 'empty name' },
        contentType: 'application/json',
        responseTopic: 'replies/d1',
        correlationData: CORRELATION,
        messageExpiryInterval: 3_600,
      },
    });
    await publisher.publishAsync('props/d2', 'bare', { qos: 1 });
    await tap.until(() => tap.messages.length >= 2);
    await child.stop(10_000);
    const [full, bare] = tap.messages;
    const { 'mqtt.message_expiry_s': expiry, ...rest } = full?.attributes ?? {};
    expect(rest).toEqual({
      'mqtt.topic': 'props/d1',
      'mqtt.qos': '1',
      'mqtt.retain': 'false',
      'mqtt.dup': 'false',
      source: 'mqtt',
      'mqtt.user.device': 'd1',
      'mqtt.user.rep': '["a","b","a"]', // a name sent more than once: its values in order, as a JSON array
      'mqtt.user.source': 'spoofed',
      'mqtt.user.mqtt.topic': 'spoofed',
      'mqtt.user.x.dotted': 'v',
      'mqtt.user.': 'empty name',
      'mqtt.content_type': 'application/json',
      'mqtt.response_topic': 'replies/d1',
      'mqtt.correlation_data': CORRELATION.toString('base64'),
    });
    expect(Buffer.from(rest['mqtt.correlation_data'] as string, 'base64').equals(CORRELATION)).toBe(true);
    // The broker passes on what is left of the interval when it delivers.
    expect(Number(expiry)).toBeGreaterThan(3_500);
    expect(Number(expiry)).toBeLessThanOrEqual(3_600);
    expect(bare?.attributes).toEqual({ 'mqtt.topic': 'props/d2', 'mqtt.qos': '1', 'mqtt.retain': 'false', 'mqtt.dup': 'false', source: 'mqtt' });
  });

  it.each([
    ['include_metadata false', { include_metadata: false }, {}],
    ['MQTT 3.1.1 (no properties on the wire)', { protocol_version: 4 }, { 'mqtt.topic': 'props/d3', 'mqtt.qos': '1', 'mqtt.retain': 'false', 'mqtt.dup': 'false', source: 'mqtt' }],
  ])('none with %s', async (_what, settings, expected) => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
    const topic = uniqueTopic('noprops');
    const tap = await DanubeTap.open(danube, topic);
    const child = await startSource(danube, { url: mosquitto.url, ...settings, routes: [{ from: 'props/#', to: topic }] });
    await child.log((l) => l.msg === 'MQTT subscribed');
    const publisher = await mqttClient(mosquitto.url, { protocolVersion: 5 });
    await publisher.publishAsync('props/d3', 'x', { qos: 1, properties: { userProperties: { device: 'd3' }, contentType: 'text/plain', correlationData: CORRELATION, messageExpiryInterval: 60 } });
    await tap.until(() => tap.messages.length >= 1);
    await child.stop(10_000);
    expect(tap.messages[0]?.attributes).toEqual(expected);
  });
});
