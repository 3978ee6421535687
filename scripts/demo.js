// `npm run demo`: the Danube client against an embedded TestBroker, end to end on loopback.
// Replaced by `danube-connect run` once the host lands; until then it shows the foundation working.
import { DanubeAdminClient, DanubeClient } from '@danube-connect/sdk';
import { TestBroker } from '@danube-connect/testing';

const broker = await TestBroker.start();
console.log(`TestBroker listening: service ${broker.serviceUrl}, admin ${broker.adminUrl}`);
const client = new DanubeClient({ serviceUrl: broker.serviceUrl });
const admin = new DanubeAdminClient({ adminUrl: broker.adminUrl });
try {
  await admin.createNamespace('demo');
  const topic = '/demo/sensors';
  const producer = await client.createProducer({ topic, name: 'demo-producer', partitions: 3 });
  const consumer = await client.subscribe({ topic, name: 'demo-consumer', subscription: 'demo', type: 'shared' });
  console.log(`producer on ${topic} with 3 partitions, consumer subscribed to ${consumer.topicNames.join(', ')}`);

  const devices = ['boiler', 'fridge', 'garage'];
  for (let i = 0; i < 9; i++) {
    const device = devices[i % devices.length];
    const reading = JSON.stringify({ device, celsius: 18 + i / 2 });
    const receipt = await producer.send(reading, { key: device, attributes: { unit: 'celsius' } });
    console.log(`sent     ${reading} -> partition ${receipt.partition} (request ${receipt.requestId})`);
  }
  for (let i = 0; i < 9; i++) {
    const message = await consumer.receive(AbortSignal.timeout(5_000));
    console.log(`received ${message.payload.toString()} from ${message.topic} offset ${message.offset}`);
    await consumer.ack(message);
  }
  console.log('demo complete: 9 sent, 9 received and acknowledged');
} finally {
  await client.close();
  admin.close();
  await broker.stop();
}
