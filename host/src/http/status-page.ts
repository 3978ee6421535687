import { createHash } from 'node:crypto';

// The live status page served at `GET /`: one self-contained document (no external requests, no dependency) that
// polls the same-origin `/connectors` once a second. Rates are computed here in the browser from successive
// counts, so the host keeps no history. Every value from the host is put in the DOM as text (textContent, SVG
// attributes), never as markup: a connector name or error message cannot inject anything.

const STYLE = `
:root { color-scheme: light dark; --bg: #f7f8fa; --fg: #1d2330; --muted: #667085; --card: #fff; --line: #e4e7ec;
  --ok: #12805c; --warn: #b54708; --bad: #c4320a; --idle: #475467; --spark-in: #2563eb; --spark-out: #12805c; }
@media (prefers-color-scheme: dark) { :root { --bg: #12151b; --fg: #e6e8ec; --muted: #98a2b3; --card: #1b1f27;
  --line: #2c313c; --ok: #3ccb8c; --warn: #f5a524; --bad: #f97066; --idle: #98a2b3; --spark-in: #60a5fa; --spark-out: #3ccb8c; } }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { display: flex; align-items: baseline; gap: 16px; flex-wrap: wrap; margin-bottom: 16px; }
h1 { font-size: 20px; margin: 0; font-weight: 600; }
#summary, #updated { color: var(--muted); }
#updated.stale { color: var(--bad); font-weight: 600; }
.table { background: var(--card); border: 1px solid var(--line); border-radius: 8px; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 10px 9px; text-align: left; vertical-align: top; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { white-space: normal; }
tbody tr:last-child > td { border-bottom: 0; }
th { font-size: 12px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.name { font-weight: 600; }
.plugin { color: var(--muted); font-size: 12px; }
.state { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600;
  border: 1px solid currentColor; }
.state-running { color: var(--ok); }
.state-degraded, .state-backoff, .state-starting, .state-stopping { color: var(--warn); }
.state-failed { color: var(--bad); }
.state-paused, .state-stopped { color: var(--idle); }
.clamp { display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 3; overflow: hidden; }
.detail { color: var(--muted); font-size: 12px; margin-top: 4px; white-space: normal; width: 12em; }
td.error { white-space: normal; min-width: 15em; overflow-wrap: anywhere; }
.error .code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; color: var(--bad); }
.error .at { color: var(--muted); font-size: 12px; }
.none { color: var(--muted); }
.rate { display: flex; align-items: center; justify-content: flex-end; gap: 8px; }
svg.spark { width: 64px; height: 22px; }
svg.spark line { stroke: var(--line); stroke-width: 1; }
svg.spark polyline { fill: none; stroke-width: 1.5; }
svg.spark.in polyline { stroke: var(--spark-in); }
svg.spark.out polyline { stroke: var(--spark-out); }
details { margin-top: 6px; }
summary { cursor: pointer; color: var(--muted); font-size: 12px; }
pre { margin: 6px 0 0; font-size: 12px; max-width: 22em; white-space: pre-wrap; overflow-wrap: anywhere; }
footer { margin-top: 12px; color: var(--muted); font-size: 12px; }
`;

