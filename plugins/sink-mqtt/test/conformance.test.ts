// The SDK's conformance kit against the built plugin, with a real mosquitto as the external system: what the
// sink wrote is what one MQTT subscriber received, per connector, in arrival order.
import { describeConnectorConformance } from '@danube-connect/testing/conformance';
import { Mosquitto } from '@danube-connect/mqtt/testing';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll } from 'vitest';

let mosquitto: Mosquitto;
let subscriber: MqttClient;
const received = new Map<string, string[]>();
beforeAll(async () => {
  mosquitto = await Mosquitto.start();
  subscriber = await mqtt.connectAsync(mosquitto.url, { clientId: `conformance-subscriber-${process.pid}`, protocolVersion: 5 });
  subscriber.on('message', (topic, payload) => {
    const connector = topic.split('/')[1] as string;
    const list = received.get(connector) ?? [];
    list.push(payload.toString('utf8'));
    received.set(connector, list);
  });
  await subscriber.subscribeAsync('conformance/#', { qos: 1 });
});
afterAll(async () => {
  await subscriber?.endAsync(true);
  await mosquitto?.dispose();
});

describeConnectorConformance({
  packageDir: new URL('..', import.meta.url).pathname,
  config: (env) => ({ url: mosquitto.url, routes: [{ from: env.topic, to: `conformance/${env.connector}/{key}` }] }),
  written: async (env) => [...(received.get(env.connector) ?? [])],
});
