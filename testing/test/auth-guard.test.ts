import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { mintJwt } from '../src/index.js';
import { expectStatus, RawClients, startBroker } from './helpers.js';

const SECRET = 'test-secret-key';
const probe = { request_id: '1', client: 'Producer', id: '0' };

describe('JWT authentication (docs/danube-protocol.md §5)', () => {
  it('requires a bearer token on every RPC of both ports', async () => {
    const broker = await startBroker({ auth: { jwtSecret: SECRET } });
    const anonymous = new RawClients(broker.serviceUrl);
    const anonymousAdmin = new RawClients(broker.adminUrl);
    await expectStatus(anonymous.danube('HealthCheck', 'HealthCheck', probe), status.UNAUTHENTICATED);
    await expectStatus(anonymous.danube('Discovery', 'TopicLookup', { request_id: '1', topic: '/default/x' }), status.UNAUTHENTICATED);
    await expectStatus(anonymous.schema('ListSubjects', {}), status.UNAUTHENTICATED);
    await expectStatus(anonymousAdmin.admin('BrokerAdmin', 'ListNamespaces', {}), status.UNAUTHENTICATED);
    await expectStatus(anonymousAdmin.schema('ListSubjects', {}), status.UNAUTHENTICATED);
    const stream = anonymous.receive('1');
    expect((await stream.status()).code).toBe(status.UNAUTHENTICATED);

    const token = await broker.mintToken();
    const authed = new RawClients(broker.serviceUrl, { token });
    const authedAdmin = new RawClients(broker.adminUrl, { token });
    expect(await authed.danube('HealthCheck', 'HealthCheck', probe)).toEqual({ status: 'CLOSE' });
    expect(await authed.schema('ListSubjects', {})).toEqual({ subjects: [] });
    expect((await authedAdmin.admin('BrokerAdmin', 'ListNamespaces', {})).namespaces).toContain('default');
    // Second use comes from the validation cache.
    expect(await authed.danube('HealthCheck', 'HealthCheck', probe)).toEqual({ status: 'CLOSE' });
    const notFound = authed.receive('1');
    expect((await notFound.status()).code).toBe(status.NOT_FOUND);
  });

  it('accepts a lowercase "bearer" prefix and rejects other schemes', async () => {
    const broker = await startBroker({ auth: { jwtSecret: SECRET } });
    const clients = new RawClients(broker.serviceUrl);
    const token = await broker.mintToken({ sub: 'alice' });
    const metadata = clients.metadata();
    metadata.set('authorization', `bearer ${token}`);
    expect(await clients.danube('HealthCheck', 'HealthCheck', probe, metadata)).toEqual({ status: 'CLOSE' });
    metadata.set('authorization', `Basic ${token}`);
    await expectStatus(clients.danube('HealthCheck', 'HealthCheck', probe, metadata), status.UNAUTHENTICATED);
  });

  it('rejects expired tokens, tokens lacking a claim, mistyped claims and other secrets', async () => {
    const broker = await startBroker({ auth: { jwtSecret: SECRET } });
    const now = Math.floor(Date.now() / 1000);
    const full = { iss: 'danube-auth', exp: now + 600, sub: 'svc', principal_type: 'service_account', principal_name: 'svc' };
    const rejected = [
      await broker.mintToken({ exp: now - 3600 }),
      await mintJwt(SECRET, { ...full, principal_name: undefined }),
      await mintJwt(SECRET, { iss: full.iss, exp: full.exp, sub: full.sub, principal_type: full.principal_type }),
      await mintJwt(SECRET, { ...full, sub: 42 as unknown as string }),
      await mintJwt('another-secret', full),
      'not-a-jwt',
    ];
    for (const token of rejected) {
      const clients = new RawClients(broker.serviceUrl, { token });
      await expectStatus(clients.danube('HealthCheck', 'HealthCheck', probe), status.UNAUTHENTICATED);
    }
    const ok = new RawClients(broker.serviceUrl, { token: await mintJwt(SECRET, full) });
    expect(await ok.danube('HealthCheck', 'HealthCheck', probe)).toEqual({ status: 'CLOSE' });
  });

  it('ignores any authorization header when auth is off, and mintToken needs auth', async () => {
    const broker = await startBroker();
    const clients = new RawClients(broker.serviceUrl, { token: 'garbage' });
    expect(await clients.danube('HealthCheck', 'HealthCheck', probe)).toEqual({ status: 'CLOSE' });
    await expect(broker.mintToken()).rejects.toThrow(/auth/);
  });

  it('answers UNAVAILABLE injected by unavailableFor before authentication on the client port only', async () => {
    const broker = await startBroker({ auth: { jwtSecret: SECRET } });
    const token = await broker.mintToken();
    broker.unavailableFor(60_000);
    await expectStatus(new RawClients(broker.serviceUrl, { token }).danube('HealthCheck', 'HealthCheck', probe), status.UNAVAILABLE);
    const admin = new RawClients(broker.adminUrl, { token });
    expect((await admin.admin('BrokerAdmin', 'ListNamespaces', {})).namespaces).toContain('default');
    broker.unavailableFor(0);
    expect(await new RawClients(broker.serviceUrl, { token }).danube('HealthCheck', 'HealthCheck', probe)).toEqual({ status: 'CLOSE' });
  });
});
