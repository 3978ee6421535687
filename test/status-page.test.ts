import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBroker } from '@danube-connect/testing';
import { chromium } from 'playwright-core';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runningLine, startHost } from './host-process.js';

// The status page at GET / in a real browser (Debian's chromium, headless, driven by playwright-core) against a
// real host: one connector running with records flowing, one failed after a crash whose error carries a secret.
const CHROMIUM = '/usr/bin/chromium';
const SOURCE = fileURLToPath(new URL('../sdk/test/fixtures/plugins/example-file-source', import.meta.url));
const LEAKY = fileURLToPath(new URL('../host/test/fixtures/plugins/leaks-secrets', import.meta.url));
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const WAIT_MS = 30_000;

// The page's DOM as far as the checks run in it need (this test is compiled without the DOM library).
interface PageElement {
  textContent: string | null;
  scrollWidth: number;
  clientWidth: number;
  querySelector(selector: string): PageElement | null;
  getAttribute(name: string): string | null;
}
declare const document: { querySelector(selector: string): PageElement | null };

describe('the status page', () => {
  it('shows a running and a failed connector, their counts and rates, refreshed from /connectors, and no secret', async () => {
    const broker = await TestBroker.start();
    onTestFinished(() => broker.stop());
    const dir = mkdtempSync(join(tmpdir(), 'dc-page-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const lines = join(dir, 'readings.txt');
    writeFileSync(lines, '');
    const toml = join(dir, 'host.toml');
    writeFileSync(
      toml,
      `[host]
http = "127.0.0.1:0"
shutdown_timeout_ms = 5000
ping_interval_ms = 500
[danube]
service_url = "${broker.serviceUrl}"
token = "PLANTED-danube-token"

[[connectors]]
name = "readings"
plugin = "${SOURCE}"
[connectors.config]
path = "${lines}"
topic = "/default/readings"
state_file = "${join(dir, 'readings.offset')}"
batch_lines = 5

[[connectors]]
name = "crashy"
plugin = "${LEAKY}"
[connectors.restart]
max_crashes = 1
[connectors.config]
url = "mqtt://user:PLANTED-url-pw@127.0.0.1:1883"
mqtt_password = "PLANTED-mqtt-password"
api_token = "PLANTED-api-token"
routes = [{ from = "sensors/#", key = "topic" }]
crash = true
`,
    );
    const host = startHost(toml);
    const { http } = await runningLine(host);

    // A steady trickle of records, so the rates and sparklines have something to show.
    let written = 0;
    const feeder = setInterval(() => appendFileSync(lines, `reading ${written++}\n`), 50);
    onTestFinished(() => clearInterval(feeder));

    const browser = await chromium.launch({ executablePath: CHROMIUM });
    onTestFinished(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1360, height: 420 } });
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('requestfailed', (request) => problems.push(`${request.url()}: ${request.failure()?.errorText}`));
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));

    await page.goto(`http://${http}/`);
    await page.waitForSelector('tr[data-connector="readings"][data-state="running"]', { timeout: WAIT_MS });
    await page.waitForSelector('tr[data-connector="crashy"][data-state="failed"]', { timeout: WAIT_MS });
    // Records flowed: the sparkline holds several points and the latest rate of both directions is above zero.
    await page.waitForFunction(
      () => {
        const row = document.querySelector('tr[data-connector="readings"]');
        const points = row?.querySelector('[data-field="out-rate"] polyline')?.getAttribute('points')?.split(' ').length ?? 0;
        const rate = (field: string) => parseFloat(row?.querySelector(`[data-field="${field}"] span`)?.textContent ?? '0');
        return points >= 6 && rate('in-rate') > 0 && rate('out-rate') > 0;
      },
      undefined,
      { timeout: WAIT_MS },
    );
    const cell = (connector: string, field: string) => page.textContent(`tr[data-connector="${connector}"] [data-field="${field}"]`);
    expect(await cell('readings', 'last-error')).toBe('—');
    expect(await cell('readings', 'uptime')).toMatch(/^\d+s$/);
    expect(await cell('readings', 'in-flight')).toMatch(/^\d+$/);
    expect(await cell('readings', 'dead-lettered')).toBe('0');
    expect(await cell('readings', 'offset-gaps')).toBe('0');
    // max_crashes = 1: failed at its first crash, never restarted.
    expect(await cell('crashy', 'restarts')).toBe('0');
    expect(await cell('crashy', 'uptime')).toBe('—');
    expect(await cell('crashy', 'last-error')).toContain('leaks-secrets: login refused for');
    expect(await page.textContent('#summary')).toBe('2 connectors: 1 failed, 1 running');

    // The masked config is what the page shows; no planted value anywhere in the rendered document.
    await page.click('tr[data-connector="crashy"] summary');
    expect(await page.textContent('tr[data-connector="crashy"] pre')).toContain('"mqtt_password": "***"');
    const rendered = await page.content();
    expect(rendered).not.toContain('PLANTED');
    // Same origin only, and nothing the policy had to block (a violation is logged as a console error).
    expect(new Set(requests.map((url) => new URL(url).host))).toEqual(new Set([http]));
    expect(problems).toEqual([]);

    // Readable at a laptop's width: the table fits without a horizontal scrollbar.
    expect(await page.evaluate(() => { const table = document.querySelector('.table'); return table ? table.scrollWidth - table.clientWidth : -1; })).toBe(0);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'status-page.png'), fullPage: true });
    clearInterval(feeder);

    // The page says when it cannot refresh (the host stopped), instead of showing old figures as current.
    host.process.kill('SIGTERM');
    await page.waitForSelector('#updated.stale', { timeout: WAIT_MS });
    expect(await page.textContent('#updated')).toMatch(/^cannot refresh: /);
  });

});
