import { describe, expect, it } from 'vitest';
import { collect, startTarget, uniqueName, uniqueTopic } from './target.js';

const v1 = { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' } }, required: ['id'] };
const v2 = { ...v1, properties: { ...v1.properties, note: { type: 'string' } } };
// `name` was optional in v1 and becomes required: what `backward` refuses (docs/danube-protocol.md §10.1).
const incompatible = { ...v1, required: ['id', 'name'] };

describe('schema registry (docs/danube-protocol.md §4, §10)', () => {
  it('registers versions, dedupes identical definitions, and returns the original text', async () => {
    const target = await startTarget();
    const registry = target.client().schemaRegistry;
    const subject = uniqueName('orders-value');
    const first = await registry.register({ subject, type: 'json_schema', definition: JSON.stringify(v1), description: 'v1' });
    expect(first).toMatchObject({ version: 1, isNewVersion: true });
    expect(first.schemaId).toMatch(/^\d+$/);
    expect(first.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    const same = await registry.register({ subject, type: 'json_schema', definition: JSON.stringify(v1) });
    expect(same).toMatchObject({ schemaId: first.schemaId, version: 1, isNewVersion: false });
    const second = await registry.register({ subject, type: 'json_schema', definition: JSON.stringify(v2) });
    expect(second).toMatchObject({ schemaId: first.schemaId, version: 2, isNewVersion: true });

    const latest = await registry.getLatest(subject);
    expect(latest).toMatchObject({ schemaId: first.schemaId, version: 2, subject, type: 'json_schema', compatibilityMode: 'backward' });
    expect(JSON.parse(latest.definition)).toEqual(v2);
    const old = await registry.get(first.schemaId, 1);
    expect(JSON.parse(old.definition)).toEqual(v1);
    expect((await registry.listVersions(subject)).map((v) => v.version)).toEqual([1, 2]);
  });

  it('refuses an incompatible version under the default backward mode, and accepts it with mode none', async () => {
    const target = await startTarget();
    const registry = target.client().schemaRegistry;
    const subject = uniqueName('compat');
    await registry.register({ subject, type: 'json_schema', definition: JSON.stringify(v1) });
    const check = await registry.checkCompatibility(subject, 'json_schema', JSON.stringify(incompatible));
    expect(check.compatible).toBe(false);
    expect(check.errors.length).toBeGreaterThan(0);
    await expect(registry.register({ subject, type: 'json_schema', definition: JSON.stringify(incompatible) })).rejects.toMatchObject({ code: 'DC_ERR_SCHEMA' });
    await registry.setCompatibilityMode(subject, 'none');
    await expect(registry.register({ subject, type: 'json_schema', definition: JSON.stringify(incompatible) })).resolves.toMatchObject({ version: 2 });
  });

  // The broker's JSON Schema rules (docs/danube-protocol.md §10.1), which differ from Confluent's: a brand-new required field is
  // backward compatible, and only forward refuses it.
  it.each([
    ['a brand-new required field', { ...v1, properties: { ...v1.properties, owner: { type: 'string' } }, required: ['id', 'owner'] }, { backward: true, forward: false }],
    ['an optional field made required', { ...v1, required: ['id', 'name'] }, { backward: false, forward: true }],
    ['a required field removed', { ...v1, properties: { name: { type: 'string' } }, required: [] }, { backward: false, forward: true }],
    ['a changed property type', { ...v1, properties: { ...v1.properties, name: { type: 'integer' } } }, { backward: false, forward: false }],
    ['a new optional field', v2, { backward: true, forward: true }],
  ])('JSON Schema compatibility of %s', async (_what, candidate, expected) => {
    const target = await startTarget();
    const registry = target.client().schemaRegistry;
    const subject = uniqueName('rules');
    await registry.register({ subject, type: 'json_schema', definition: JSON.stringify(v1) });
    const verdict = async (mode: 'backward' | 'forward' | 'full') =>
      (await registry.checkCompatibility(subject, 'json_schema', JSON.stringify(candidate), mode)).compatible;
    expect({ backward: await verdict('backward'), forward: await verdict('forward') }).toEqual(expected);
    expect(await verdict('full')).toBe(expected.backward && expected.forward);
    // Registering checks the subject's mode (backward for new subjects) the same way.
    const registered = registry.register({ subject, type: 'json_schema', definition: JSON.stringify(candidate) });
    if (expected.backward) await expect(registered).resolves.toMatchObject({ version: 2 });
    else await expect(registered).rejects.toMatchObject({ code: 'DC_ERR_SCHEMA' });
  });

  it('rejects an invalid schema and reports unknown subjects as not found', async () => {
    const target = await startTarget();
    const registry = target.client().schemaRegistry;
    await expect(registry.register({ subject: uniqueName('bad'), type: 'json_schema', definition: '{not json' })).rejects.toMatchObject({ code: 'DC_ERR_SCHEMA' });
    await expect(registry.getLatest(uniqueName('missing'))).rejects.toMatchObject({ code: 'DC_ERR_NOT_FOUND' });
  });

  it('registers the primitive types', async () => {
    const registry = (await startTarget()).client().schemaRegistry;
    for (const type of ['string', 'bytes', 'number'] as const) {
      const subject = uniqueName(type);
      const registered = await registry.register({ subject, type });
      expect(registered).toMatchObject({ version: 1, fingerprint: type });
      expect(await registry.getLatest(subject)).toMatchObject({ type, definition: '' });
      expect((await registry.listSubjects()).find((s) => s.subject === subject)).toMatchObject({ type, latestVersion: 1 });
    }
  });

  it('a producer with a schema reference stamps schema id and version on every message', async () => {
    const target = await startTarget();
    const client = target.client();
    const subject = uniqueName('events');
    const registered = await client.schemaRegistry.register({ subject, type: 'json_schema', definition: JSON.stringify(v1) });
    await client.schemaRegistry.register({ subject, type: 'json_schema', definition: JSON.stringify(v2) });
    const topic = uniqueTopic('schema');
    const pinned = await client.createProducer({ topic, name: uniqueName('p1'), schema: { subject, version: { pinned: 1 } } });
    const latest = await client.createProducer({ topic, name: uniqueName('p2'), schema: { subject } });
    const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: uniqueName('s') });
    await pinned.send(JSON.stringify({ id: 1 }));
    await latest.send(JSON.stringify({ id: 2, note: 'x' }));
    const [a, b] = await collect(consumer, 2);
    expect([a!.schemaId, a!.schemaVersion]).toEqual([registered.schemaId, 1]);
    expect([b!.schemaId, b!.schemaVersion]).toEqual([registered.schemaId, 2]);
  });

  it('producer creation fails for a missing minimum version or an unregistered subject', async () => {
    const target = await startTarget();
    const client = target.client();
    const subject = uniqueName('min');
    await client.schemaRegistry.register({ subject, type: 'json_schema', definition: JSON.stringify(v1) });
    await expect(client.createProducer({ topic: uniqueTopic('min'), name: uniqueName('p'), schema: { subject, version: { min: 3 } } })).rejects.toMatchObject({
      code: 'DC_ERR_SCHEMA',
    });
    // The reference clients resolve the subject before CreateProducer (docs/danube-protocol.md §10.2): GetLatestSchema's NOT_FOUND
    // fails creation, and no topic is created.
    const nobody = uniqueName('nobody');
    const unregistered = uniqueTopic('unreg');
    const failure = await client.createProducer({ topic: unregistered, name: uniqueName('p'), schema: { subject: nobody } }).catch((err: unknown) => err);
    expect(failure).toMatchObject({ code: 'DC_ERR_SCHEMA', retryable: false });
    expect((failure as Error).message).toContain(`schema subject ${nobody} is not registered`);
    expect(await client.topicPartitions(unregistered)).toEqual([]);
  });

  it('with enforce and payload validation the broker rejects a payload that breaks the schema', async () => {
    const target = await startTarget();
    const client = target.client();
    const subject = uniqueName('strict');
    await client.schemaRegistry.register({ subject, type: 'json_schema', definition: JSON.stringify(v1) });
    const topic = uniqueTopic('strict');
    const producer = await client.createProducer({ topic, name: uniqueName('p'), schema: { subject } });
    await client.schemaRegistry.configureTopic(topic, subject, 'enforce', true);
    expect(await client.schemaRegistry.topicConfig(topic)).toMatchObject({ subject, validationPolicy: 'enforce', payloadValidation: true });
    await expect(producer.send(JSON.stringify({ id: 7 }))).resolves.toBeDefined();
    await expect(producer.send(JSON.stringify({ name: 'no id' }))).rejects.toMatchObject({ code: 'DC_ERR_PAYLOAD_INVALID', retryable: false });
  });
});
