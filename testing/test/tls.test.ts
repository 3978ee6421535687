import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectStatus, RawClients, startBroker } from './helpers.js';

interface Pki {
  ca: Buffer;
  serverCert: Buffer;
  serverKey: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
}

let dir: string;
let pki: Pki;

/** A throwaway CA with a server certificate for 127.0.0.1/localhost and a client certificate. */
function makePki(): Pki {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=test-ca');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [
    ['server', 'localhost'],
    ['client', 'test-client'],
  ] as const) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`);
  }
  const read = (file: string) => readFileSync(join(dir, file));
  return { ca: read('ca.pem'), serverCert: read('server.pem'), serverKey: read('server.key'), clientCert: read('client.pem'), clientKey: read('client.key') };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'testbroker-tls-'));
  pki = makePki();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const probe = { request_id: '1', client: 'Producer', id: '0' };

describe('TLS', () => {
  it('serves TLS on both ports with https:// URLs', async () => {
    const broker = await startBroker({ tls: { cert: pki.serverCert, key: pki.serverKey } });
    expect(broker.serviceUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(broker.adminUrl).toMatch(/^https:\/\//);
    const secure = credentials.createSsl(pki.ca);
    expect(await new RawClients(broker.serviceUrl, { credentials: secure }).danube('HealthCheck', 'HealthCheck', probe)).toEqual({ status: 'CLOSE' });
    const admin = new RawClients(broker.adminUrl, { credentials: secure });
    expect((await admin.admin('BrokerAdmin', 'ListNamespaces', {})).namespaces).toContain('default');
    await expectStatus(new RawClients(broker.serviceUrl).danube('HealthCheck', 'HealthCheck', probe), status.UNAVAILABLE);
  });

  it('requires a client certificate signed by the CA with requireClientCert (mTLS), combined with JWT auth', async () => {
    const broker = await startBroker({
      tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requireClientCert: true },
      auth: { jwtSecret: 'mtls-secret' },
    });
    const token = await broker.mintToken();
    const withoutCert = new RawClients(broker.serviceUrl, { credentials: credentials.createSsl(pki.ca), token });
    await expectStatus(withoutCert.danube('HealthCheck', 'HealthCheck', probe), status.UNAVAILABLE);
    const mutual = credentials.createSsl(pki.ca, pki.clientKey, pki.clientCert);
    const withCert = new RawClients(broker.serviceUrl, { credentials: mutual, token });
    expect(await withCert.danube('HealthCheck', 'HealthCheck', probe)).toEqual({ status: 'CLOSE' });
    await expectStatus(new RawClients(broker.serviceUrl, { credentials: mutual }).danube('HealthCheck', 'HealthCheck', probe), status.UNAUTHENTICATED);
  });
});
