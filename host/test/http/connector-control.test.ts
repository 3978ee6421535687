import { afterEach, describe, expect, it } from 'vitest';
import { StatusServer } from '../../src/http/status-server.js';
import type { ConnectorView, StatusSource } from '../../src/http/status-source.js';
import type { ConnectorAction } from '../../src/supervisor/connector-state.js';

// The server's side of operating one connector; the supervisor's side is in test/supervisor/operate-connector.
const view = (name: string, state: string): ConnectorView => ({ name, plugin: '@fixtures/p', version: '1.0.0', state, restarts: 0, truncatedLines: 0, config: {} });

function source(calls: [string, ConnectorAction][], views: Record<string, ConnectorView>): StatusSource {
  return {
    connectors: () => Object.values(views),
    childMetrics: async () => ({ metrics: [], missing: [] }),
    reload: async () => ({ restarted: [], started: [], stopped: [] }),
    scrub: (text) => text,
    async control(name, action) {
      calls.push([name, action]);
      if (name === 'closed') throw new Error('the supervisor was stopped');
      return views[name];
    },
  };
}

let server: StatusServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function post(path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://${server?.address}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

describe('StatusServer: POST /connectors/<name>/<action>', () => {
  it('passes restart, pause and resume to the source and answers with the state; 404 for an unknown name, 409 when it cannot', async () => {
    const calls: [string, ConnectorAction][] = [];
    server = await StatusServer.start(source(calls, { iot: view('iot', 'paused'), closed: view('closed', 'stopped') }), { listen: '127.0.0.1:0' });
    expect(await post('/connectors/iot/pause')).toEqual({ status: 200, body: { connector: 'iot', action: 'pause', state: 'paused' } });
    expect((await post('/connectors/iot/restart')).status).toBe(200);
    expect((await post('/connectors/iot/resume')).status).toBe(200);
    expect(await post('/connectors/nobody/restart')).toEqual({ status: 404, body: { error: 'no connector "nobody"' } });
    expect(await post('/connectors/closed/restart')).toEqual({ status: 409, body: { error: 'the supervisor was stopped' } });
    expect((await post('/connectors/iot/explode')).status).toBe(404);
    expect((await fetch(`http://${server.address}/connectors/iot/pause`)).status).toBe(404);
    expect(calls).toEqual([
      ['iot', 'pause'],
      ['iot', 'restart'],
      ['iot', 'resume'],
      ['nobody', 'restart'],
      ['closed', 'restart'],
    ]);
  });

  it('/readyz: a paused connector does not make the host unready', async () => {
    server = await StatusServer.start(source([], { a: view('a', 'running'), b: view('b', 'paused') }), { listen: '127.0.0.1:0' });
    const res = await fetch(`http://${server.address}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ready: true, connectors: [{ name: 'a', state: 'running', ready: true }, { name: 'b', state: 'paused', ready: false }] });
  });
});
