// The SDK's conformance kit against the built plugin, with a real mosquitto as the external system.
import { describeConnectorConformance } from '@danube-connect/sdk/testing/conformance';
import { Mosquitto } from '@danube-connect/mqtt/testing';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll } from 'vitest';

let mosquitto: Mosquitto;
let publisher: MqttClient;
beforeAll(async () => {
  mosquitto = await Mosquitto.start();
  publisher = await mqtt.connectAsync(mosquitto.url, { clientId: `conformance-publisher-${process.pid}` });
});
afterAll(async () => {
  await publisher?.endAsync(true);
  await mosquitto?.dispose();
});

describeConnectorConformance({
  packageDir: new URL('..', import.meta.url).pathname,
  config: (env) => ({ url: mosquitto.url, routes: [{ from: `conformance/${env.connector}/#`, to: env.topic }] }),
  produce: async (env, from, count) => {
    const sends: Promise<unknown>[] = [];
    for (let i = from; i < from + count; i++) sends.push(publisher.publishAsync(`conformance/${env.connector}/n`, String(i), { qos: 1 }));
    await Promise.all(sends);
  },
  survivesCrash: true,
});
