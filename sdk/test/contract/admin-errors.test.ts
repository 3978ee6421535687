import { describe, expect, it } from 'vitest';
import { collect, EXTERNAL, itWithTestBroker, startTarget, text, uniqueName, uniqueTopic } from './target.js';

// Against an external broker (DANUBE_SERVICE_URL) the admin cases need its admin port: skipped without DANUBE_ADMIN_URL.
const withAdmin = it.skipIf(EXTERNAL && !process.env.DANUBE_ADMIN_URL);

describe('admin client (docs/danube-protocol.md §13)', () => {
  withAdmin('creates namespaces and topics and lists them', async () => {
    const target = await startTarget();
    const admin = target.admin();
    const ns = uniqueName('ns').replace(/-/g, '_');
    expect(await admin.createNamespace(ns)).toBe(true);
    expect(await admin.createNamespace(ns)).toBe(false);
    expect(await admin.listNamespaces()).toEqual(expect.arrayContaining(['default', ns]));
    expect(await admin.ensureNamespaces([ns, 'default'])).toEqual([]);
    await admin.createTopic(`/${ns}/plain`, { dispatch: 'reliable' });
    await admin.createPartitionedTopic(`/${ns}/parts`, 3, { dispatch: 'non_reliable' });
    const topics = await admin.listTopics(ns);
    expect(topics.map((t) => t.name).sort()).toEqual([`/${ns}/parts-part-0`, `/${ns}/parts-part-1`, `/${ns}/parts-part-2`, `/${ns}/plain`]);
    expect(topics.find((t) => t.name === `/${ns}/plain`)?.delivery).toBe('Reliable');
    const client = target.client();
    const producer = await client.createProducer({ topic: `/${ns}/plain`, name: uniqueName('p') });
    const consumer = await client.subscribe({ topic: `/${ns}/plain`, name: uniqueName('c'), subscription: uniqueName('s') });
    await producer.send('in a new namespace');
    expect((await collect(consumer, 1)).map(text)).toEqual(['in a new namespace']);
  });
});

describe('creating missing namespaces', () => {
  withAdmin('with createNamespacesVia a producer in a missing namespace creates it and goes on', async () => {
    const target = await startTarget();
    const namespace = uniqueName('auto').replace(/-/g, '_');
    const client = target.client({ createNamespacesVia: target.adminUrl! });
    const topic = `/${namespace}/events`;
    const producer = await client.createProducer({ topic, name: uniqueName('p') });
    const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: uniqueName('s') });
    await producer.send('in a namespace created on demand');
    expect((await collect(consumer, 1)).map(text)).toEqual(['in a namespace created on demand']);
    expect(await target.admin().listNamespaces()).toContain(namespace);
  });
});

describe('errors only the broker can report', () => {
  it('a producer in a missing namespace fails fast with DC_ERR_NAMESPACE_NOT_FOUND naming it', async () => {
    const target = await startTarget();
    const client = target.client({ retry: { maxRetries: Infinity, initialDelayMs: 10, maxDelayMs: 50 } });
    const namespace = uniqueName('missing').replace(/-/g, '_');
    const error = await client.createProducer({ topic: `/${namespace}/t`, name: uniqueName('p') }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DC_ERR_NAMESPACE_NOT_FOUND', retryable: false });
    expect((error as Error).message).toContain(`namespace "${namespace}" does not exist`);
  });

  it('subscribing to a topic nobody created fails with DC_ERR_TOPIC_NOT_FOUND', async () => {
    const target = await startTarget();
    await expect(target.client().subscribe({ topic: uniqueTopic('nobody'), name: uniqueName('c'), subscription: uniqueName('s') })).rejects.toMatchObject({
      code: 'DC_ERR_TOPIC_NOT_FOUND',
    });
  });

  it('a producer whose dispatch strategy differs from the topic is refused with DC_ERR_PRECONDITION', async () => {
    const target = await startTarget();
    const client = target.client();
    const topic = uniqueTopic('mismatch');
    await client.createProducer({ topic, name: uniqueName('p'), dispatch: 'reliable' });
    await expect(client.createProducer({ topic, name: uniqueName('q'), dispatch: 'non_reliable' })).rejects.toMatchObject({ code: 'DC_ERR_PRECONDITION' });
  });

  it('a payload over the local max_message_bytes fails before it is sent', async () => {
    const target = await startTarget();
    const producer = await target.client().createProducer({ topic: uniqueTopic('local-limit'), name: uniqueName('p'), maxMessageBytes: 100 });
    await expect(producer.send(Buffer.alloc(101))).rejects.toMatchObject({ code: 'DC_ERR_MESSAGE_TOO_LARGE', message: expect.stringContaining('max_message_bytes 100') });
    await expect(producer.send(Buffer.alloc(100))).resolves.toBeDefined();
  });

  itWithTestBroker('a payload over the broker policy is refused with DC_ERR_MESSAGE_TOO_LARGE naming the limit', async () => {
    const target = await startTarget({ maxMessageSize: 1024 });
    const producer = await target.client().createProducer({ topic: uniqueTopic('broker-limit'), name: uniqueName('p') });
    const error = await producer.send(Buffer.alloc(2048)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DC_ERR_MESSAGE_TOO_LARGE', retryable: false });
    expect((error as Error).message).toContain('1024');
    await expect(producer.send(Buffer.alloc(1024))).resolves.toBeDefined();
  });

  it('a connection refused is retryable DC_ERR_UNAVAILABLE after the retries', async () => {
    const { DanubeClient } = await import('../../src/danube/danube-client.js');
    const { unusedLoopbackUrl } = await import('@danube-connect/testing');
    const client = new DanubeClient({ serviceUrl: await unusedLoopbackUrl(), retry: { maxRetries: 1, initialDelayMs: 10 }, requestTimeoutMs: 2_000 });
    try {
      await expect(client.createProducer({ topic: '/default/t', name: 'p' })).rejects.toMatchObject({ code: 'DC_ERR_UNAVAILABLE', retryable: true });
    } finally {
      await client.close(100);
    }
  });
});
