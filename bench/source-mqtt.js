// source-mqtt benchmark (issue 12, "Benchmark"): an mqtt.js publisher → mosquitto → @danube-plugin/source-mqtt run
// by the host (`danube-connect run`) → Danube (the TestBroker in its own process, or DANUBE_SERVICE_URL), counted
// by the connector's processed_total (committed = Danube acknowledged = PUBACKed for QoS 1, PUBRECed for QoS 2). Baselines in the same
// run: mosquitto → a plain mqtt.js subscriber (the MQTT limit) and the SDK producer alone into the same Danube
// with the case's partitions and ordering, sending the connector's messages (the Danube limit); baseline_msg_per_s
// = the smaller. 1 KiB payloads;
// medians of interleaved runs. Then publish-to-Danube latency at a fixed 1,000 msg/s and the connector child's
// RSS idle and at 1,000 msg/s. Targets: QoS 1 with ordering "none" >= 80 % of its baseline; p99 <= 25 ms at
// 1,000 msg/s; RSS at 1,000 msg/s <= idle + 32 MB. A json_schema case validates each 1 KiB JSON payload against a
// small schema before publishing, and a QoS 2 case holds each PUBREC until Danube has the message (issue 13).
// BENCH_CHILD_NODE_OPTIONS=<options> sets NODE_OPTIONS of the connector children (a --require'd profiler, say).
// BENCH_CASES=<name>,<name> runs only those cases (the latency and RSS rows only with "latency");
// BENCH_LATENCY_RATE=<msg/s> runs the latency rows at another rate, to see where the path stops queueing. Reports
// only; asserts nothing.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Mosquitto } from '@danube-connect/mqtt/testing';
import { DanubeAdminClient, DanubeClient } from '@danube-connect/sdk';
import mqtt from 'mqtt';
import { fileURLToPath } from 'node:url';
import { CONNECTOR_EXEC_ARGV, ROOT, closedLoop, idleWakeupCostUs, killOnExit, median, percentile, processCpuSeconds, report, round, runSampleIfAsked, sampleIntoTopic, startBrokerProcess, warmUp } from './lib.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 10_000);
/** BENCH_LATENCY_RATE=<msg/s>: the latency rows' fixed rate (the target is judged at 1,000 only). */
const LATENCY_RATE = Number(process.env.BENCH_LATENCY_RATE ?? 1_000);
const JUDGED_RATE = LATENCY_RATE === 1_000;
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_S ?? 10);
const LATENCY_WARMUP_SECONDS = 5;
const PAYLOAD_BYTES = 1024;
const CLI = join(ROOT, 'host/dist/cli.js');
const PLUGIN = join(ROOT, 'plugins/source-mqtt');
const RUN_ID = Date.now().toString(36);
/** Passed to every connector child as NODE_OPTIONS, e.g. `--require ./profile.cjs` to profile or trace it. */
const CHILD_NODE_OPTIONS = process.env.BENCH_CHILD_NODE_OPTIONS || undefined;
/** BENCH_WINDOW=<n>: every throughput connector's receive_maximum and max_in_flight (default: theirs, 64), for sizing. */
const WINDOW = process.env.BENCH_WINDOW ? Number(process.env.BENCH_WINDOW) : undefined;

// [case, qos, partitions, ordering, MQTT topics the publisher spreads over, route schema type, Danube transport]
const ALL_CASES = [
  ['qos0-p1-strict', 0, 0, 'partition', 1],
  ['qos0-p8-strict', 0, 8, 'partition', 64],
  ['qos0-none', 0, 0, 'none', 1],
  ['qos1-p1-strict', 1, 0, 'partition', 1],
  ['qos1-p8-strict', 1, 8, 'partition', 64],
  ['qos1-none', 1, 0, 'none', 1],
  ['qos1-none-json-schema', 1, 0, 'none', 1, 'json_schema'],
  ['qos2-none', 2, 0, 'none', 1],
  // The lean transport (issue 16) end to end; its baseline is the SDK producer on the same transport.
  ['qos1-none-http2', 1, 0, 'none', 1, undefined, 'http2'],
];
const LATENCY_CASE = 'latency';
/**
 * The latency connectors, each measured alone: as configured by default, with `memory_mb = 96` (a V8 heap cap,
 * --max-old-space-size), which makes V8 collect its old generation long before it would otherwise, and on the
 * lean transport (issue 16), which allocates about half as much per message.
 */
