// Shared benchmark helpers: percentiles, medians, the result table and the JSON file format.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

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

/**
 * `node args`; with BENCH_PIN=1 on CPU `cpu` only (Linux `taskset`): samples on CPU 0, the TestBroker on CPU 1, so
 * neither migrates between cores nor shares one with the other. Other processes (host, mosquitto) stay unpinned.
 */
function spawnNode(cpu, args, options) {
  if (!process.env.BENCH_PIN) return spawn(process.execPath, args, options);
  return spawn('taskset', ['-c', String(cpu), process.execPath, ...args], options);
}

const SAMPLE_FLAG = '--bench-sample';
const SAMPLE_RESULT = 'BENCH_SAMPLE_RESULT ';

/**
 * Runs the sampler `name` of benchmark `script` (see `runSampleIfAsked`) with `args` (JSON) in a Node process of
 * its own, and resolves with what it returned. Variants that share one V8 isolate share its type feedback and
 * its compiled code: our http2 producer measured 94 µs of CPU per message after a grpc-js variant had run in the
 * same process and 75 µs on its own, while a connector process only ever runs one transport. So each sample
 * of a comparison gets a fresh process, as each connector does. `execArgv`: Node flags of that process.
 */
export function inFreshProcess(script, name, args, { execArgv = [] } = {}) {
  const child = spawnNode(0, [...execArgv, script, SAMPLE_FLAG, name, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (out += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const line = out.split('\n').find((l) => l.startsWith(SAMPLE_RESULT));
      if (code === 0 && line) resolve(JSON.parse(line.slice(SAMPLE_RESULT.length)));
      else reject(new Error(`sample ${name} of ${script} ended with ${signal ?? `exit code ${code}`} and no result`));
    });
  });
}

/**
 * `inFreshProcess` for a sample that writes into `topic` (`partitions` > 1: its partitions) of a TestBroker, whose
 * topic is deleted once the sample has ended (no `admin`: an external broker, left alone). The TestBroker keeps
 * every message in memory, so later samples run against a broker heap as small as at the first one.
 */
export async function sampleIntoTopic(admin, { topic, partitions }, script, name, args, options) {
  const result = await inFreshProcess(script, name, args, options);
  if (admin) await deleteTopics(admin, topic, partitions);
  return result;
}

/**
 * In a process started by `inFreshProcess`: runs the requested sampler of `samplers` ({ name: async (args) =>
 * result }), prints its result for the parent and exits. Returns (false) only in the parent.
 */
export async function runSampleIfAsked(samplers) {
  const at = process.argv.indexOf(SAMPLE_FLAG);
  if (at < 0) return false;
  const sampler = samplers[process.argv[at + 1]];
  if (!sampler) throw new Error(`no sampler ${process.argv[at + 1]}`);
  const result = await sampler(JSON.parse(process.argv[at + 2]));
  process.stdout.write(`${SAMPLE_RESULT}${JSON.stringify(result)}\n`);
  process.exit(0);
}

/**
 * Runs `issue` in closed loops of 1,000 calls until `ms` have passed: a fresh process (inFreshProcess) starts cold,
 * and the region measured next should see the optimized hot path, not V8 compiling it on its background threads.
 */
export async function warmUp(ms, concurrency, issue) {
  const until = performance.now() + ms;
  while (performance.now() < until) await closedLoop(1000, concurrency, issue);
}

/** The V8 flag the host gives every connector child (host/src/supervisor/connector-supervisor.ts), for baselines that stand in for one. */
export const CONNECTOR_EXEC_ARGV = ['--max-semi-space-size=2'];

/** SIGKILLs `child` when this process exits, even on a crash, unless it has ended by then. */
export function killOnExit(child) {
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
}

/**
 * Starts the TestBroker CLI in its own process on free loopback ports (`extraArgs`: more CLI flags); resolves with
 * its URLs. With --drop-consumed: a benchmark's hundreds of thousands of messages would otherwise stay in its heap,
 * and its collector's pauses (25-105 ms measured) would show up in every latency figure; a real broker's storage
 * adds none of that. Killed when this process exits, even on a crash (it would hold the output pipe open).
 */