const SCRIPT = `
'use strict';
const POINTS = 30;
const history = new Map();
const rows = new Map();
const body = document.getElementById('connectors');
const updated = document.getElementById('updated');
const summary = document.getElementById('summary');
let refreshes = 0;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function duration(ms) {
  if (ms === undefined) return '—';
  const s = Math.floor(ms / 1000);
  if (s < 60) return s + 's';
  const m = Math.floor(s / 60);
  if (m < 60) return m + 'm ' + (s % 60) + 's';
  const h = Math.floor(m / 60);
  if (h < 24) return h + 'h ' + (m % 60) + 'm';
  return Math.floor(h / 24) + 'd ' + (h % 24) + 'h';
}

function count(value) {
  return typeof value === 'number' ? value.toLocaleString() : '—';
}

function rate(value) {
  if (value === undefined) return '—';
  return (value >= 100 ? Math.round(value).toLocaleString() : value.toFixed(1)) + '/s';
}

// A child's counters start again at 0 when it restarts: a drop is a reset, not a negative rate.
function track(view, now) {
  const stats = view.stats;
  let entry = history.get(view.name);
  if (!entry) history.set(view.name, (entry = { in: [], out: [] }));
  if (!stats) return entry;
  const last = entry.last;
  if (last && last.pid === view.pid && stats.received >= last.received && stats.processed >= last.processed && now > last.at) {
    const seconds = (now - last.at) / 1000;
    entry.in.push((stats.received - last.received) / seconds);
    entry.out.push((stats.processed - last.processed) / seconds);
    if (entry.in.length > POINTS) entry.in.shift();
    if (entry.out.length > POINTS) entry.out.shift();
  }
  entry.last = { at: now, pid: view.pid, received: stats.received, processed: stats.processed };
  return entry;
}

function spark(values, direction) {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', 'spark ' + direction);
  svg.setAttribute('viewBox', '0 0 ' + (POINTS - 1) + ' 20');
  svg.setAttribute('preserveAspectRatio', 'none');
  const base = document.createElementNS('http://www.w3.org/2000/svg', 'line');
  for (const [name, value] of [['x1', 0], ['y1', 19.5], ['x2', POINTS - 1], ['y2', 19.5], ['vector-effect', 'non-scaling-stroke']]) base.setAttribute(name, String(value));
  svg.appendChild(base);
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  const max = Math.max(1, ...values);
  const offset = POINTS - values.length;
  line.setAttribute('points', values.map((v, i) => (offset + i) + ',' + (19 - (v / max) * 18).toFixed(2)).join(' '));
  line.setAttribute('vector-effect', 'non-scaling-stroke');
  svg.appendChild(line);
  return svg;
}

function rateCell(values, direction) {
  const td = el('td', 'num');
  td.dataset.field = direction === 'in' ? 'in-rate' : 'out-rate';
  const box = el('div', 'rate');
  box.appendChild(spark(values, direction));
  box.appendChild(el('span', '', rate(values[values.length - 1])));
  td.appendChild(box);
  return td;
}

function numberCell(field, value) {
  const td = el('td', 'num', count(value));
  td.dataset.field = field;
  return td;
}

function errorCell(error) {
  const td = el('td', 'error');
  td.dataset.field = 'last-error';
  if (!error) {
    td.appendChild(el('span', 'none', '—'));
    return td;
  }
  if (error.code) td.appendChild(el('div', 'code', error.code));
  const message = el('div', 'clamp', error.message);
  message.title = error.message;
  td.appendChild(message);
  td.appendChild(el('div', 'at', new Date(error.at).toLocaleString()));
  return td;
}

function row(view, entry) {
  const tr = el('tr');
  tr.dataset.connector = view.name;
  tr.dataset.state = view.state;
  const name = el('td');
  name.appendChild(el('div', 'name', view.name));
  name.appendChild(el('div', 'plugin', view.plugin + '@' + view.version));
  const config = el('details');
  config.appendChild(el('summary', '', 'config (secrets masked)'));
  config.appendChild(el('pre', '', JSON.stringify(view.config, null, 2)));
  name.appendChild(config);
  tr.appendChild(name);
  const state = el('td');
  state.dataset.field = 'state';
  state.appendChild(el('span', 'state state-' + view.state, view.state));
  if (view.detail) {
    const detail = el('div', 'detail clamp', view.detail);
    detail.title = view.detail;
    state.appendChild(detail);
  }
  tr.appendChild(state);
  const uptime = el('td', 'num', duration(view.uptimeMs));
  uptime.dataset.field = 'uptime';
  tr.appendChild(uptime);
  tr.appendChild(numberCell('restarts', view.restarts));
  tr.appendChild(rateCell(entry.in, 'in'));
  tr.appendChild(rateCell(entry.out, 'out'));
  const stats = view.stats || {};
  tr.appendChild(numberCell('in-flight', stats.inFlight));
  tr.appendChild(numberCell('dead-lettered', stats.deadLettered));
  tr.appendChild(numberCell('offset-gaps', stats.offsetGaps));
  tr.appendChild(errorCell(view.lastError));
  return tr;
}

function render(views, now) {
  const seen = new Set();
  views.forEach((view, index) => {
    seen.add(view.name);
    const next = row(view, track(view, now));
    const previous = rows.get(view.name);
    // Keep an open config <details> open across refreshes.
    if (previous && previous.querySelector('details').open) next.querySelector('details').open = true;
    if (previous) previous.replaceWith(next);
    else body.appendChild(next);
    if (body.children[index] !== next) body.insertBefore(next, body.children[index]);
    rows.set(view.name, next);
  });
  for (const [name, tr] of rows) {
    if (!seen.has(name)) {
      tr.remove();
      rows.delete(name);
      history.delete(name);
    }
  }
  const byState = {};
  for (const view of views) byState[view.state] = (byState[view.state] || 0) + 1;
  summary.textContent = views.length + ' connector' + (views.length === 1 ? '' : 's') + ': ' +
    Object.keys(byState).sort().map((state) => byState[state] + ' ' + state).join(', ');
}

async function refresh() {
  try {
    const response = await fetch('/connectors', { cache: 'no-store', headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error('GET /connectors answered ' + response.status);
    const answer = await response.json();
    const now = Date.now();
    render(answer.connectors, now);
    updated.textContent = 'updated ' + new Date(now).toLocaleTimeString();
    updated.classList.remove('stale');
    document.body.dataset.refreshes = String(++refreshes);
  } catch (err) {
    updated.textContent = 'cannot refresh: ' + err.message;
    updated.classList.add('stale');
  }
  setTimeout(refresh, 1000);
}

refresh();
`;

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>danube-connect status</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>danube-connect</h1><span id="summary">loading…</span><span id="updated"></span></header>
<div class="table">
<table>
<thead><tr>
<th>Connector</th><th>State</th><th class="num">Uptime</th><th class="num">Restarts</th>
<th class="num">In</th><th class="num">Out</th><th class="num">In flight</th><th class="num">Dead-lettered</th>
<th class="num">Offset gaps</th><th>Last error</th>
</tr></thead>
<tbody id="connectors"></tbody>
</table>
</div>
<footer>Refreshes every second from <code>/connectors</code>. In and out: records received and processed per second.</footer>
<script>${SCRIPT}</script>
</body>
</html>
`;

const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** The page, and a policy that allows nothing but its own inline style and script and same-origin fetches. */
export const STATUS_PAGE = {
  html: HTML,
  contentSecurityPolicy: [
    "default-src 'none'",
    `style-src ${hash(STYLE)}`,
    `script-src ${hash(SCRIPT)}`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
};