const LATENCY_CONNECTORS = [
  { name: LATENCY_CASE, memoryMb: undefined, transport: undefined },
  { name: `${LATENCY_CASE}-memory-96`, memoryMb: 96, transport: undefined },
  { name: `${LATENCY_CASE}-http2`, memoryMb: undefined, transport: 'http2' },
];
const SELECTED = process.env.BENCH_CASES ? new Set(process.env.BENCH_CASES.split(',').map((name) => name.trim()).filter(Boolean)) : undefined;
for (const name of SELECTED ?? []) {
  if (name !== LATENCY_CASE && !ALL_CASES.some(([known]) => known === name)) throw new Error(`BENCH_CASES: unknown case ${name}; known: ${[...ALL_CASES.map(([known]) => known), LATENCY_CASE].join(', ')}`);
}
const selected = (name) => SELECTED === undefined || SELECTED.has(name);
const CASES = ALL_CASES.filter(([name]) => selected(name));
const WITH_LATENCY = selected(LATENCY_CASE);
// The json_schema case: a small schema its payloads (jsonPayload) fit, under a subject of its own per run.
const JSON_SCHEMA = { type: 'object', required: ['t', 'pad'], properties: { t: { type: 'number' }, pad: { type: 'string', maxLength: 2048 } }, additionalProperties: false };
const danubeTopic = (name) => `/default/bench-mqtt-${name}-${RUN_ID}`;

/**
 * A 1 KiB payload starting with the send time twice (float64s): this process's monotonic clock (ms since its
 * time origin), for the end-to-end latency this process measures at both ends, and the wall clock (Date.now), the
 * clock the child's publish_time is read from, for the split at the send. Mixing the two across processes read
 * nonsense when the VM's wall clock was stepped mid-run (a 'from send' p99 of -150 ms).
 */
function payload() {
  const buffer = Buffer.alloc(PAYLOAD_BYTES, 0x61);
  buffer.writeDoubleLE(performance.now(), 0);
  buffer.writeDoubleLE(Date.now(), 8);
  return buffer;
}

/** A 1 KiB JSON payload valid against JSON_SCHEMA, with the send time in `t`. */
function jsonPayload() {
  const head = `{"t":${performance.timeOrigin + performance.now()},"pad":"`;
  return Buffer.from(`${head}${'a'.repeat(PAYLOAD_BYTES - head.length - 2)}"}`);
}

