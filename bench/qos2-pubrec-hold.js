// Why source-mqtt holds QoS 2 PUBRECs in a window (issue 13, "QoS 2 without loss"): MQTT.js's own hook before
// PUBREC, `customHandleAcks` (MQTT 5 only), is on its packet loop, so holding it until Danube has the message
// serialises intake to one Danube round trip per message. This measures that path against the same run's MQTT
// limit (mosquitto → a plain QoS 2 subscriber, PUBREC at once). The windowed path is the qos2-none row of
// bench/source-mqtt.js. 1 KiB payloads, QoS 2 publisher, medians of interleaved runs. Reports only.
import { loadavg } from 'node:os';
import { Mosquitto } from '@danube-connect/mqtt/testing';
import { DanubeClient } from '@danube-connect/sdk';
import mqtt from 'mqtt';
import { closedLoop, median, report, round, startBrokerProcess } from './lib.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 3_000);
const PAYLOAD = Buffer.alloc(1024, 0x61);
const RUN_ID = Date.now().toString(36);

/** Subscribes at QoS 2; `hold(packet)` (if given) must resolve before MQTT.js may send the PUBREC. */
async function subscriberRun(mqttUrl, publisher, run, hold) {
  const options = { clientId: `qos2-sub-${RUN_ID}-${run}-${hold ? 'hold' : 'plain'}`, protocolVersion: 5, properties: { receiveMaximum: 64 } };
  if (hold) options.customHandleAcks = (_topic, _message, packet, callback) => (packet.qos === 2 ? hold(packet).then(() => callback(null, 0), callback) : callback(null, 0));
  const subscriber = await mqtt.connectAsync(mqttUrl, options);
  subscriber.stream.setNoDelay?.(true); // as the connector does: Nagle would delay each held PUBREC
  const prefix = `q2/${run}/${hold ? 'hold' : 'plain'}`;
  await subscriber.subscribeAsync(`${prefix}/#`, { qos: 2 });
  let received = 0;
  let tLast = 0;
  const all = new Promise((resolve) =>
    subscriber.on('message', () => {
      tLast = performance.now();
      if (++received === MESSAGES) resolve();
    }),
  );
  const t0 = performance.now();
  await closedLoop(MESSAGES, 64, () => publisher.publishAsync(`${prefix}/x`, PAYLOAD, { qos: 2 }));
  await Promise.race([all, new Promise((r) => setTimeout(r, 120_000))]);
  await subscriber.endAsync(true);
  if (received < MESSAGES) process.stderr.write(`${hold ? 'held' : 'plain'} run ${run}: ${received} of ${MESSAGES} arrived within 120 s\n`);
  return received / ((tLast - t0) / 1000);
}

const external = process.env.DANUBE_SERVICE_URL || undefined;
const broker = external ? undefined : await startBrokerProcess();
const serviceUrl = external ?? broker.serviceUrl;
const mosquitto = await Mosquitto.start({ persistence: false });
const client = new DanubeClient({ serviceUrl });
const plain = [];
const held = [];
try {
  const producer = await client.createProducer({ topic: `/default/bench-qos2-hold-${RUN_ID}`, name: `bench-qos2-hold-${RUN_ID}`, dispatch: 'reliable' });
  const publisher = await mqtt.connectAsync(mosquitto.url, { clientId: `qos2-pub-${RUN_ID}`, protocolVersion: 5 });
  publisher.stream.setNoDelay?.(true);
  for (let run = 0; run < RUNS; run++) {
    plain.push(await subscriberRun(mosquitto.url, publisher, run, undefined));
    held.push(await subscriberRun(mosquitto.url, publisher, run, (packet) => producer.send(packet.payload)));
    process.stderr.write('.');
  }
  await publisher.endAsync();
} finally {
  process.stderr.write('\n');
  await client.close();
  await mosquitto.dispose();
  await broker?.stop();
}
report('qos2-pubrec-hold', [
  { case: 'qos2 plain subscriber (MQTT limit)', msg_per_s: round(median(plain), 0), of_mqtt_limit_pct: 100 },
  { case: 'qos2 customHandleAcks held until Danube acked', msg_per_s: round(median(held), 0), of_mqtt_limit_pct: round((median(held) / median(plain)) * 100, 0) },
], [
  `Median of ${RUNS} interleaved runs of ${MESSAGES} messages of 1 KiB at QoS 2; Danube: ${external ? 'DANUBE_SERVICE_URL' : 'TestBroker in its own process'}; load average ${round(loadavg()[0], 1)} at the end.`,
]);
