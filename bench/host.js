// Host benchmark (issue: host, "Benchmark"): `danube-connect run` as users start it (the built CLI in its own
// process, the example file source as plugin, a TestBroker in this process), measuring the host's own overhead:
// idle RSS of the host and of one connector child, start-to-ready for 1 and for 10 connectors, and `/metrics`
// scrape time with 10 connectors. Every figure is the median of interleaved runs (1 connector, then 10, per run).
// Targets: host <= 70 MB RSS, ready <= 1.5 s for one connector. Reports only; asserts nothing.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestBroker } from '@danube-connect/testing';
import { ROOT, median, percentile, report, round } from './lib.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const SCRAPES = Number(process.env.BENCH_SCRAPES ?? 50);
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 3000); // idle time after ready before reading RSS
const POLL_MS = 20;
const READY_TIMEOUT_MS = 30_000;
const CLI = join(ROOT, 'host/dist/cli.js');
const PLUGIN = join(ROOT, 'sdk/test/fixtures/plugins/example-file-source');
const TARGET_HOST_RSS_MB = 70;
const TARGET_READY_MS = 1500;

/** VmRSS of `pid` in MB, from /proc; undefined if it is gone or off Linux. */
function vmRssMb(pid) {
  try {
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return kb ? Number(kb[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` still runs (a zombie counts as exited). */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return !/^[ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '');
  } catch {
    return false;
  }
}

function hostToml(dir, serviceUrl, count) {
  let toml = `[host]\nhttp = "127.0.0.1:0"\n\n[danube]\nservice_url = "${serviceUrl}"\n`;
  for (let i = 0; i < count; i++) {
    const name = `files-${i}`;
    toml += `\n[[connectors]]\nname = "${name}"\nplugin = "${PLUGIN}"\n[connectors.config]\npath = "${join(dir, `${name}.txt`)}"\ntopic = "/default/${name}"\nstate_file = "${join(dir, `${name}.offset`)}"\n`;
  }
  return toml;
}

const running = new Set(); // hosts not yet stopped, for cleanup on error or Ctrl-C

/**
 * Spawns the host on a fresh host.toml with `count` connectors and resolves once GET /readyz answers 200 with
 * every connector ready, polled every 20 ms from the moment the host logs its HTTP address.
 */
async function startHost(dir, serviceUrl, count) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'host.toml');
  writeFileSync(file, hostToml(dir, serviceUrl, count));
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, 'run', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const host = { child, exit, childPids: [] };
  running.add(host);
  let tail = ''; // last output only: the host relays every child's log lines, keep memory flat
  let onRunning;
  const runningLine = new Promise((resolve, reject) => {
    onRunning = resolve;
    exit.then((code) => reject(new Error(`host exited with ${code} before running:\n${tail}`)));
  });
  runningLine.catch(() => {});
  let buffered = '';
  child.stdout.on('data', (chunk) => {
    tail = (tail + chunk).slice(-4000);
    if (!onRunning) return;
    buffered += chunk;
    for (let nl; (nl = buffered.indexOf('\n')) >= 0; buffered = buffered.slice(nl + 1)) {
      const line = buffered.slice(0, nl);
      if (!line.includes('"danube-connect running"')) continue;
      onRunning({ http: JSON.parse(line).http, at: performance.now() });
      onRunning = undefined;
      buffered = '';
      return;
    }
  });
  child.stderr.on('data', (chunk) => (tail = (tail + chunk).slice(-4000)));
  const { http, at } = await runningLine;
  host.url = `http://${http}`;
  host.bootMs = at - t0;
  for (;;) {
    if (performance.now() - t0 > READY_TIMEOUT_MS) throw new Error(`host not ready within ${READY_TIMEOUT_MS} ms:\n${tail}`);
    const res = await fetch(`${host.url}/readyz`).catch(() => undefined);
    if (res?.status === 200) {
      const body = await res.json();
      if (body.connectors.length === count && body.connectors.every((c) => c.ready)) break;
    } else await res?.body?.cancel();
    await sleep(POLL_MS);
  }
  host.readyMs = performance.now() - t0;
  const { connectors } = await (await fetch(`${host.url}/connectors`)).json();
  host.childPids = connectors.map((c) => c.pid);
  return host;
}

/** SIGTERM, wait for the exit (SIGKILL after 15 s), then make sure no connector child is left behind. */
async function stopHost(host) {
  running.delete(host);
  if (host.child.exitCode === null && host.child.signalCode === null) {
    host.child.kill('SIGTERM');
    const timer = setTimeout(() => host.child.kill('SIGKILL'), 15_000);
    await host.exit;
    clearTimeout(timer);
  }
  for (let i = 0; i < 100 && host.childPids.some(alive); i++) await sleep(50);
  for (const pid of host.childPids.filter(alive)) {
    process.stderr.write(`connector child ${pid} outlived the host; killing it\n`);
    process.kill(pid, 'SIGKILL');
  }
}

async function scrape(url) {
  const t = performance.now();
  const res = await fetch(`${url}/metrics`);
  const body = await res.arrayBuffer();
  return { ms: performance.now() - t, bytes: body.byteLength, status: res.status };
}

/** One sample of a host with `count` connectors: ready time, idle RSS after SETTLE_MS, and with 10 the scrapes. */
async function sample(dir, serviceUrl, count) {
  const host = await startHost(dir, serviceUrl, count);
  try {
    await sleep(SETTLE_MS);
    const hostRss = vmRssMb(host.child.pid);
    const childRss = host.childPids.map(vmRssMb).filter((v) => v !== undefined);
    const result = { readyMs: host.readyMs, bootMs: host.bootMs, hostRss, childRss: median(childRss), totalRss: hostRss + childRss.reduce((a, b) => a + b, 0) };
    if (count > 1) {
      for (let i = 0; i < 3; i++) await scrape(host.url); // warm-up
      const scrapes = [];
      for (let i = 0; i < SCRAPES; i++) scrapes.push(await scrape(host.url));
      if (scrapes.some((s) => s.status !== 200)) process.stderr.write(`a /metrics scrape answered ${scrapes.find((s) => s.status !== 200).status}\n`);
      result.scrapeMs = scrapes.map((s) => s.ms).sort((a, b) => a - b);
      result.bytes = median(scrapes.map((s) => s.bytes));
      result.hostRssAfterScrapes = vmRssMb(host.child.pid);
    }
    return result;
  } finally {
    await stopHost(host);
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'dc-bench-host-'));
const broker = await TestBroker.start();
const cleanup = async () => {
  for (const host of [...running]) await stopHost(host);
  await broker.stop();
  rmSync(tmp, { recursive: true, force: true });
};
process.once('SIGINT', () => cleanup().finally(() => process.exit(130)));

const one = [];
const ten = [];
try {
  for (let run = 0; run < RUNS; run++) {
    one.push(await sample(join(tmp, `run-${run}-1`), broker.serviceUrl, 1));
    ten.push(await sample(join(tmp, `run-${run}-10`), broker.serviceUrl, 10));
    process.stderr.write('.');
  }
} finally {
  process.stderr.write('\n');
  await cleanup();
}

const med = (samples, key, digits = 1) => round(median(samples.map((s) => s[key])), digits);
const p99 = (values, digits = 1) => round(percentile([...values].sort((a, b) => a - b), 99), digits);
const row = (fields) => ({
  case: undefined, ready_ms: undefined, boot_ms: undefined, p50_ms: undefined, p99_ms: undefined, bytes: undefined,
  host_rss_mb: undefined, child_rss_mb: undefined, rss_mb: undefined, target: undefined, ...fields,
});
const hostRss1 = med(one, 'hostRss');
const ready1 = med(one, 'readyMs', 0);
const allScrapes = ten.flatMap((s) => s.scrapeMs);
const rows = [
  row({ case: 'idle, 1 connector', host_rss_mb: hostRss1, child_rss_mb: med(one, 'childRss'), rss_mb: med(one, 'totalRss'), target: `host <= ${TARGET_HOST_RSS_MB} MB: ${hostRss1 <= TARGET_HOST_RSS_MB ? 'met' : 'MISSED'}` }),
  row({ case: 'idle, 10 connectors', host_rss_mb: med(ten, 'hostRss'), child_rss_mb: med(ten, 'childRss'), rss_mb: med(ten, 'totalRss') }),
  row({ case: 'start to ready, 1 connector', ready_ms: ready1, boot_ms: med(one, 'bootMs', 0), p99_ms: p99(one.map((s) => s.readyMs), 0), target: `<= ${TARGET_READY_MS} ms: ${ready1 <= TARGET_READY_MS ? 'met' : 'MISSED'}` }),
  row({ case: 'start to ready, 10 connectors', ready_ms: med(ten, 'readyMs', 0), boot_ms: med(ten, 'bootMs', 0), p99_ms: p99(ten.map((s) => s.readyMs), 0) }),
  row({
    case: '/metrics scrape, 10 connectors',
    p50_ms: round(median(ten.map((s) => percentile(s.scrapeMs, 50))), 2),
    p99_ms: round(median(ten.map((s) => percentile(s.scrapeMs, 99))), 2),
    bytes: med(ten, 'bytes', 0),
    host_rss_mb: med(ten, 'hostRssAfterScrapes'),
  }),
];
report('host', rows, [
  `Median of ${RUNS} interleaved runs (1 connector, then 10) against a TestBroker in the benchmark process; connectors are the example file source, idle.`,
  `RSS is VmRSS from /proc ${SETTLE_MS / 1000} s after ready; child_rss_mb is one connector child (median over the children), rss_mb is host + all children.`,
  `ready_ms: spawn of \`node host/dist/cli.js run\` until GET /readyz is 200 with every connector ready (polled every ${POLL_MS} ms once the host logs its address); boot_ms: until that log line; p99_ms over the ${RUNS} runs.`,
  `/metrics: ${SCRAPES} sequential scrapes per run after 3 warm-ups, p50/p99 per run then the median over runs (max over all ${allScrapes.length} scrapes: ${round(Math.max(...allScrapes), 2)} ms); host_rss_mb after the scrapes.`,
]);