function vmRssMb(pid) {
  try {
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return kb ? Number(kb[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

function hostToml(serviceUrl, mqttUrl, schemaFile) {
  let toml = `[host]\nhttp = "127.0.0.1:0"\n\n[danube]\nservice_url = "${serviceUrl}"\n`;
  const connector = (name, route, transport, memoryMb, window) =>
    `\n[[connectors]]\nname = "bench-${name}"\nplugin = "${PLUGIN}"\nlog_level = "warn"\n${memoryMb ? `memory_mb = ${memoryMb}\n` : ''}` +
    (CHILD_NODE_OPTIONS ? `[connectors.env]\nNODE_OPTIONS = ${JSON.stringify(CHILD_NODE_OPTIONS)}\n` : '') +
    (transport ? `[connectors.danube]\ntransport = "${transport}"\n` : '') +
    (window ? `[connectors.processing]\nmax_in_flight = ${window}\n` : '') +
    `[connectors.config]\nurl = "${mqttUrl}"\nroutes = [${route}]\n${window ? `receive_maximum = ${window}\n` : ''}`;
  for (const [name, qos, partitions, ordering, , schemaType, transport] of CASES) {
    const schema = schemaType ? `, schema = { subject = "bench-${name}-${RUN_ID}", type = "${schemaType}", file = "${schemaFile}" }` : '';
    toml += connector(name, `{ from = "b/${name}/#", to = "${danubeTopic(name)}", qos = ${qos}, partitions = ${partitions}, ordering = "${ordering}"${schema} }`, transport, undefined, WINDOW);
  }
  // Latency: QoS 1, ordering "none": strict order on one partition tops out near 1,000 msg/s here (one round trip
  // at a time), so a fixed 1,000 msg/s would measure its queue, not its latency.
  for (const { name, memoryMb, transport } of WITH_LATENCY ? LATENCY_CONNECTORS : []) {
    toml += connector(name, `{ from = "b/${name}/#", to = "${danubeTopic(name)}", qos = 1, ordering = "none" }`, transport, memoryMb);
  }
  return toml;
}

async function startHost(dir, serviceUrl, mqttUrl) {
  const file = join(dir, 'host.toml');
  const schemaFile = join(dir, 'bench.schema.json');
  writeFileSync(schemaFile, JSON.stringify(JSON_SCHEMA));
  writeFileSync(file, hostToml(serviceUrl, mqttUrl, schemaFile));
  const child = spawn(process.execPath, [CLI, 'run', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Its watchdog takes the connector children with it.
  killOnExit(child);
  let tail = '';
  child.stderr.on('data', (chunk) => (tail = (tail + chunk).slice(-4000)));
  const http = await new Promise((resolve, reject) => {
    let buffered = '';
    child.once('exit', (code) => reject(new Error(`host exited with ${code}:\n${tail}`)));
    child.stdout.on('data', (chunk) => {
      tail = (tail + chunk).slice(-4000);
      buffered += chunk;
      for (let nl; (nl = buffered.indexOf('\n')) >= 0; buffered = buffered.slice(nl + 1)) {
        const line = buffered.slice(0, nl);
        if (line.includes('"danube-connect running"')) resolve(JSON.parse(line).http);
      }
      buffered = buffered.slice(-8000);
    });
  });
  const url = `http://${http}`;
  for (let i = 0; ; i++) {
    const res = await fetch(`${url}/readyz`).catch(() => undefined);
    if (res?.status === 200) {
      const body = await res.json();
      if (body.connectors.every((c) => c.ready)) break;
    } else await res?.body?.cancel();
    if (i > 1500) throw new Error(`host not ready:\n${tail}`);
    await sleep(20);
  }
  const { connectors } = await (await fetch(`${url}/connectors`)).json();
  const pids = Object.fromEntries(connectors.map((c) => [c.name, c.pid]));
  return { url, pids, pid: child.pid, stop: () => new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGTERM'); }) };
}

/**
 * CPU seconds used so far by each process of a run: this one (the publisher, or the SDK producer of the Danube
 * limit), the TestBroker, mosquitto, the host and the case's connector child. Per message, the split says where
 * the two cores go and whether a share of the limit is reachable at all (the end-to-end case runs five busy
 * processes, the Danube limit two).
 */
function cpuNow(pids) {
  const self = process.cpuUsage();
  return {
    bench: (self.user + self.system) / 1e6,
    ...Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, pid === undefined ? undefined : processCpuSeconds(pid)])),
  };
}

/** µs of CPU per message of each process between two cpuNow readings; `total` sums them. */
function cpuPerMessage(before, after, messages) {
  const split = {};
  let total = 0;
  for (const [name, seconds] of Object.entries(after)) {
    if (seconds === undefined || before[name] === undefined) continue;
    split[name] = ((seconds - before[name]) * 1e6) / messages;
    total += split[name];
  }
  return { ...split, total };
}

/** The host's merged /metrics (each read scrapes every connector child). */
const scrape = async (hostUrl) => (await fetch(`${hostUrl}/metrics`)).text();

/** The sum of metric `prefix` over the lines of one Danube topic (and `match`, when given) in `text`. */
function metricSum(text, prefix, topic, match = '') {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(prefix) && line.includes(`topic="${topic}"`) && line.includes(match)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** processed_total of one Danube topic. */
const processed = async (hostUrl, topic) => metricSum(await scrape(hostUrl), 'danube_connector_messages_processed_total{', topic);

/**
 * The child's own histogram of receipt to commit (for QoS 1: Danube's ack, then the PUBACK), from one scrape:
 * records committed so far in all, and within 25 ms (a bucket bound, sdk/src/runtime/connector-metrics.ts).
 */
async function commitDurations(hostUrl, topic) {
  const text = await scrape(hostUrl);
  const bucket = 'danube_connector_processing_duration_seconds_bucket{';
  return { all: metricSum(text, bucket, topic, 'le="+Inf"'), within25: metricSum(text, bucket, topic, 'le="0.025"') };
}

/**
 * Publishes `count` payloads over `topics` MQTT topics: QoS 1 with up to 500 PUBACKs outstanding, QoS 2 with up to 64
 * unfinished (mosquitto refuses more than its Receive Maximum with "Quota exceeded"), QoS 0 flushed in chunks.
 */
async function publishAll(client, prefix, topics, count, qos, make = payload) {
  if (qos === 2) {
    await closedLoop(count, 64, (i) => client.publishAsync(`${prefix}/${i % topics}`, make(), { qos: 2 }));
    return;
  }
  if (qos === 1) {
    await closedLoop(count, 500, (i) => client.publishAsync(`${prefix}/${i % topics}`, make(), { qos: 1 }));
    return;
  }
  for (let i = 0; i < count; i++) {
    const written = new Promise((resolve) => client.publish(`${prefix}/${i % topics}`, make(), { qos: 0 }, resolve));
    if (i % 200 === 199) await written; // let the socket drain now and then
  }
}

/** One connector case: N messages as fast as the publisher goes, until processed_total grew by N (or stalled 5 s). */
async function connectorRun(host, publisher, pids, [name, qos, , , topics, schemaType]) {
  const topic = danubeTopic(name);
  const before = await processed(host.url, topic);
  const cpuBefore = cpuNow({ ...pids, child: host.pids[`bench-${name}`] });
  const t0 = performance.now();
  const publishing = publishAll(publisher, `b/${name}`, topics, MESSAGES, qos, schemaType ? jsonPayload : payload);
  let done = before;
  let lastProgress = performance.now();
  let tLast = t0;
  while (done - before < MESSAGES && performance.now() - lastProgress < 5_000) {
    // Each scrape asks every connector child over IPC: poll gently, and often only near the end, whose time is the figure.
    await sleep(done - before >= 0.9 * MESSAGES ? 10 : 100);
    const now = await processed(host.url, topic);
    if (now > done) {
      done = now;
      lastProgress = tLast = performance.now();
    }
  }
  await publishing;
  const count = done - before;
  const cpu = cpuPerMessage(cpuBefore, cpuNow({ ...pids, child: host.pids[`bench-${name}`] }), count);
  return { msgPerS: count / ((tLast - t0) / 1000), lost: MESSAGES - count, cpu };
}

/** The MQTT limit: mosquitto → a plain mqtt.js subscriber, same QoS, same publisher. */
async function mqttBaseline(mqttUrl, publisher, qos, run) {
  const subscriber = await mqtt.connectAsync(mqttUrl, { clientId: `bench-sub-${run}-${qos}`, protocolVersion: 5 });
  const prefix = `base/${run}/${qos}`;
  await subscriber.subscribeAsync(`${prefix}/#`, { qos });
  let received = 0;
  let tLast = 0;
  const all = new Promise((resolve) =>
    subscriber.on('message', () => {
      tLast = performance.now();
      if (++received === MESSAGES) resolve();
    }),
  );
  const t0 = performance.now();
  await publishAll(publisher, prefix, 1, MESSAGES, qos);
  await Promise.race([all, sleep(60_000)]);
  await subscriber.endAsync(true);
  return received / ((tLast - t0) / 1000);
}

/**
 * The Danube limit: the SDK producer alone with the case's partitions, ordering and transport, 64 in flight, in a
 * process of its own with the connector child's V8 flags and warmed up, as the connector's child is by then
 * (bench/lib.js sampleIntoTopic: the caller deletes `topic` afterwards).
 */
async function danubeBaseline({ serviceUrl, brokerPid, topic, spec: [name, qos, partitions, ordering, topics, , transport], run }) {
  const client = new DanubeClient({ serviceUrl, ...(transport ? { transport } : {}) });
  const producer = await client.createProducer({ topic, name: `bench-base-${name}-${run}`, partitions, ordering, maxInFlight: 64 });
  // The connector's messages: its key (the MQTT topic) and the attributes include_metadata (the default) adds, one
  // frozen object per MQTT topic as source-mqtt shares them (plugins/source-mqtt/src/mqtt-record.ts), so the
  // TestBroker decodes and stores the same messages in the limit as in the case.
  const keys = Array.from({ length: topics }, (_, t) => `b/${name}/${t}`);
  const attributes = keys.map((key) => Object.freeze({ 'mqtt.topic': key, 'mqtt.qos': String(qos), 'mqtt.retain': 'false', 'mqtt.dup': 'false', source: 'mqtt' }));
  const send = (i) => producer.send(payload(), { key: keys[i % topics], attributes: attributes[i % topics] });
  await warmUp(2_000, 64, send);
  const cpuBefore = cpuNow({ broker: brokerPid });
  const result = await closedLoop(MESSAGES, 64, send);
  const cpu = cpuPerMessage(cpuBefore, cpuNow({ broker: brokerPid }), MESSAGES);
  await client.close();
  return { msgPerS: result.msgPerS, cpu };
}

/** Publish-to-Danube latency at a fixed rate, read by a consumer here; the child's RSS sampled meanwhile. */
async function latencyRun(host, publisher, pids, serviceUrl, name, run, warmupSeconds) {
  // The probe on the lean transport: it shares the two cores with what it measures, so the less it costs the better.
  const client = new DanubeClient({ serviceUrl, transport: 'http2' });
  const consumer = await client.subscribe({ topic: danubeTopic(name), name: `bench-${name}-${RUN_ID}`, subscription: `bench-${name}-${RUN_ID}-${run}`, type: 'exclusive', bufferSize: 1024 });
  const total = LATENCY_RATE * LATENCY_SECONDS;
  const warmup = LATENCY_RATE * warmupSeconds;
  const latencies = [];
  // The two legs, split at the child's send (publish_time, ms, set by the SDK producer): MQTT side and child
  // before it, Danube (and the consumer here) after it.
  const beforeSend = [];
  const afterSend = [];
  // One deadline for the whole run (the run's length plus 30 s), not a timer per message.
  const deadline = AbortSignal.timeout(((warmup + total) / LATENCY_RATE) * 1000 + 30_000);
  const receiving = (async () => {
    for (let received = 0; received < warmup + total; received++) {
      const message = await consumer.receive(deadline).catch(() => undefined);
      if (!message) break;
      if (received >= warmup) {
        latencies.push(performance.now() - message.payload.readDoubleLE(0));
        beforeSend.push(message.publishTime - message.payload.readDoubleLE(8));
        afterSend.push(Date.now() - message.publishTime);
      }
      void consumer.ack(message).catch(() => {});
    }
  })();
  const pid = host.pids[`bench-${name}`];
  const rss = [];
  const t0 = performance.now();
  // The child's histogram and every process's CPU at the end of the warm-up, read without holding up the pace.
  let atWarmup;
  let cpuAtWarmup;
  let measuredFrom;
  const cpuPids = { ...pids, child: pid };
  // Evenly paced: each tick (~1 ms) publishes what is due by then. Bursts of 10 every 10 ms would fill the
  // reliable subscription's window of 10 unacked (docs/danube-protocol.md §9.4) at once, and the consumer here would
  // add its own queueing to the figure.
  for (let sent = 0, sampled = 0; sent < warmup + total; await sleep(1)) {
    const due = Math.min(warmup + total, Math.floor(((performance.now() - t0) / 1000) * LATENCY_RATE));
    for (; sent < due; sent++) publisher.publish(`b/${name}/x`, payload(), { qos: 1 });
    if (sent >= warmup && !atWarmup) {
      cpuAtWarmup = cpuNow(cpuPids);
      measuredFrom = performance.now();
      atWarmup = commitDurations(host.url, danubeTopic(name));
    }
    if (sent >= sampled) {
      rss.push(vmRssMb(pid));
      sampled += LATENCY_RATE;
    }
  }
  rss.push(vmRssMb(pid));
  await receiving;
  const cpu = cpuPerMessage(cpuAtWarmup, cpuNow(cpuPids), total);
  // CPU seconds per second from the end of the warm-up to the last message received (longer than the run when the
  // path queues): the share of the machine the path and this probe took.
  const coresBusy = (cpu.total * total) / 1e6 / ((performance.now() - measuredFrom) / 1000);
  await client.close();
  const [from, to] = await Promise.all([atWarmup, commitDurations(host.url, danubeTopic(name))]);
  for (const list of [latencies, beforeSend, afterSend]) list.sort((a, b) => a - b);
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    p99BeforeSend: percentile(beforeSend, 99),
    p99AfterSend: percentile(afterSend, 99),
    received: latencies.length,
    total,
    childWithin25Pct: ((to.within25 - from.within25) / (to.all - from.all)) * 100,
    rssMax: Math.max(...rss.filter(Boolean)),
    cpu,
    coresBusy,
  };
}

await runSampleIfAsked({ danubeBaseline });
const SCRIPT = fileURLToPath(import.meta.url);
const tmp = mkdtempSync(join(tmpdir(), 'dc-bench-mqtt-'));
const external = process.env.DANUBE_SERVICE_URL || undefined;
// Measured before anything else runs here.
const wakeupUs = WITH_LATENCY ? await idleWakeupCostUs() : undefined;
const broker = external ? undefined : await startBrokerProcess();
const serviceUrl = external ?? broker.serviceUrl;
const admin = broker ? new DanubeAdminClient({ adminUrl: broker.adminUrl }) : undefined;
const mosquitto = await Mosquitto.start({ persistence: false });
let host;
const samples = Object.fromEntries(CASES.map(([name]) => [name, { msgPerS: [], lost: [], danube: [], cpu: [], danubeCpu: [] }]));
const mqttLimit = { 0: [], 1: [], 2: [] };
/** Per latency connector: its runs and its child's RSS 3 s after ready. */
const latency = new Map(LATENCY_CONNECTORS.map(({ name }) => [name, []]));
const idleRss = new Map();
try {
  host = await startHost(tmp, serviceUrl, mosquitto.url);
  await sleep(3_000);
  for (const { name } of WITH_LATENCY ? LATENCY_CONNECTORS : []) idleRss.set(name, vmRssMb(host.pids[`bench-${name}`]));
  const publisher = await mqtt.connectAsync(mosquitto.url, { clientId: `bench-pub-${RUN_ID}`, protocolVersion: 5 });
  publisher.stream.setNoDelay?.(true);
  const pids = { broker: broker?.pid, mosquitto: mosquitto.pid, host: host.pid };
  // Latency first, into an empty TestBroker: once it holds the throughput cases' messages (hundreds of MB in one
  // V8 heap) its own garbage collection pauses for tens to hundreds of ms, which a latency run would measure.
  // Interleaved runs, each after a warm-up at the same rate that is not counted: the route's producer is created on
  // its first record and code gets compiled; the first run after start also finds the TestBroker and this process
  // cold (measured: its p99 after a 1 s warm-up was 160-260 ms, nearly all after the child's send, against 18-35 ms
  // for the run that followed), so it warms up longer.
  for (let run = 0; WITH_LATENCY && run < RUNS; run++) {
    for (const { name } of LATENCY_CONNECTORS) latency.get(name).push(await latencyRun(host, publisher, pids, serviceUrl, name, run, run === 0 ? LATENCY_WARMUP_SECONDS : 1));
  }
  // One unmeasured run of every case first: each connector child starts cold, as each limit's process does, which
  // warms up before it measures.
  for (const spec of CASES) await connectorRun(host, publisher, pids, spec);
  for (let run = 0; run < RUNS; run++) {
    for (const qos of new Set(CASES.map(([, q]) => q))) mqttLimit[qos].push(await mqttBaseline(mosquitto.url, publisher, qos, run));
    for (const spec of CASES) {
      const result = await connectorRun(host, publisher, pids, spec);
      // The connectors' own topics stay: their producers are attached for the whole run.
      const topic = `/default/bench-mqtt-base-${spec[0]}-${RUN_ID}-${run}`;
      const limit = await sampleIntoTopic(admin, { topic, partitions: spec[2] }, SCRIPT, 'danubeBaseline', { serviceUrl, brokerPid: broker?.pid, topic, spec, run }, { execArgv: CONNECTOR_EXEC_ARGV });
      const sample = samples[spec[0]];
      sample.msgPerS.push(result.msgPerS);
      sample.lost.push(result.lost);
      sample.cpu.push(result.cpu);
      sample.danube.push(limit.msgPerS);
      sample.danubeCpu.push(limit.cpu);
    }
    process.stderr.write('.');
  }
  await publisher.endAsync();
} finally {
  process.stderr.write('\n');
  await host?.stop();
  admin?.close();
  await mosquitto.dispose();
  await broker?.stop();
  rmSync(tmp, { recursive: true, force: true });
}

const row = (fields) => ({
  case: undefined, msg_per_s: undefined, baseline_msg_per_s: undefined, mqtt_limit_msg_per_s: undefined, danube_limit_msg_per_s: undefined,
  of_baseline_pct: undefined, child_cpu_us: undefined, broker_cpu_us: undefined, mqtt_cpu_us: undefined, host_cpu_us: undefined,
  cpu_total_us: undefined, limit_cpu_total_us: undefined, cores_busy: undefined, cpu_bound_pct: undefined, lost_max: undefined, p50_ms: undefined, p99_ms: undefined,
  p99_to_send_ms: undefined, p99_from_send_ms: undefined, child_commit_within_25ms_pct: undefined, rss_mb: undefined, target: undefined, ...fields,
});
/** The median of one process's CPU per message (cpuPerMessage keys; `total` sums them) over runs' splits. */
const medianCpu = (splits, key) => median(splits.map((split) => split[key] ?? 0));
/** The per-process CPU columns of a row, from the runs' cpuPerMessage splits. */
const cpuColumns = (splits) => ({
  child_cpu_us: round(medianCpu(splits, 'child'), 0),
  broker_cpu_us: round(medianCpu(splits, 'broker'), 0),
  mqtt_cpu_us: round(medianCpu(splits, 'bench') + medianCpu(splits, 'mosquitto'), 0),
  host_cpu_us: round(medianCpu(splits, 'host'), 0),
  cpu_total_us: round(medianCpu(splits, 'total'), 0),
});
const rows = CASES.map(([name, qos]) => {
  const s = samples[name];
  const msgPerS = median(s.msgPerS);
  const mqttMsgPerS = median(mqttLimit[qos]);
  const danubeMsgPerS = median(s.danube);
  const baseline = Math.min(mqttMsgPerS, danubeMsgPerS);
  const ratio = msgPerS / baseline;
  const total = medianCpu(s.cpu, 'total');
  return row({
    case: name,
    msg_per_s: round(msgPerS, 0),
    baseline_msg_per_s: round(baseline, 0),
    mqtt_limit_msg_per_s: round(mqttMsgPerS, 0),
    danube_limit_msg_per_s: round(danubeMsgPerS, 0),
    of_baseline_pct: round(ratio * 100, 0),
    ...cpuColumns(s.cpu),
    limit_cpu_total_us: round(medianCpu(s.danubeCpu, 'total'), 0),
    cores_busy: round((msgPerS * total) / 1e6, 2),
    cpu_bound_pct: round((2e6 / total / baseline) * 100, 0),
    lost_max: Math.max(...s.lost),
    target: name === 'qos1-none' ? `>= 80 %: ${ratio >= 0.8 ? 'met' : 'MISSED'}` : undefined,
  });
});
for (const { name, memoryMb, transport } of WITH_LATENCY ? LATENCY_CONNECTORS : []) {
  const runs = latency.get(name);
  const med = (key) => median(runs.map((r) => r[key]));
  const run = { p50: med('p50'), p99: med('p99'), p99BeforeSend: med('p99BeforeSend'), p99AfterSend: med('p99AfterSend'), childWithin25Pct: med('childWithin25Pct'), rssMax: med('rssMax') };
  const lost = Math.max(...runs.map((r) => r.total - r.received));
  const idle = idleRss.get(name);
  const capped = `${memoryMb ? `, memory_mb = ${memoryMb}` : ''}${transport ? `, ${transport}` : ''}`;
  rows.push(row({
    case: `latency qos1 @ ${LATENCY_RATE}/s${capped}`,
    msg_per_s: LATENCY_RATE,
    lost_max: lost,
    p50_ms: round(run.p50, 2),
    p99_ms: round(run.p99, 2),
    p99_to_send_ms: round(run.p99BeforeSend, 1),
    p99_from_send_ms: round(run.p99AfterSend, 1),
    child_commit_within_25ms_pct: round(run.childWithin25Pct, 2),
    ...cpuColumns(runs.map((r) => r.cpu)),
    cores_busy: round(med('coresBusy'), 2),
    target: JUDGED_RATE ? `p99 <= 25 ms: ${run.p99 <= 25 ? 'met' : 'MISSED'}` : undefined,
  }));
  rows.push(row({ case: `child RSS idle${capped}`, rss_mb: round(idle) }));
  rows.push(row({ case: `child RSS @ ${LATENCY_RATE}/s${capped}`, rss_mb: round(run.rssMax), target: JUDGED_RATE ? `<= idle + 32 MB: ${run.rssMax <= idle + 32 ? 'met' : 'MISSED'}` : undefined }));
}
report('source-mqtt', rows, [
  `Median of ${RUNS} interleaved runs of ${MESSAGES} messages of ${PAYLOAD_BYTES} B; Danube: ${external ? 'DANUBE_SERVICE_URL' : 'TestBroker in its own process'}; mosquitto on loopback; everything shares this machine's cores (load average ${round(loadavg()[0], 1)} at the end).`,
  'msg_per_s: first publish to the last processed_total increase of the case\'s topic (host /metrics, polled every 100 ms, every 10 ms past 90 %); lost_max: messages not counted within 5 s of the last progress (QoS 0 may drop).',
  'qos1-none-json-schema: qos1-none with a json_schema route schema: each 1 KiB JSON payload is checked by ajv (an object with a number and a string, additionalProperties false) before publishing and stamped with the schema id; lost_max counts dead-lettered ones too (none expected).',
  '*_cpu_us: CPU (user + system, /proc) per message of each process during the case: the connector child, the TestBroker, the MQTT side (this process publishing, and mosquitto), the host; cpu_total_us sums them (with DANUBE_SERVICE_URL the broker is left out); limit_cpu_total_us: the same for the Danube limit (this process producing, and the TestBroker); cores_busy = msg_per_s x cpu_total_us; cpu_bound_pct: the share of the baseline the case would reach using both cores fully at its CPU per message, so a target above it cannot be met by the connector being faster alone.',
  'mqtt_limit: mosquitto → a plain mqtt.js subscriber in this process; danube_limit: the SDK producer alone (64 in flight, the case\'s partitions and ordering, the connector\'s keys and metadata attributes); baseline = the smaller.',
  WITH_LATENCY
    ? `latency: QoS 1, ordering "none", at a fixed ${LATENCY_RATE} msg/s for ${LATENCY_SECONDS} s (medians of ${RUNS} interleaved runs, each after a warm-up: ${LATENCY_WARMUP_SECONDS} s for the first, 1 s after), publish (payload timestamp) to delivery to a consumer here (a reliable route; the consumer acks without waiting); p99_to_send / p99_from_send: the tail of each leg, split at the child's send (publish_time, whole ms): mosquitto and the child before it, Danube and this consumer after it; child_commit_within_25ms_pct: the share of the records the child committed during the measured part (its processing_duration histogram, receipt to Danube's ack and the PUBACK) within 25 ms, the connector's own part of publish-to-Danube (>= 99 % is a p99 within 25 ms); RSS: VmRSS of that connector child, idle 3 s after ready vs the max while a run ran; these run before the throughput cases, into an empty TestBroker (started with --drop-consumed, bench/lib.js); then the same with a connector whose child has memory_mb = 96, and one on the http2 transport; the consumer here uses http2. Latency rows' *_cpu_us: per message from the end of the warm-up to the last message received, this consumer included in mqtt_cpu_us; cores_busy: their CPU seconds per second over that time (near 2, the path queued and the latency is the queue's). An empty 10 ms timer's wakeup cost this process ${round(wakeupUs, 0)} µs of CPU here (a few µs on bare metal): every process on the path pays such a wakeup per message at a fixed rate.`
    : 'BENCH_CASES left out the latency and RSS rows.',
]);
