// `npm run bench [-- name…]`: every benchmark in turn (each needs the cores to itself), results in bench-results/,
// then one summary table of every row beside its same-run baseline (bench-results/summary.json).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT, report, round } from './lib.js';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const BENCHMARKS = ['client-producer', 'consumer-ack', 'source-runtime', 'host', 'source-mqtt', 'sink-mqtt'];
const unknown = only.filter((name) => !BENCHMARKS.includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; one of: ${BENCHMARKS.join(', ')}`);
  process.exit(2);
}
const selected = BENCHMARKS.filter((b) => only.length === 0 || only.includes(b));
for (const name of selected) {
  const result = spawnSync(process.execPath, [join(here, `${name}.js`)], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/** One summary row per result row: the common columns only, with the figure as a share of its baseline. */
function summaryRows(name) {
  const { rows } = JSON.parse(readFileSync(join(ROOT, 'bench-results', `${name}.json`), 'utf8'));
  return rows.map((row) => ({
    benchmark: name,
    case: row.broker ? `${row.case} (${row.broker})` : row.case,
    msg_per_s: row.msg_per_s,
    baseline_msg_per_s: row.baseline_msg_per_s,
    of_baseline_pct: row.msg_per_s && row.baseline_msg_per_s ? round((row.msg_per_s / row.baseline_msg_per_s) * 100, 0) : undefined,
    p50_ms: row.p50_ms,
    p99_ms: row.p99_ms,
    rss_mb: row.rss_mb,
    target: row.target,
  }));
}

report('summary', selected.flatMap(summaryRows), [`Every figure beside the baseline its benchmark measured in the same run; details in bench-results/<benchmark>.json.`]);
