import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { TestCluster } from '../src/index.js';
import { expectStatus, openConsumer, openProducer, producerRequest, RawClients, startBroker } from './helpers.js';

const ORDER_V1 = { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] };
const ORDER_V2 = { type: 'object', properties: { id: { type: 'string' }, qty: { type: 'number' } }, required: ['id'] };

function registerRequest(subject: string, definition: unknown, schemaType = 'json_schema') {
  return {
    subject,
    schema_type: schemaType,
    schema_definition: Buffer.from(typeof definition === 'string' ? definition : JSON.stringify(definition)),
    description: 'd',
    created_by: 'tester',
    tags: ['t1'],
  };
}

async function setup() {
  const broker = await startBroker();
  const clients = new RawClients(broker.serviceUrl);
  const register = (subject: string, definition: unknown, schemaType?: string) =>
    clients.schema('RegisterSchema', registerRequest(subject, definition, schemaType));
  return { broker, clients, register };
}

describe('schema registry model (docs/danube-protocol.md §10.1, §10.6)', () => {
  it('allocates one schema_id per subject, versions 1..n, and de-duplicates identical definitions', async () => {
    const { register } = await setup();
    const first = await register('orders', ORDER_V1);
    expect(first).toMatchObject({ version: 1, is_new_version: true });
    expect(first.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    // Same schema, other key order and spacing: the canonical JSON is the same.
    const same = await register('orders', '{ "required": ["id"], "type": "object", "properties": {"id": {"type": "string"}} }', 'JSON');
    expect(same).toEqual({ schema_id: first.schema_id, version: 1, is_new_version: false, fingerprint: first.fingerprint });
    const second = await register('orders', ORDER_V2);
    expect(second).toMatchObject({ schema_id: first.schema_id, version: 2, is_new_version: true });
    const other = await register('payments', ORDER_V1);
    expect(BigInt(other.schema_id)).toBe(BigInt(first.schema_id) + 1n);
  });

  it('checks backward compatibility by default and skips it with mode none', async () => {
    const { clients, register } = await setup();
    await register('orders', ORDER_V1);
    // The broker accepts a brand-new required field under backward (docs/danube-protocol.md §10.1); an optional one made
    // required is refused.
    const optional = { type: 'object', properties: { id: { type: 'string' }, note: { type: 'string' } }, required: ['id'] };
    expect((await register('orders', optional)).version).toBe(2);
    await expectStatus(register('orders', { ...optional, required: ['id', 'note'] }), status.INTERNAL, /^Failed to register schema: .*note/);
    expect((await register('orders', { ...optional, properties: { ...optional.properties, qty: { type: 'number' } }, required: ['id', 'qty'] })).version).toBe(3);
    const changesType = { type: 'object', properties: { id: { type: 'number' } }, required: ['id'] };
    await expectStatus(register('orders', changesType), status.INTERNAL, /changed type/);
    expect(await clients.schema('SetCompatibilityMode', { subject: 'orders', compatibility_mode: 'NONE' })).toMatchObject({ success: true });
    expect((await register('orders', changesType)).version).toBe(4);
  });

  it('rejects unknown types and invalid definitions with INTERNAL', async () => {
    const { register } = await setup();
    await expectStatus(register('s', ORDER_V1, 'xml'), status.INTERNAL, /^Failed to register schema/);
    await expectStatus(register('s', '{not json'), status.INTERNAL);
    await expectStatus(register('s', { type: 12 }), status.INTERNAL, /invalid JSON Schema/);
    await expectStatus(register('s', '{"type": "record"}', 'avro'), status.INTERNAL);
    await expectStatus(register('s', 'syntax = "proto3";', 'proto'), status.INTERNAL);
  });

  it('accepts type aliases and returns canonical names and literal fingerprints for primitive types', async () => {
    const { clients, register } = await setup();
    expect((await register('n', '', 'int64')).fingerprint).toBe('number');
    expect((await register('s', '', 'String')).fingerprint).toBe('string');
    expect((await register('b', '', 'bytes')).fingerprint).toBe('bytes');
    expect((await register('n', '', 'double')).is_new_version).toBe(false);
    await register('a', '{"type":"record","name":"R","fields":[{"name":"x","type":"int"}]}', 'avro');
    await register('p', 'syntax = "proto3"; message Order { string id = 1; }', 'proto');
    const subjects = (await clients.schema('ListSubjects', {})).subjects;
    expect(subjects.map((s: { subject: string; schema_type: string }) => [s.subject, s.schema_type])).toEqual([
      ['n', 'number'],
      ['s', 'string'],
      ['b', 'bytes'],
      ['a', 'avro'],
      ['p', 'protobuf'],
    ]);
    expect(subjects[0]).toMatchObject({ latest_version: 1, compatibility_mode: 'backward', tags: ['t1'] });
  });
});

describe('schema registry reads (docs/danube-protocol.md §10.4)', () => {
  it('returns the wrapped definition envelope from GetSchema and GetLatestSchema', async () => {
    const { clients, register } = await setup();
    const v1 = await register('orders', ORDER_V1);
    await register('orders', ORDER_V2);
    const latest = await clients.schema('GetLatestSchema', { subject: 'orders' });
    expect(latest).toMatchObject({
      schema_id: v1.schema_id,
      version: 2,
      subject: 'orders',
      schema_type: 'json_schema',
      description: 'd',
      created_by: 'tester',
      tags: ['t1'],
      compatibility_mode: 'backward',
    });
    expect(Number(latest.created_at)).toBeGreaterThan(1_600_000_000);
    expect(Number(latest.created_at)).toBeLessThan(Date.now() / 1000 + 1);
    const first = await clients.schema('GetSchema', { schema_id: v1.schema_id, version: 1 });
    expect(JSON.parse(first.schema_definition.toString())).toEqual({
      JsonSchema: { raw_schema: JSON.stringify(ORDER_V1), fingerprint: v1.fingerprint },
    });
    expect((await clients.schema('GetSchema', { schema_id: v1.schema_id })).version).toBe(2);
    const bytes = await register('raw', '', 'bytes');
    expect((await clients.schema('GetSchema', { schema_id: bytes.schema_id })).schema_definition.toString()).toBe('"Bytes"');
    await expectStatus(clients.schema('GetSchema', { schema_id: '999' }), status.NOT_FOUND);
    await expectStatus(clients.schema('GetSchema', { schema_id: v1.schema_id, version: 9 }), status.NOT_FOUND);
    await expectStatus(clients.schema('GetLatestSchema', { subject: 'nope' }), status.NOT_FOUND);
    await expectStatus(clients.schema('ListVersions', { subject: 'nope' }), status.NOT_FOUND);
  });

  it('lists and deletes versions', async () => {
    const { clients, register } = await setup();
    await register('orders', ORDER_V1);
    await register('orders', ORDER_V2);
    const versions = (await clients.schema('ListVersions', { subject: 'orders' })).versions;
    expect(versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    expect(versions[0]).toMatchObject({ created_by: 'tester', description: 'd' });
    expect(await clients.schema('DeleteSchemaVersion', { subject: 'orders', version: 1 })).toMatchObject({ success: true });
    expect((await clients.schema('ListVersions', { subject: 'orders' })).versions).toHaveLength(1);
    await expectStatus(clients.schema('DeleteSchemaVersion', { subject: 'orders', version: 1 }), status.INTERNAL);
    await expectStatus(clients.schema('DeleteSchemaVersion', { subject: 'nope', version: 1 }), status.INTERNAL);
  });

  it('checks compatibility without registering', async () => {
    const { clients, register } = await setup();
    await register('orders', ORDER_V1);
    const check = (definition: unknown, mode?: string) =>
      clients.schema('CheckCompatibility', {
        subject: 'orders',
        new_schema_definition: Buffer.from(JSON.stringify(definition)),
        schema_type: 'json_schema',
        ...(mode === undefined ? {} : { compatibility_mode: mode }),
      });
    expect(await check(ORDER_V2)).toEqual({ is_compatible: true, errors: [] });
    // A brand-new required field: backward accepts it, forward refuses it (docs/danube-protocol.md §10.1).
    const addsRequired = { ...ORDER_V2, required: ['id', 'qty'] };
    expect((await check(addsRequired)).is_compatible).toBe(true);
    const forward = await check(addsRequired, 'forward');
    expect(forward.is_compatible).toBe(false);
    expect(forward.errors[0]).toMatch(/qty/);
    expect((await check(addsRequired, 'full')).is_compatible).toBe(false);
    expect((await check(addsRequired, 'none')).is_compatible).toBe(true);
    // Dropping a required property: backward refuses it, forward does not look.
    expect((await check({ type: 'object', properties: {} }, 'backward')).is_compatible).toBe(false);
    expect((await check({ type: 'object', properties: {} }, 'forward')).is_compatible).toBe(true);
    await expectStatus(
      clients.schema('CheckCompatibility', { subject: 'nope', new_schema_definition: Buffer.from('{}'), schema_type: 'json_schema' }),
      status.INTERNAL,
    );
    await expectStatus(
      clients.schema('CheckCompatibility', { subject: 'orders', new_schema_definition: Buffer.from('{'), schema_type: 'json_schema' }),
      status.INTERNAL,
    );
  });

  it('validates compatibility modes', async () => {
    const { clients, register } = await setup();
    await register('orders', ORDER_V1);
    await expectStatus(clients.schema('SetCompatibilityMode', { subject: 'orders', compatibility_mode: 'sideways' }), status.INVALID_ARGUMENT);
    await expectStatus(clients.schema('SetCompatibilityMode', { subject: 'nope', compatibility_mode: 'full' }), status.INTERNAL);
    await clients.schema('SetCompatibilityMode', { subject: 'orders', compatibility_mode: 'Full' });
    expect((await clients.schema('GetLatestSchema', { subject: 'orders' })).compatibility_mode).toBe('full');
  });

  it('is shared by the admin port and by every broker of the cluster', async () => {
    const cluster = new TestCluster();
    const one = await startBroker({ cluster });
    const two = await startBroker({ cluster });
    await new RawClients(one.adminUrl).schema('RegisterSchema', registerRequest('shared', ORDER_V1));
    expect((await new RawClients(two.serviceUrl).schema('GetLatestSchema', { subject: 'shared' })).version).toBe(1);
  });
});

describe('topic schema configuration and validation on publish (docs/danube-protocol.md §8.1, §10.3, §10.5)', () => {
  it('checks schema_ref subjects on CreateProducer', async () => {
    const { clients, register } = await setup();
    const withRef = (topic: string, subject: string, name = 'p1') =>
      clients.danube('ProducerService', 'CreateProducer', producerRequest(topic, { producer_name: name, schema_ref: { subject, use_latest: true } }));
    await expectStatus(withRef('/default/typed', 'unregistered'), status.FAILED_PRECONDITION);
    await register('orders', ORDER_V1);
    await register('other', ORDER_V1);
    await withRef('/default/typed', 'orders');
    // Auto-creation records the subject in metadata; the live topic adopts it on the next schema_ref producer.
    const config = () => clients.schema('GetTopicSchemaConfig', { topic_name: '/default/typed' });
    expect(await config()).toEqual({ schema_subject: '', validation_policy: 'warn', enable_payload_validation: false, schema_id: '0' });
    await expectStatus(withRef('/default/typed', 'other', 'p2'), status.FAILED_PRECONDITION, /only an admin/);
    await withRef('/default/typed', 'orders', 'p2');
    expect((await config()).schema_subject).toBe('orders');
  });

  it('configures topics on their owner only, with the documented errors', async () => {
    const { broker, clients, register } = await setup();
    broker.createTopic('/default/conf');
    const configure = (overrides: Record<string, unknown>) =>
      clients.schema('ConfigureTopicSchema', {
        topic_name: '/default/conf',
        schema_subject: 'orders',
        validation_policy: 'Enforce',
        enable_payload_validation: true,
        ...overrides,
      });
    await expectStatus(
      clients.schema('UpdateTopicValidationPolicy', { topic_name: '/default/conf', validation_policy: 'warn', enable_payload_validation: false }),
      status.FAILED_PRECONDITION,
    );
    await expectStatus(configure({}), status.NOT_FOUND);
    const { schema_id } = await register('orders', ORDER_V1);
    await expectStatus(configure({ topic_name: '/default/elsewhere' }), status.NOT_FOUND, /not found on this broker/);
    await expectStatus(configure({ validation_policy: 'strict' }), status.INVALID_ARGUMENT);
    expect(await configure({})).toMatchObject({ success: true });
    expect(await clients.schema('GetTopicSchemaConfig', { topic_name: '/default/conf' })).toEqual({
      schema_subject: 'orders',
      validation_policy: 'enforce',
      enable_payload_validation: true,
      schema_id,
    });
    await clients.schema('UpdateTopicValidationPolicy', { topic_name: '/default/conf', validation_policy: 'NONE', enable_payload_validation: false });
    expect((await clients.schema('GetTopicSchemaConfig', { topic_name: '/default/conf' })).validation_policy).toBe('none');
    await expectStatus(clients.schema('GetTopicSchemaConfig', { topic_name: '/default/elsewhere' }), status.NOT_FOUND);
  });

  it('applies warn and enforce to schema ids as documented', async () => {
    const { broker, clients, register } = await setup();
    const orders = await register('orders', ORDER_V1);
    const other = await register('other', ORDER_V1);
    broker.createTopic('/default/checked', { schemaSubject: 'orders' });
    const producer = await openProducer(clients, '/default/checked');
    const payload = JSON.stringify({ id: 'x' });
    const policy = (validation_policy: string) =>
      clients.schema('UpdateTopicValidationPolicy', { topic_name: '/default/checked', validation_policy, enable_payload_validation: false });
    // Default policy warn: missing and foreign ids pass, unknown ids never do.
    await producer.send(payload);
    await producer.send(payload, { schema_id: other.schema_id });
    await expectStatus(producer.send(payload, { schema_id: '4242' }), status.PERMISSION_DENIED, /^Unable to publish the message: /);
    await policy('enforce');
    await expectStatus(producer.send(payload), status.PERMISSION_DENIED);
    await expectStatus(producer.send(payload, { schema_id: other.schema_id }), status.PERMISSION_DENIED);
    await expectStatus(producer.send(payload, { schema_id: '4242' }), status.PERMISSION_DENIED);
    await producer.send(payload, { schema_id: orders.schema_id, schema_version: 1 });
    await policy('none');
    await producer.send(payload, { schema_id: '4242' });
  });

  it('validates payloads against the message version (1 when absent) when enabled', async () => {
    const { broker, clients, register } = await setup();
    const { schema_id } = await register('orders', ORDER_V1);
    await register('orders', ORDER_V2);
    broker.createTopic('/default/payloads', { dispatch: 'reliable' });
    await clients.schema('ConfigureTopicSchema', {
      topic_name: '/default/payloads',
      schema_subject: 'orders',
      validation_policy: 'enforce',
      enable_payload_validation: true,
    });
    const producer = await openProducer(clients, '/default/payloads', { dispatch_strategy: 'Reliable' });
    const consumer = await openConsumer(clients, '/default/payloads');
    const send = (value: unknown, version?: number) =>
      producer.send(typeof value === 'string' ? value : JSON.stringify(value), {
        schema_id,
        ...(version === undefined ? {} : { schema_version: version }),
      });
    await send({ id: 'a', qty: 'many' });
    await expectStatus(send({ id: 'a', qty: 'many' }, 2), status.PERMISSION_DENIED, /Payload validation failed/);
    await expectStatus(send({ qty: 1 }, 1), status.PERMISSION_DENIED, /Payload validation failed/);
    await expectStatus(send('{oops', 1), status.PERMISSION_DENIED, /not valid JSON/);
    await expectStatus(send({ id: 'a' }, 7), status.PERMISSION_DENIED, /^Unable to publish the message: Schema version not found: version 7 of subject orders$/);
    await send({ id: 'b', qty: 2 }, 2);
    // Under warn a failing payload is accepted (only logged by the broker).
    await clients.schema('UpdateTopicValidationPolicy', { topic_name: '/default/payloads', validation_policy: 'warn', enable_payload_validation: true });
    await send({ qty: 1 }, 1);
    const received = await consumer.reader.take(3);
    expect(received.map((m) => [m.schema_id, m.schema_version])).toEqual([
      [schema_id, undefined],
      [schema_id, 2],
      [schema_id, 1],
    ]);
    expect(broker.storedMessages('/default/payloads').map((m) => m.schemaId)).toEqual([schema_id, schema_id, schema_id]);
  });

  it('validates string and number payloads', async () => {
    const { broker, clients, register } = await setup();
    for (const [subject, type] of [
      ['text', 'string'],
      ['num', 'number'],
    ] as const) {
      await register(subject, '', type);
      broker.createTopic(`/default/${subject}`);
      await clients.schema('ConfigureTopicSchema', {
        topic_name: `/default/${subject}`,
        schema_subject: subject,
        validation_policy: 'enforce',
        enable_payload_validation: true,
      });
    }
    const idOf = async (subject: string) => (await clients.schema('GetLatestSchema', { subject })).schema_id as string;
    const text = await openProducer(clients, '/default/text');
    await text.send('héllo', { schema_id: await idOf('text') });
    await expectStatus(text.send(Buffer.from([0xff, 0xfe]), { schema_id: await idOf('text') }), status.PERMISSION_DENIED, /UTF-8/);
    const num = await openProducer(clients, '/default/num');
    await num.send(Buffer.alloc(8), { schema_id: await idOf('num') });
    await num.send(Buffer.alloc(4), { schema_id: await idOf('num') });
    await expectStatus(num.send(Buffer.alloc(3), { schema_id: await idOf('num') }), status.PERMISSION_DENIED, /4 or 8 bytes/);
  });
});
