import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { StatusServer, type StatusServerOptions } from '../../src/http/status-server.js';
import type { StatusSource } from '../../src/http/status-source.js';

// The control endpoint against a browser and DNS rebinding (Prometheus' --web.enable-lifecycle is the model):
// mutations and /connectors answer only a Host that is the bound address, a loopback literal, localhost or one
// of [host] allowed_hosts, never a cross-origin request, and a mutation needs a non-simple content type.
let reloads = 0;
const source: StatusSource = {
  connectors: () => [{ name: 'iot', plugin: '@fixtures/p', version: '1.0.0', state: 'running', restarts: 0, truncatedLines: 0, config: {} }],
  childMetrics: async () => ({ metrics: [], missing: [] }),
  reload: async () => {
    reloads++;
    return { restarted: [], started: [], stopped: [] };
  },
  scrub: (text) => text,
  control: async () => undefined,
};

let server: StatusServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(options: Partial<StatusServerOptions> = {}): Promise<StatusServer> {
  server = await StatusServer.start(source, { listen: '127.0.0.1:0', ...options });
  return server;
}

/** A raw request, so Host and Origin can be what a browser or an attacker would send. */
function send(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: string }> {
  const [hostname, port] = (server as StatusServer).address.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port: Number(port), method, path, headers, setHost: headers['host'] === undefined }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const JSON_TYPE = { 'content-type': 'application/json' };

describe('control endpoint guard', () => {
  it('a browser form (text/plain, cross-origin) cannot trigger a reload', async () => {
    await start();
    reloads = 0;
    const forged = await send('POST', '/-/reload', { origin: 'http://evil.example', 'content-type': 'text/plain' }, 'x');
    expect(forged.status).toBe(403);
    expect(forged.body).toContain('cross-origin');
    const simple = await send('POST', '/-/reload', { 'content-type': 'text/plain' }, 'x');
    expect(simple.status).toBe(415);
    expect(simple.body).toContain('application/json');
    const none = await send('POST', '/-/reload');
    expect(none.status).toBe(415);
    expect(reloads).toBe(0);
  });

  it('a DNS-rebinding Host can neither read /connectors nor reload', async () => {
    await start();
    reloads = 0;
    expect((await send('GET', '/connectors', { host: `attacker.example:${server?.address.split(':')[1]}` })).status).toBe(403);
    expect((await send('GET', '/connectors/iot', { host: 'attacker.example' })).status).toBe(403);
    const post = await send('POST', '/-/reload', { ...JSON_TYPE, host: 'attacker.example' }, '{}');
    expect(post).toMatchObject({ status: 403, body: expect.stringContaining('Host "attacker.example" is not allowed') });
    expect((await send('POST', '/connectors/iot/restart', { ...JSON_TYPE, host: 'attacker.example' }, '{}')).status).toBe(403);
    expect(reloads).toBe(0);
  });

  it('loopback literals, localhost, the bound address and allowed_hosts may; same-origin browsers too', async () => {
    await start({ allowedHosts: ['connect.internal'] });
    reloads = 0;
    const port = server?.address.split(':')[1];
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'LOCALHOST', '127.0.0.2', '[::1]:1', `connect.internal:${port}`, 'Connect.Internal']) {
      expect((await send('GET', '/connectors', { host })).status, host).toBe(200);
    }
    expect((await send('POST', '/-/reload', JSON_TYPE, '{}')).status).toBe(200);
    expect((await send('POST', '/-/reload', { ...JSON_TYPE, origin: `http://127.0.0.1:${port}` }, '{}')).status).toBe(200);
    expect((await send('POST', '/-/reload', { 'content-type': 'application/json; charset=utf-8', host: 'connect.internal' }, '{}')).status).toBe(200);
    expect((await send('POST', '/-/reload', { ...JSON_TYPE, origin: 'http://connect.internal.evil.example' }, '{}')).status).toBe(403);
    expect((await send('GET', '/connectors', { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect(reloads).toBe(3);
  });

  it('/metrics, /healthz and /readyz stay open to any Host (Prometheus and Kubernetes probes use the pod address)', async () => {
    await start();
    for (const path of ['/metrics', '/healthz', '/readyz']) {
      expect((await send('GET', path, { host: '10.1.2.3:9464', origin: 'http://elsewhere.example' })).status, path).toBe(200);
    }
  });
});
