import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { DanubeClient } from '../../src/danube/danube-client.js';
import { TestBroker, TestCluster } from '@danube-connect/testing';
import { collect, itWithTestBroker, startTarget, text, TRANSPORT, uniqueName, uniqueTopic } from './target.js';

// Everything here needs a second broker, an auth or a TLS configuration of the broker: TestBroker only.
describe('lookup redirect between two brokers (docs/danube-protocol.md §7)', () => {
  itWithTestBroker('a client of broker A is redirected to broker B, which owns the topic', async () => {
    const cluster = new TestCluster();
    const a = await TestBroker.start({ cluster });
    const b = await TestBroker.start({ cluster });
    try {
      const topic = uniqueTopic('owned-by-b');
      b.createTopic(topic, { dispatch: 'reliable' });
      const client = new DanubeClient({ serviceUrl: a.serviceUrl, transport: TRANSPORT, retry: { initialDelayMs: 10, maxDelayMs: 100 } });
      try {
        expect(await client.lookupTopic(topic)).toMatchObject({ connectUrl: b.serviceUrl, brokerUrl: b.brokerUrl, proxy: false });
        const producer = await client.createProducer({ topic, name: uniqueName('p') });
        const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: uniqueName('s') });
        await producer.send('via redirect');
        expect((await collect(consumer, 1)).map(text)).toEqual(['via redirect']);
        expect(b.storedMessages(topic).map((m) => m.payload.toString())).toEqual(['via redirect']);
      } finally {
        await client.close(1_000);
      }
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  itWithTestBroker('behind a proxy (connect URL differs from broker URL) topic RPCs carry x-danube-broker-url', async () => {
    // Advertise the same port under another host name: lookups then answer proxy = true (docs/danube-protocol.md §7.1).
    const probe = await TestBroker.start();
    const port = new URL(probe.serviceUrl).port;
    await probe.stop();
    const target = await startTarget({ port: Number(port), connectUrl: `http://localhost:${port}` });
    const client = target.client();
    const topic = uniqueTopic('proxied');
    target.broker!.createTopic(topic, { dispatch: 'reliable' });
    expect(await client.lookupTopic(topic)).toEqual({ connectUrl: `http://localhost:${port}`, brokerUrl: target.serviceUrl, proxy: true });
    const producer = await client.createProducer({ topic, name: uniqueName('p') });
    const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: uniqueName('s') });
    await producer.send('through the proxy');
    expect((await collect(consumer, 1)).map(text)).toEqual(['through the proxy']);
    expect([...target.broker!.proxyHeaders]).toEqual([target.serviceUrl]);
  });

  itWithTestBroker('a topic unknown to lookup is created on the service URL broker', async () => {
    const target = await startTarget();
    const client = target.client();
    const topic = uniqueTopic('fresh');
    expect(await client.lookupTopic(topic)).toEqual({ connectUrl: target.serviceUrl, brokerUrl: target.serviceUrl, proxy: false });
    await client.createProducer({ topic, name: uniqueName('p') });
    expect(await client.lookupTopic(topic)).toMatchObject({ connectUrl: target.serviceUrl });
  });
});

describe('JWT authentication (docs/danube-protocol.md §5)', () => {
  const jwtSecret = 'contract-test-secret-with-enough-bytes';

  itWithTestBroker('without a token every call fails with DC_ERR_UNAUTHENTICATED, not retried', async () => {
    const target = await startTarget({ auth: { jwtSecret } });
    const client = target.client();
    await expect(client.createProducer({ topic: uniqueTopic('auth'), name: uniqueName('p') })).rejects.toMatchObject({
      code: 'DC_ERR_UNAUTHENTICATED',
      retryable: false,
    });
  });

  itWithTestBroker('a wrong or expired token is refused; a valid one (static or from a supplier) works', async () => {
    const target = await startTarget({ auth: { jwtSecret } });
    const broker = target.broker!;
    const topic = uniqueTopic('auth');
    const expired = await broker.mintToken({ exp: Math.floor(Date.now() / 1000) - 60 });
    await expect(target.client({ token: expired }).createProducer({ topic, name: uniqueName('p') })).rejects.toMatchObject({ code: 'DC_ERR_UNAUTHENTICATED' });
    await expect(target.client({ token: 'not.a.jwt' }).createProducer({ topic, name: uniqueName('p') })).rejects.toMatchObject({ code: 'DC_ERR_UNAUTHENTICATED' });
    const token = await broker.mintToken({ sub: 'connector' });
    let supplied = 0;
    const client = target.client({
      token: async () => {
        supplied++;
        return token;
      },
    });
    const producer = await client.createProducer({ topic, name: uniqueName('p') });
    const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: uniqueName('s') });
    await producer.send('authorised');
    expect((await collect(consumer, 1)).map(text)).toEqual(['authorised']);
    expect(supplied).toBeGreaterThan(3);
  });
});

describe('TLS and mutual TLS', () => {
  let dir: string;
  const pem = (name: string) => readFileSync(join(dir, name));

  beforeAll(() => {
    // A throwaway CA, a server certificate for 127.0.0.1/localhost and a client certificate.
    dir = mkdtempSync(join(tmpdir(), 'danube-tls-'));
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=danube-test-ca');
    writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    for (const who of ['server', 'client']) {
      ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=${who === 'server' ? 'localhost' : 'danube-client'}`);
      const ext = who === 'server' ? ['-extfile', 'server.ext'] : [];
      ssl('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.pem`, '-days', '1', ...ext);
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  itWithTestBroker('connects over TLS with the CA given as a file path', async () => {
    const target = await startTarget({ tls: { cert: pem('server.pem'), key: pem('server.key') } });
    expect(target.serviceUrl).toMatch(/^https:\/\//);
    const client = target.client({ tls: { ca: join(dir, 'ca.pem'), serverName: 'localhost' } });
    const topic = uniqueTopic('tls');
    const producer = await client.createProducer({ topic, name: uniqueName('p') });
    const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: uniqueName('s') });
    await producer.send('encrypted');
    expect((await collect(consumer, 1)).map(text)).toEqual(['encrypted']);
  });

  itWithTestBroker('a server certificate from an unknown CA is refused', async () => {
    const target = await startTarget({ tls: { cert: pem('server.pem'), key: pem('server.key') } });
    const client = target.client({ tls: { serverName: 'localhost' }, retry: { maxRetries: 1, initialDelayMs: 10 } });
    await expect(client.createProducer({ topic: uniqueTopic('tls'), name: uniqueName('p') })).rejects.toMatchObject({ code: 'DC_ERR_UNAVAILABLE' });
  });

  itWithTestBroker('mutual TLS: the client certificate is required and accepted', async () => {
    const target = await startTarget({ tls: { cert: pem('server.pem'), key: pem('server.key'), ca: pem('ca.pem'), requireClientCert: true } });
    const without = target.client({ tls: { ca: pem('ca.pem'), serverName: 'localhost' }, retry: { maxRetries: 1, initialDelayMs: 10 } });
    await expect(without.createProducer({ topic: uniqueTopic('mtls'), name: uniqueName('p') })).rejects.toMatchObject({ code: 'DC_ERR_UNAVAILABLE' });
    const client = target.client({ tls: { ca: join(dir, 'ca.pem'), cert: join(dir, 'client.pem'), key: join(dir, 'client.key'), serverName: 'localhost' } });
    const producer = await client.createProducer({ topic: uniqueTopic('mtls'), name: uniqueName('p') });
    await expect(producer.send('mutual')).resolves.toMatchObject({ requestId: '0' });
  });
});
