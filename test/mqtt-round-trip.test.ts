import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import mqtt, { type IPublishPacket } from 'mqtt';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startDanube, startMosquitto, startPluginChild, uniqueTopic } from './support/plugin-harness.js';

// MQTT → Danube → MQTT through both built plugins in real connector children: source-mqtt's MQTT 5 attributes
// (plugins/source-mqtt/README.md "Attributes") read back by sink-mqtt's templates. Danube: TestBroker or
// DANUBE_SERVICE_URL.

const plugin = (name: string) => fileURLToPath(new URL(`../plugins/${name}/dist/index.js`, import.meta.url));

describe('MQTT 5 properties through source-mqtt and sink-mqtt', () => {
  it('content type, response topic and expiry come back as sent; user properties under mqtt.user.<name>; correlation data as its base64 text', async () => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
    const topic = uniqueTopic('roundtrip');
    // Create the topic first, so the sink's subscription exists before the source publishes.
    await (await danube.client.createProducer({ topic, name: `rt-${randomBytes(3).toString('hex')}`, dispatch: 'reliable' })).close();
    const out = await mqtt.connectAsync(mosquitto.url, { clientId: `rt-out-${randomBytes(3).toString('hex')}`, protocolVersion: 5 });
    onTestFinished(async () => {
      await out.endAsync(true);
    });
    const received: IPublishPacket[] = [];
    const arrived = new Promise<void>((resolve) => out.on('message', (_t, _p, packet) => received.push(packet) && resolve()));
    await out.subscribeAsync('back/#', { qos: 1 });
    const sink = await startPluginChild(danube, {
      entry: plugin('sink-mqtt'),
      kind: 'sink',
      plugin: { name: '@danube-plugin/sink-mqtt', version: '0.1.0' },
      connector: `rt-sink-${randomBytes(3).toString('hex')}`,
      config: {
        url: mosquitto.url,
        mark_origin: false,
        routes: [
          {
            from: topic,
            to: 'back/{attr:mqtt.topic}',
            qos: 1,
            content_type: '{attr:mqtt.content_type}',
            response_topic: '{attr:mqtt.response_topic}',
            correlation_data: '{attr:mqtt.correlation_data}',
            message_expiry: '{attr:mqtt.message_expiry_s}',
          },
        ],
      },
    });
    const source = await startPluginChild(danube, {
      entry: plugin('source-mqtt'),
      kind: 'source',
      plugin: { name: '@danube-plugin/source-mqtt', version: '0.1.0' },
      connector: `rt-source-${randomBytes(3).toString('hex')}`,
      config: { url: mosquitto.url, routes: [{ from: 'in/#', to: topic }] },
    });
    await source.log((l) => l.msg === 'MQTT subscribed');
    const publisher = await mqtt.connectAsync(mosquitto.url, { clientId: `rt-in-${randomBytes(3).toString('hex')}`, protocolVersion: 5 });
    onTestFinished(async () => {
      await publisher.endAsync(true);
    });
    const correlation = Buffer.from('req-42');
    await publisher.publishAsync('in/d1', '{"t":21.5}', {
      qos: 1,
      properties: { userProperties: { device: 'd1' }, contentType: 'application/json', responseTopic: 'replies/d1', correlationData: correlation, messageExpiryInterval: 3_600 },
    });
    await arrived;
    await Promise.all([source.stop(10_000), sink.stop(10_000)]);
    const [packet] = received;
    expect(packet?.topic).toBe('back/in/d1');
    expect(Buffer.from(packet?.payload ?? []).toString()).toBe('{"t":21.5}');
    expect(packet?.properties?.contentType).toBe('application/json');
    expect(packet?.properties?.responseTopic).toBe('replies/d1');
    expect(packet?.properties?.messageExpiryInterval).toBeGreaterThan(3_000);
    expect(packet?.properties?.messageExpiryInterval).toBeLessThanOrEqual(3_600);
    // What does not round-trip unchanged (README "Attributes"): the sink sends attributes under their own names and
    // correlation data as the template's text.
    expect(packet?.properties?.userProperties).toMatchObject({ 'mqtt.user.device': 'd1', 'mqtt.topic': 'in/d1', source: 'mqtt' });
    expect(Buffer.from(packet?.properties?.correlationData ?? []).toString()).toBe(correlation.toString('base64'));
  });
});
