import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { StatusServer } from '../../src/http/status-server.js';
import type { StatusSource } from '../../src/http/status-source.js';

// GET / as a client sees it; the page's behaviour in a browser is covered by test/status-page.test.ts.
const source: StatusSource = {
  connectors: () => [],
  childMetrics: async () => ({ metrics: [], missing: [] }),
  reload: async () => ({ restarted: [], started: [], stopped: [] }),
  control: async () => undefined,
  scrub: (text) => text,
};

let server: StatusServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

describe('GET /', () => {
  it('serves a self-contained page whose policy allows only its own inline style and script and same-origin fetches', async () => {
    server = await StatusServer.start(source, { listen: '127.0.0.1:0' });
    const res = await fetch(`http://${server.address}/`);
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const csp = res.headers.get('content-security-policy') ?? '';
    const directives = new Map(csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]));
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
    expect(directives).toEqual(
      new Map([
        ['default-src', "'none'"],
        ['style-src', sha256(style)],
        ['script-src', sha256(script)],
        ['connect-src', "'self'"],
        ['base-uri', "'none'"],
        ['form-action', "'none'"],
        ['frame-ancestors', "'none'"],
      ]),
    );
    // Nothing from elsewhere: no URL of another origin, no external resource, no markup built from data.
    expect(html).not.toMatch(/(?:src|href)=|https?:\/\/(?!www\.w3\.org\/2000\/svg)|innerHTML|insertAdjacentHTML|document\.write/);
    expect(script).toContain("fetch('/connectors'");
  });

  it('is GET only, like every read-only route', async () => {
    server = await StatusServer.start(source, { listen: '127.0.0.1:0' });
    const res = await fetch(`http://${server.address}/`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(404);
  });
});
