import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DanubeMessage } from '@danube-connect/sdk';
import type { ConnectorProcess } from '@danube-connect/testing';
import { describe, expect, it } from 'vitest';
import { DanubeTap, itWithTestBroker, mqttClient, startDanube, startMosquitto, startSource, uniqueTopic, type Danube } from './support/harness.js';
import { ScriptedBroker } from './support/scripted-broker.js';

// Route schemas end to end: a real mosquitto, the built plugin in a real connector child, Danube (TestBroker or
// DANUBE_SERVICE_URL) with its schema registry. Valid payloads arrive stamped with the schema's id and version;
// invalid ones are dead-lettered (or counted and dropped) and PUBACKed only once that is done.

const dir = mkdtempSync(join(tmpdir(), 'source-mqtt-schemas-'));
const writeFile = (content: string, name = `${randomBytes(4).toString('hex')}.txt`) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
/** A subject no other case or earlier run uses (a real broker keeps its registry). */
const uniqueSubject = (prefix: string) => `${prefix}-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

const ORDER_V1 = { type: 'object', required: ['id'], properties: { id: { type: 'integer' } } };
const ORDER_V2 = { type: 'object', required: ['id'], properties: { id: { type: 'integer' }, note: { type: 'string' } } };
const double = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(n);
  return b;
};

// Per type: the schema (without subject), a valid payload, and one the type's check refuses (or, for the types
// that are not checked, one that passes although it is no such thing).
const TYPES: Array<[string, () => Record<string, unknown>, Buffer, Buffer, boolean]> = [
  ['json_schema', () => ({ type: 'json_schema', file: writeFile(JSON.stringify(ORDER_V1)) }), Buffer.from('{"id":1}'), Buffer.from('{"id":"one"}'), true],
  ['string', () => ({ type: 'string' }), Buffer.from('héllo'), Buffer.from([0x68, 0xff]), true],
  ['number', () => ({ type: 'number' }), double(2.5), Buffer.from([1, 2, 3]), true],
  ['bytes', () => ({ type: 'bytes' }), Buffer.from([0, 0xff]), Buffer.from([0xfe]), false],
  ['avro', () => ({ type: 'avro', file: writeFile(JSON.stringify({ type: 'record', name: 'Order', fields: [{ name: 'id', type: 'long' }] })) }), Buffer.from([0x02]), Buffer.from('not avro'), false],
  ['protobuf', () => ({ type: 'protobuf', file: writeFile('syntax = "proto3";\nmessage Order { int64 id = 1; }\n') }), Buffer.from([0x08, 0x01]), Buffer.from('not protobuf'), false],
];

const settled = async (child: ConnectorProcess, count: number) => {
  for (;;) {
    const { stats } = await child.ping();
    if (stats.processed + stats.deadLettered + stats.dropped >= count) return stats;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

const latestOf = (danube: Danube, subject: string) => danube.client.schemaRegistry.getLatest(subject);

describe('route schemas end to end', () => {
  describe.each(TYPES)('type %s', (type, schemaOf, valid, invalid, checked) => {
    it.each([true, false])(`with a dead-letter topic %s: valid payloads arrive with the schema id and version, ${checked ? 'an invalid one is dead-lettered or dropped' : 'nothing is checked'}, the stream goes on`, async (withDeadLetters) => {
      const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
      const topic = uniqueTopic(`schema-${type}`);
      const dlq = uniqueTopic('dlq');
      const [tap, dlqTap] = await Promise.all([DanubeTap.open(danube, topic), withDeadLetters ? DanubeTap.open(danube, dlq) : undefined]);
      const subject = uniqueSubject(type);
      const child = await startSource(
        danube,
        { url: mosquitto.url, routes: [{ from: 'schema/#', to: topic, schema: { subject, ...schemaOf() } }] },
        { runtime: withDeadLetters ? { deadLetterTopic: dlq } : {} },
      );
      await child.log((l) => l.msg === 'MQTT subscribed');
      const publisher = await mqttClient(mosquitto.url);
      await publisher.publishAsync('schema/a', valid, { qos: 1 });
      await publisher.publishAsync('schema/b', invalid, { qos: 1 });
      await publisher.publishAsync('schema/c', valid, { qos: 1 });
      const stats = await settled(child, 3);
      const published = checked ? 2 : 3;
      await tap.until(() => tap.messages.length >= published);

      const registered = await latestOf(danube, subject);
      expect(registered).toMatchObject({ version: 1, type });
      expect(tap.messages.map((m) => m.payload)).toEqual(checked ? [valid, valid] : [valid, invalid, valid]);
      for (const message of tap.messages) expect([message.schemaId, message.schemaVersion]).toEqual([registered.schemaId, 1]);
      expect(stats).toMatchObject({ received: 3, processed: published, deadLettered: checked && withDeadLetters ? 1 : 0, dropped: checked && !withDeadLetters ? 1 : 0 });
      if (checked && dlqTap) {
        await dlqTap.until(() => dlqTap.messages.length >= 1);
        const [letter] = dlqTap.messages as DanubeMessage[];
        expect(letter?.payload).toEqual(invalid);
        expect(letter?.routingKey).toBe('schema/b');
        expect(letter?.attributes).toMatchObject({
          'mqtt.topic': 'schema/b',
          'dc.errors.topic': topic,
          'dc.errors.code': 'DC_ERR_MQTT_PAYLOAD_INVALID',
          'dc.errors.kind': 'invalid_data',
          'dc.errors.attempts': '0',
        });
        expect(letter?.attributes['dc.errors.message']).toMatch(new RegExp(`^routes/0: schema "${subject}" \\(${type}\\): `));
      }
      if (checked && !withDeadLetters) {
        const dropped = (await child.metrics()).find((m) => m.name === 'danube_connector_messages_dropped_total');
        expect(dropped?.values).toEqual([expect.objectContaining({ labels: expect.objectContaining({ topic, reason: 'invalid_data' }), value: 1 })]);
      }
      await child.stop(10_000);
      if (dlqTap) expect(dlqTap.messages).toHaveLength(checked ? 1 : 0);
    });
  });

  it('auto_register: the file is registered at start; a changed file becomes the next version, and the messages carry it', async () => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
    const topic = uniqueTopic('schema-evolve');
    const tap = await DanubeTap.open(danube, topic);
    const subject = uniqueSubject('orders');
    const file = writeFile(JSON.stringify(ORDER_V1));
    const connector = `mqtt-evolve-${Date.now()}`;
    const config = { url: mosquitto.url, routes: [{ from: 'orders/#', to: topic, schema: { subject, type: 'json_schema', file } }] };
    const publisher = await mqttClient(mosquitto.url);
    const run = async (payload: string) => {
      const child = await startSource(danube, config, { connector });
      const bound = await child.log((l) => l.msg === 'schema bound');
      await child.log((l) => l.msg === 'MQTT subscribed');
      await publisher.publishAsync('orders/x', payload, { qos: 1 });
      await settled(child, 1);
      await child.stop(10_000);
      return bound;
    };
    expect(await run('{"id":1}')).toMatchObject({ subject, version: 1, newVersion: true });
    writeFileSync(file, JSON.stringify(ORDER_V2)); // backward compatible: a new optional property
    expect(await run('{"id":2,"note":"v2"}')).toMatchObject({ subject, version: 2, newVersion: true });
    expect(await run('{"id":3}')).toMatchObject({ subject, version: 2, newVersion: false }); // unchanged: nothing new
    await tap.until(() => tap.messages.length >= 3);
    const latest = await latestOf(danube, subject);
    expect(tap.messages.map((m) => [m.payload.toString(), m.schemaId, m.schemaVersion])).toEqual([
      ['{"id":1}', latest.schemaId, 1],
      ['{"id":2,"note":"v2"}', latest.schemaId, 2],
      ['{"id":3}', latest.schemaId, 2],
    ]);
    expect((await danube.client.schemaRegistry.listVersions(subject)).map((v) => v.version)).toEqual([1, 2]);
  });

  it('version pinned: messages carry the pinned version, checked against it', async () => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
    const topic = uniqueTopic('schema-pinned');
    const tap = await DanubeTap.open(danube, topic);
    const subject = uniqueSubject('pinned');
    await danube.client.schemaRegistry.register({ subject, type: 'json_schema', definition: JSON.stringify(ORDER_V1) });
    await danube.client.schemaRegistry.register({ subject, type: 'json_schema', definition: JSON.stringify(ORDER_V2) });
    const file = writeFile(JSON.stringify(ORDER_V1));
    const child = await startSource(danube, { url: mosquitto.url, routes: [{ from: 'p/#', to: topic, schema: { subject, type: 'json_schema', file, version: { pinned: 1 } } }] });
    await child.log((l) => l.msg === 'MQTT subscribed');
    const publisher = await mqttClient(mosquitto.url);
    await publisher.publishAsync('p/x', '{"id":5}', { qos: 1 });
    await tap.until(() => tap.messages.length >= 1);
    expect(tap.messages[0]?.schemaVersion).toBe(1);
    await child.stop(10_000);
  });

  // Start failures: the registry is asked before the MQTT broker is, so no broker is needed.
  const startFailure = async (danube: Danube, schema: Record<string, unknown>) => {
    const connector = `mqtt-badschema-${randomBytes(3).toString('hex')}`;
    const child = await startSource(danube, { url: 'mqtt://127.0.0.1:1', routes: [{ from: 'a/#', to: uniqueTopic('never'), schema }] }, { connector, waitReady: false });
    const failed = await child.next('failed');
    expect(failed.message).toContain(connector);
    expect(failed.message).toContain('DC_ERR_MQTT_SCHEMA');
    return failed.message;
  };

  it('fails the start naming connector and key: an unregistered subject without auto_register', async () => {
    const danube = await startDanube();
    const subject = uniqueSubject('missing');
    expect(await startFailure(danube, { subject, type: 'string', auto_register: false })).toContain(`routes/0/schema/subject: subject "${subject}" is not registered; register it, or set auto_register = true`);
  });

  it('fails the start naming connector and key: a pinned version that does not exist', async () => {
    const danube = await startDanube();
    const subject = uniqueSubject('pin');
    expect(await startFailure(danube, { subject, type: 'json_schema', file: writeFile(JSON.stringify(ORDER_V1)), version: { pinned: 3 } })).toContain(
      `routes/0/schema/version: subject "${subject}" has no version 3 (latest is 1)`,
    );
  });

  it('fails the start naming connector and key: a minimum above the latest version', async () => {
    const danube = await startDanube();
    const subject = uniqueSubject('min');
    expect(await startFailure(danube, { subject, type: 'string', version: { minimum: 2 } })).toContain(`routes/0/schema/version: subject "${subject}" is at version 1, below the minimum 2`);
  });

  it('fails the start naming connector and key: a file that is not the version the messages would carry', async () => {
    const danube = await startDanube();
    const subject = uniqueSubject('differs');
    await danube.client.schemaRegistry.register({ subject, type: 'json_schema', definition: JSON.stringify(ORDER_V1) });
    await danube.client.schemaRegistry.register({ subject, type: 'json_schema', definition: JSON.stringify(ORDER_V2) });
    // The file is version 1 again, but "latest" is 2: checking against one and stamping the other would lie.
    expect(await startFailure(danube, { subject, type: 'json_schema', file: writeFile(JSON.stringify(ORDER_V1)) })).toContain(
      `routes/0/schema/file: differs from version 2 of subject "${subject}" (the file is version 1), which the messages would carry (version latest); pin the version the file holds, or update the file`,
    );
    expect(await startFailure(danube, { subject, type: 'json_schema', file: writeFile(JSON.stringify({ type: 'object' })), auto_register: false })).toContain(
      `routes/0/schema/file: differs from version 2 of subject "${subject}", which the messages would carry (version latest); set auto_register = true`,
    );
  });

  it('fails the start naming connector and key: a changed file the subject\'s compatibility mode refuses', async () => {
    const danube = await startDanube();
    const subject = uniqueSubject('incompatible');
    await danube.client.schemaRegistry.register({ subject, type: 'json_schema', definition: JSON.stringify(ORDER_V1) });
    const changed = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } }; // backward: a type change is refused
    expect(await startFailure(danube, { subject, type: 'json_schema', file: writeFile(JSON.stringify(changed)) })).toContain(
      `routes/0/schema/file: the schema registry refused it for subject "${subject}"`,
    );
  });

  it('fails the start naming connector and key: a subject registered with another type', async () => {
    const danube = await startDanube();
    const subject = uniqueSubject('typed');
    await danube.client.schemaRegistry.register({ subject, type: 'string' });
    expect(await startFailure(danube, { subject, type: 'number', auto_register: false })).toContain(`routes/0/schema/type: version 1 of subject "${subject}" is of type string, not number`);
  });

  it('fails at create naming connector and key: a schema file that cannot be read', async () => {
    const danube = await startDanube();
    const message = await startFailure(danube, { subject: 'x', type: 'json_schema', file: join(dir, 'absent.json') });
    expect(message).toContain(`routes/0/schema/file: cannot read the file ${join(dir, 'absent.json')} (ENOENT)`);
  });
});

describe('dead letters and the PUBACK', () => {
  // Needs TestBroker fault injection (goOffline / comeBackOnline): skipped against DANUBE_SERVICE_URL.
  itWithTestBroker('an invalid message is PUBACKed only once its dead letter is in Danube: none leaves while Danube is away (TestBroker offline), nor for the valid one behind it', async () => {
    const danube = await startDanube();
    const broker = danube.broker as NonNullable<Danube['broker']>;
    const topic = uniqueTopic('held');
    const dlq = uniqueTopic('dlq');
    const mqtt = await ScriptedBroker.start();
    const child = await startSource(danube, { url: mqtt.url, keepalive_s: 1, routes: [{ from: 'w/#', to: topic, schema: { subject: uniqueSubject('held'), type: 'number' } }] }, { runtime: { deadLetterTopic: dlq } });
    await mqtt.until(() => mqtt.count('subscribe') >= 1);
    await broker.goOffline();
    const sentAt = performance.now();
    mqtt.publish('w/1', 'three', 1, 1); // 5 bytes: not a number
    mqtt.publish('w/2', double(1), 1, 2);
    for (;;) {
      if ((await child.ping()).stats.received >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Two keep-alive rounds with both messages in the connector and Danube away: the dead letter is being retried.
    await mqtt.until(() => mqtt.count('pingreq', sentAt) >= 2);
    expect(mqtt.pubacks(), 'PUBACKs while the dead letter cannot be written').toEqual([]);
    expect((await child.ping()).stats).toMatchObject({ received: 2, deadLettered: 0, processed: 0 });
    const storedAtPuback: number[] = [];
    await broker.comeBackOnline();
    await mqtt.until(() => {
      const acks = mqtt.pubacks();
      if (acks.length > storedAtPuback.length) storedAtPuback.push(broker.storedMessages(dlq).length);
      return acks.length >= 2;
    }, 30_000);
    expect(mqtt.pubacks()).toEqual([1, 2]);
    expect(storedAtPuback[0], 'the dead letter was in Danube when the first PUBACK arrived').toBe(1);
    expect(broker.storedMessages(dlq).map((m) => [m.payload.toString(), m.attributes['dc.errors.code']])).toEqual([['three', 'DC_ERR_MQTT_PAYLOAD_INVALID']]);
    expect(broker.storedMessages(topic).map((m) => m.payload)).toEqual([double(1)]);
    expect(mqtt.closed).toBe(0);
    await child.stop(10_000);
  });
});