export function startBrokerProcess(extraArgs = []) {
  const child = spawnNode(1, [join(ROOT, 'testing/dist/cli.js'), '--port', '0', '--admin-port', '0', '--drop-consumed', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  killOnExit(child);
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

let gc;

/** A full garbage collection of this process (exposed at run time, so no node flag is needed). */
function collectGarbage() {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc');
  }
  gc();
}

/**
 * This process's CPU for a measured region, charging each variant of a benchmark for its own garbage: a full
 * collection before the region (so it does not pay for the previous variant's), and one inside it at its end
 * (so it pays for all of its own). `cpuStart()` begins a region; `cpuUsedUs(start)` ends it, in µs.
 */
export function cpuStart() {
  collectGarbage();
  return process.cpuUsage();
}

export function cpuUsedUs(start) {
  collectGarbage();
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

/** The topics holding a topic's messages: `<topic>-part-<i>` for each of more than one partition, else itself. */
export function topicsOf(topic, partitions) {
  return partitions > 1 ? Array.from({ length: partitions }, (_, i) => `${topic}-part-${i}`) : [topic];
}

/** Deletes a run's topics, so that a TestBroker (which keeps every message in memory) stays as small as at the first run. */
export async function deleteTopics(admin, topic, partitions) {
  for (const name of topicsOf(topic, partitions)) await admin.deleteTopic(name);
}

let danube;

/** The Danube protos' `danube` package as @grpc/grpc-js loads it with the SDK's loader options, loaded once. */
export function danubeApi() {
  danube ??= grpc.loadPackageDefinition(
    protoLoader.loadSync(join(ROOT, 'sdk/proto/DanubeApi.proto'), { keepCase: true, longs: String, enums: String, bytes: Buffer, defaults: true, oneofs: true }),
  ).danube;
  return danube;
}

/** A raw @grpc/grpc-js client of one Danube service: `call(method, request)` as a promise, `service` for streams. */
export function rawGrpcService(serviceUrl, name) {
  const service = new (danubeApi()[name])(serviceUrl.replace(/^https?:\/\//, ''), grpc.credentials.createInsecure());
  const call = (method, request) => new Promise((resolve, reject) => service[method](request, (err, res) => (err ? reject(err) : resolve(res))));
  return { service, call, close: () => service.close() };
}

export function rssMb() {
  return round(process.memoryUsage().rss / 1024 / 1024);
}

/** What the transport benchmarks compare: ours on each transport, raw grpc-js calls and a bare node:http2 loop. */
export const TRANSPORT_VARIANTS = ['grpc-js', 'http2', 'raw', 'bare'];

/**
 * The order of the variants in run `run`: as listed in even runs, reversed in odd ones, so that a machine whose
 * speed drifts during a run (it does here, by up to 2x within an hour) does not always favour the variant sampled
 * first.
 */
export function variantOrder(run) {
  return run % 2 === 0 ? TRANSPORT_VARIANTS : [...TRANSPORT_VARIANTS].reverse();
}

/**
 * The columns the transport benchmarks share, from samples per variant (`{ msgPerS, clientUs, failed }` each):
 * medians of msg/s and client CPU per message of every variant, the lean transport's CPU ratios, with `target`
 * the lean transport's target (issue 16: client CPU per call <= 0.55x grpc-js's and <= 1.1x the bare loop's)
 * when asked for, and the failed calls of all.
 */
export function transportColumns(of, { target = true } = {}) {
  const med = (variant, key) => median(of[variant].map((s) => s[key]));
  const cpu = Object.fromEntries(TRANSPORT_VARIANTS.map((v) => [v, med(v, 'clientUs')]));
  const vsGrpcJs = cpu.http2 / cpu['grpc-js'];
  const vsBare = cpu.http2 / cpu.bare;
  // The same ratios per run (the samples at one index ran back to back), then their median: drift between runs cancels.
  const paired = (variant) => median(of.http2.map((s, i) => s.clientUs / of[variant][i].clientUs));
  return {
    grpcjs_msg_per_s: Math.round(med('grpc-js', 'msgPerS')),
    http2_msg_per_s: Math.round(med('http2', 'msgPerS')),
    raw_grpcjs_msg_per_s: Math.round(med('raw', 'msgPerS')),
    bare_http2_msg_per_s: Math.round(med('bare', 'msgPerS')),
    grpcjs_cpu_us: Math.round(cpu['grpc-js']),
    http2_cpu_us: Math.round(cpu.http2),
    raw_grpcjs_cpu_us: Math.round(cpu.raw),
    bare_http2_cpu_us: Math.round(cpu.bare),
    http2_vs_grpcjs_cpu: round(vsGrpcJs, 2),
    http2_vs_bare_cpu: round(vsBare, 2),
    http2_vs_grpcjs_cpu_paired: round(paired('grpc-js'), 2),
    http2_vs_bare_cpu_paired: round(paired('bare'), 2),
    target: target ? `cpu <= 0.55x grpc-js, <= 1.1x bare: ${vsGrpcJs <= 0.55 && vsBare <= 1.1 ? 'met' : 'MISSED'}` : undefined,
    failed: TRANSPORT_VARIANTS.reduce((n, v) => n + of[v].reduce((m, s) => m + s.failed, 0), 0),
  };
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

/**
 * µs of CPU this process spends per wakeup of an otherwise idle event loop (a 10 ms interval with an empty body,
 * for `ms`). On bare metal a few µs; in a nested VM each exit from idle costs far more, and a path at a fixed rate
 * pays it in every process per message: the figure says how much of a latency row's CPU is the machine's.
 */
export async function idleWakeupCostUs(ms = 2000) {
  const start = process.cpuUsage();
  let wakeups = 0;
  const timer = setInterval(() => wakeups++, 10);
  await new Promise((resolve) => setTimeout(resolve, ms));
  clearInterval(timer);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / Math.max(1, wakeups);
}
