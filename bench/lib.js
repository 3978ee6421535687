// Shared benchmark helpers: percentiles, medians, the result table and the JSON file format.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export const round = (n, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * Closed loop: keeps `concurrency` calls of `issue(i)` outstanding until `total` completed.
 * Returns throughput and per-call latency (issue to settle).
 */
export async function closedLoop(total, concurrency, issue) {
  const latencies = new Float64Array(total);
  let started = 0;
  let done = 0;
  let failed = 0;
  const t0 = performance.now();
  await new Promise((resolve) => {
    const next = () => {
      while (started < total && started - done < concurrency) {
        const i = started++;
        const t = performance.now();
        issue(i).then(
          () => finish(i, t),
          (err) => {
            if (failed++ < 3) process.stderr.write(`call failed: ${err.message}\n`);
            finish(i, t);
          },
        );
      }
    };
    const finish = (i, t) => {
      latencies[i] = performance.now() - t;
      done++;
      if (done === total) resolve();
      else next();
    };
    next();
  });
  const seconds = (performance.now() - t0) / 1000;
  const sorted = Array.from(latencies).sort((a, b) => a - b);
  return { msgPerS: total / seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99), failed };
}

/** Starts the TestBroker CLI in its own process on free loopback ports (`extraArgs`: more CLI flags); resolves with its URLs. */
export function startBrokerProcess(extraArgs = []) {
  const child = spawn(process.execPath, [join(ROOT, 'testing/dist/cli.js'), '--port', '0', '--admin-port', '0', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`TestBroker exited with ${code} before listening`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const service = /service_url=(\S+)/.exec(out);
      const admin = /admin_url=(\S+)/.exec(out);
      if (service && admin) {
        child.removeAllListeners('exit');
        resolve({ serviceUrl: service[1], adminUrl: admin[1], pid: child.pid, stop: () => new Promise((r) => { child.once('exit', r); child.kill('SIGTERM'); }) });
      }
    });
  });
}

/** CPU seconds (user + system) used so far by process `pid`, from /proc; undefined off Linux. */
export function processCpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime in clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}

export function rssMb() {
  return round(process.memoryUsage().rss / 1024 / 1024);
}

/**
 * The lean transport's target (issue 16): client CPU per call <= 0.55x grpc-js's and <= 1.1x a bare node:http2 loop's.
 * Returns the row's `target` cell.
 */
export function leanCpuTarget(vsGrpcJs, vsBare) {
  return `cpu <= 0.55x grpc-js, <= 1.1x bare: ${vsGrpcJs <= 0.55 && vsBare <= 1.1 ? 'met' : 'MISSED'}`;
}

/** Prints the table and writes bench-results/<name>.json in the project's format. */
export function report(name, rows, notes = []) {
  const columns = Object.keys(rows[0] ?? {});
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (cells) => cells.map((cell, i) => String(cell ?? '').padStart(widths[i])).join('  ');
  console.log(`\n${name}`);
  console.log(line(columns));
  for (const row of rows) console.log(line(columns.map((c) => row[c])));
  for (const note of notes) console.log(note);
  const dir = join(ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify({ benchmark: name, rows, notes }, null, 2)}\n`);
}
