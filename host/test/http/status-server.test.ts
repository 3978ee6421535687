import { ConnectorMetrics } from '@danube-connect/sdk/internal';
import { afterEach, describe, expect, it } from 'vitest';
import { parseListenAddress, StatusServer } from '../../src/http/status-server.js';
import type { ConnectorView, StatusSource } from '../../src/http/status-source.js';

// The server's side of the StatusSource contract; the supervisor's side is covered by the host's process tests.
function source(connectors: ConnectorView[], children: Record<string, ConnectorMetrics | 'silent'>, reload?: StatusSource['reload']): StatusSource {
  return {
    connectors: () => connectors,
    async childMetrics() {
      const metrics = [];
      const missing = [];
      for (const [name, child] of Object.entries(children)) {
        if (child === 'silent') missing.push(name);
        else metrics.push(await child.toJSON());
      }
      return { metrics, missing };
    },
    reload: reload ?? (async () => ({ restarted: [], started: [], stopped: [] })),
    control: async () => undefined,
    scrub: (text) => text,
  };
}

const view = (name: string, state: string, extra: Partial<ConnectorView> = {}): ConnectorView => ({
  name,
  plugin: '@fixtures/p',
  version: '1.0.0',
  state,
  restarts: 0,
  truncatedLines: 0,
  config: { url: 'mqtt://127.0.0.1:1883', password: '***' },
  ...extra,
});

let server: StatusServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function get(path: string, init?: RequestInit) {
  const res = await fetch(`http://${server!.address}${path}`, init);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

describe('StatusServer', () => {
  it('binds to loopback and answers /healthz', async () => {
    server = await StatusServer.start(source([], {}), { listen: '127.0.0.1:0' });
    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await get('/healthz')).toMatchObject({ status: 200, body: expect.stringContaining('"ok"') });
  });

  it('merges every child into one valid exposition with the connector labels, and counts a silent child', async () => {
    const a = new ConnectorMetrics('iot');
    const b = new ConnectorMetrics('sink');
    a.recordReceived('/default/t1', 10);
    a.recordProcessed('/default/t1', 0.01);
    b.recordReceived('/default/t2', 5);
    server = await StatusServer.start(source([view('iot', 'running'), view('sink', 'running'), view('quiet', 'running')], { iot: a, sink: b, quiet: 'silent' }), { listen: '127.0.0.1:0' });
    const { status, type, body } = await get('/metrics');
    expect(status).toBe(200);
    expect(type).toContain('text/plain');
    expect(body).toContain('danube_connector_messages_received_total{connector="iot",topic="/default/t1"} 1');
    expect(body).toContain('danube_connector_messages_received_total{connector="sink",topic="/default/t2"} 1');
    expect(body).toContain('danube_connect_metrics_scrape_missing_total{connector="quiet"} 1');
    expect(body).toContain('danube_connect_connector_state{connector="iot",state="running"} 1');
    // One HELP and one TYPE line per metric name: the expositions were merged, not concatenated.
    const helps = body.split('\n').filter((l) => l.startsWith('# HELP danube_connector_messages_received_total'));
    expect(helps).toHaveLength(1);
  });

  it('/readyz is 200 only when every connector is running or degraded, with per-connector detail', async () => {
    const connectors = [view('a', 'running'), view('b', 'degraded', { detail: 'Danube unavailable' })];
    server = await StatusServer.start(source(connectors, {}), { listen: '127.0.0.1:0' });
    const ready = await get('/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({
      ready: true,
      connectors: [
        { name: 'a', state: 'running', ready: true },
        { name: 'b', state: 'degraded', ready: true, detail: 'Danube unavailable' },
      ],
    });
    connectors.push(view('c', 'backoff', { detail: 'restarting in 2 s' }));
    const notReady = await get('/readyz');
    expect(notReady.status).toBe(503);
    expect(JSON.parse(notReady.body).connectors[2]).toEqual({ name: 'c', state: 'backoff', ready: false, detail: 'restarting in 2 s' });
  });

  it('/connectors shows what the source gives (secrets arrive masked)', async () => {
    server = await StatusServer.start(source([view('iot', 'failed', { restarts: 5, lastError: { code: 'DC_ERR_HUNG', message: 'no heartbeat', at: '2026-11-23T00:00:00.000Z' } })], {}), { listen: '127.0.0.1:0' });
    const { body } = await get('/connectors');
    expect(JSON.parse(body).connectors[0]).toMatchObject({ name: 'iot', state: 'failed', restarts: 5, config: { password: '***' } });
    expect(body).not.toContain('hunter2');
  });

  it('POST /-/reload reports the change, or 400 with the validation errors', async () => {
    let fail = false;
    server = await StatusServer.start(
      source([], {}, async () => {
        if (fail) throw new Error('host.toml: connector "iot": config/qos must be <= 2');
        return { restarted: ['iot'], started: [], stopped: [] };
      }),
      { listen: '127.0.0.1:0' },
    );
    expect(JSON.parse((await get('/-/reload', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).body)).toEqual({ reloaded: true, restarted: ['iot'], started: [], stopped: [] });
    fail = true;
    const rejected = await get('/-/reload', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(rejected.status).toBe(400);
    expect(JSON.parse(rejected.body)).toEqual({ reloaded: false, error: 'host.toml: connector "iot": config/qos must be <= 2' });
    expect((await get('/-/reload')).status).toBe(404);
    expect((await get('/nope')).status).toBe(404);
  });

  it('parses listen addresses and refuses bad ones', () => {
    expect(parseListenAddress('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListenAddress('[::1]:0')).toEqual({ host: '::1', port: 0 });
    for (const bad of ['9464', 'localhost', '127.0.0.1:99999', ':80']) expect(() => parseListenAddress(bad)).toThrow(/is not host:port/);
  });
});
