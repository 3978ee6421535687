// sink-mqtt benchmark (issue 14, "Benchmark"): Danube → @danube-plugin/sink-mqtt in a real connector child (forked
// as the host forks it) → mosquitto → an mqtt.js subscriber here. 1 KiB, QoS 1, an Exclusive subscription, 1 and 4
// partitions. Two TestBrokers, each in its own process: one plain, for the pace (a backlog drained, msg/s from the
// first arrival to the last, as the ack baseline drains a full topic), and one emulating the live-tail skip (--live-tail-capacity 32,
// docs/danube-protocol.md §9.4) for a producer at the source-mqtt rate: p99 latency (in Danube to arrival), consumer lag
// (in Danube minus arrived, sampled), the longest stall, and gaps (the sink's skipped-messages count). Each run deletes
// its topics, so the brokers' memory stays as at the first run. Baselines in the same run: a plain
// mqtt.js publisher to the same mosquitto, and raw grpc-js ReceiveMessages + unary Acks at 10 in flight per partition
// to the same Danube; baseline_msg_per_s = the smaller. Medians of interleaved runs. Target: >= 80 % of the
// baseline and zero gaps at the source-mqtt rate. Reports only; asserts nothing.
// BENCH_CPU_PROF=<dir> writes a CPU profile of each sink child there (node --cpu-prof).
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Mosquitto } from '@danube-connect/mqtt/testing';
import { DanubeAdminClient, DanubeClient } from '@danube-connect/sdk';
import { ConnectorProcess } from '@danube-connect/testing';
import mqtt from 'mqtt';
import { closedLoop, deleteTopics, median, percentile, processCpuSeconds, rawGrpcService, report, ROOT, round, startBrokerProcess, topicsOf } from './lib.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 10_000);
/** Drained live by each paced sink before its measured drain (see paceRun). */
const WARMUP_MESSAGES = Number(process.env.BENCH_WARMUP_MESSAGES ?? 10_000);
const PAYLOAD_BYTES = 1024;
const LIVE_TAIL = 32;
const ACKS_IN_FLIGHT = 10;
const PARTITIONS = (process.env.BENCH_PARTITIONS ?? '1,4').split(',').map(Number);
const PLUGIN = join(ROOT, 'plugins/sink-mqtt/dist/index.js');
/** The same sink without `pipelined`: the runtime hands it one window of 10 at a time (how it ran before). */
const BATCHING = join(ROOT, 'plugins/sink-mqtt/test/fixtures/batching.js');
const RUN_ID = Date.now().toString(36);
const CPU_PROF = process.env.BENCH_CPU_PROF || undefined;

/**
 * The source-mqtt rate for a topic of this many partitions: from this machine's bench-results/source-mqtt.json
 * (QoS 1, strict order: 1 partition, or the 8-partition case for more), else the figures measured there once.
 */
function sourceRate(partitions) {
  const file = join(ROOT, 'bench-results/source-mqtt.json');
  const name = partitions === 1 ? 'qos1-p1-strict' : 'qos1-p8-strict';
  if (existsSync(file)) {
    const row = JSON.parse(readFileSync(file, 'utf8')).rows.find((r) => r.case === name);
    if (row?.msg_per_s > 0) return { rate: row.msg_per_s, from: 'bench-results/source-mqtt.json' };
  }
  return { rate: partitions === 1 ? 2_600 : 4_000, from: 'default (source-mqtt QoS 1 measured on a quiet machine)' };
}

/** A 1 KiB payload starting with the send time (ms since the epoch, float64) and the message's index (uint32). */
function payload(index = 0) {
  const buffer = Buffer.alloc(PAYLOAD_BYTES, 0x61);
  buffer.writeDoubleLE(performance.timeOrigin + performance.now(), 0);
  buffer.writeUInt32LE(index, 8);
  return buffer;
}

const now = () => performance.timeOrigin + performance.now();

/** An MQTT subscriber on `filter`: arrivals counted, latency from the payload's timestamp. */
async function subscriber(url, filter, name) {
  const client = await mqtt.connectAsync(url, { clientId: `bench-sub-${name}`, protocolVersion: 5 });
  const tap = { client, arrived: 0, latencies: [], tLast: 0, arrivedAt: new Map() };
  client.on('message', (_topic, message) => {
    tap.tLast = performance.now();
    tap.arrived++;
    if (message.length >= 12) {
      tap.latencies.push(now() - message.readDoubleLE(0));
      const index = message.readUInt32LE(8);
      if (!tap.arrivedAt.has(index)) tap.arrivedAt.set(index, tap.tLast);
    }
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return tap;
}

async function until(check, timeoutMs, stalledMs = 5_000) {
  const deadline = performance.now() + timeoutMs;
  let last = check();
  let progressAt = performance.now();
  while (last.done !== true && performance.now() < deadline && performance.now() - progressAt < stalledMs) {
    await sleep(20);
    const next = check();
    if (next.value !== last.value) progressAt = performance.now();
    last = next;
  }
}

/** The sink in a connector child, reading `topic` into MQTT `to`, ready (subscribed) when this resolves. */
async function startSink(serviceUrl, mqttUrl, topic, to, name, transport = 'grpc-js', entry = PLUGIN) {
  const child = new ConnectorProcess(CPU_PROF ? { execArgv: ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`] } : {});
  child.start({
    entry,
    connector: name,
    kind: 'sink',
    plugin: { name: '@danube-plugin/sink-mqtt', version: '0.1.0' },
    config: { url: mqttUrl, routes: [{ from: topic, to, qos: 1 }] },
    danube: { serviceUrl, transport },
    runtime: {},
    logLevel: 'warn',
  });
  await child.next('ready', 30_000);
  return child;
}

/** Admin clients by service URL (set when each TestBroker starts). */
const admins = new Map();

/** Deletes a run's topics on the TestBroker at `serviceUrl` (bench/lib.js deleteTopics). */
function forget(serviceUrl, topic, partitions) {
  return deleteTopics(admins.get(serviceUrl), topic, partitions);
}

async function skippedBy(child) {
  const metrics = await child.metrics();
  return metrics.find((m) => m.name === 'danube_connector_skipped_messages_total')?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;
}

/**
 * Pace: a backlog drained, as the ack baseline drains one, by a warm sink. The sink subscribes (a new subscription
 * starts at the topic's end) and first drains WARMUP_MESSAGES live: a connector child starts cold, and a drain
 * measured from its start would count V8 compiling the hot path. Then mosquitto is paused (SIGSTOP) while the backlog
 * is written: the sink's publishes wait for their PUBACKs, it acks nothing more, and Danube holds the rest. Resumed,
 * the sink drains it: msg/s from its first arrival after the resume to its last; the child's CPU per message meanwhile.
 */
async function paceRun(serviceUrl, mosquitto, partitions, run, transport, entry = PLUGIN) {
  const id = `pace-${transport}-${entry === PLUGIN ? 'p' : 'b'}-${partitions}-${run}-${RUN_ID}`;
  const topic = `/default/bench-sink-${id}`;
  const client = new DanubeClient({ serviceUrl });
  const producer = await client.createProducer({ topic, name: `bench-${id}`, partitions: partitions === 1 ? 0 : partitions, dispatch: 'reliable', maxInFlight: 64 });
  const tap = await subscriber(mosquitto.url, `bench/${id}/#`, id);
  const child = await startSink(serviceUrl, mosquitto.url, topic, `bench/${id}/{key}`, `bench-${id}`, transport, entry);
  const send = (i) => producer.send(payload(), { key: `k${i % 16}` });
  await closedLoop(WARMUP_MESSAGES, 64, send);
  await until(() => ({ done: tap.arrived >= WARMUP_MESSAGES, value: tap.arrived }), 120_000);
  mosquitto.pause();
  let backlog;
  try {
    backlog = await closedLoop(MESSAGES, 64, send);
  } finally {
    mosquitto.resume();
  }
  const before = tap.arrived;
  let tFirst = 0;
  tap.client.once('message', () => (tFirst = performance.now()));
  const cpu0 = processCpuSeconds(child.pid);
  await until(() => ({ done: tap.arrived - before >= MESSAGES, value: tap.arrived }), 120_000);
  const drained = tap.arrived - before;
  const msgPerS = (drained - 1) / ((tap.tLast - tFirst) / 1000);
  const cpuUs = ((processCpuSeconds(child.pid) - cpu0) * 1e6) / Math.max(1, drained);
  await child.stop();
  await tap.client.endAsync(true);
  await client.close();
  await forget(serviceUrl, topic, partitions);
  return { msgPerS, cpuUs, lost: Math.max(0, MESSAGES - drained) + backlog.failed };
}

/**
 * At the source-mqtt rate through the emulated live tail: latency, lag, stalls and gaps. The producer has one send in
 * flight per partition ('partition' ordering, as source-mqtt's ordered routes), so on a busy machine it can fall
 * behind its schedule; what it has not sent yet waits in this process and is no part of the sink's latency or lag,
 * which count from the broker's answer to each send (the message is in Danube) to its arrival at the subscriber.
 */
async function rateRun(serviceUrl, mqttUrl, partitions, rate, run) {
  const id = `rate-${partitions}-${run}-${RUN_ID}`;
  const topic = `/default/bench-sink-${id}`;
  const client = new DanubeClient({ serviceUrl });
  const producer = await client.createProducer({ topic, name: `bench-${id}`, partitions: partitions === 1 ? 0 : partitions, dispatch: 'reliable', maxInFlight: 256 });
  const tap = await subscriber(mqttUrl, `bench/${id}/#`, id);
  const child = await startSink(serviceUrl, mqttUrl, topic, `bench/${id}/{key}`, `bench-${id}`);
  let sent = 0;
  let accepted = 0;
  const acceptedAt = new Float64Array(MESSAGES);
  const lags = [];
  const backlogs = [];
  const sends = [];
  const t0 = performance.now();
  const TICK_MS = 5;
  // Until every send is answered: stalls, times without an arrival while messages were in Danube and not yet at the
  // subscriber (measured at the end of the path), the longest one and the most messages Danube accepted during one.
  // The emulated live tail absorbs 10 unacked + 32 in the channel per partition (docs/danube-protocol.md §9.4); more
  // in one stall are skipped. The rate within a stall is what counts, not the mean: the processes that are not
  // stalled get the cores meanwhile, and the producer speeds up.
  let maxStallMs = 0;
  let maxStallAccepted = 0;
  let lastArrivals = 0;
  let quietSince = t0;
  let acceptedWhenQuiet = 0;
  const watchStalls = () => {
    const t = performance.now();
    if (tap.arrived !== lastArrivals || accepted <= tap.arrived) {
      lastArrivals = tap.arrived;
      quietSince = t;
      acceptedWhenQuiet = accepted;
    } else {
      maxStallMs = Math.max(maxStallMs, t - quietSince);
      maxStallAccepted = Math.max(maxStallAccepted, accepted - acceptedWhenQuiet);
    }
  };
  tap.client.on('message', watchStalls);
  const stallTicks = setInterval(watchStalls, TICK_MS);
  while (sent < MESSAGES) {
    const due = Math.min(MESSAGES, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
    for (; sent < due; sent++) {
      const index = sent;
      sends.push(producer.send(payload(index), { key: `k${index % 16}` }).then(() => {
        acceptedAt[index] = performance.now();
        accepted++;
      }));
    }
    lags.push(accepted - tap.arrived);
    backlogs.push(sent - accepted);
    await sleep(TICK_MS);
  }
  await Promise.all(sends);
  const producedMsgPerS = MESSAGES / ((performance.now() - t0) / 1000);
  clearInterval(stallTicks);
  tap.client.off('message', watchStalls);
  await until(() => ({ done: tap.arrived >= MESSAGES, value: tap.arrived }), 60_000);
  const skipped = await skippedBy(child);
  await child.stop();
  await tap.client.endAsync(true);
  await client.close();
  await forget(serviceUrl, topic, partitions);
  // A message may arrive just before its send's answer is processed here: that counts as 0.
  const latencies = [...tap.arrivedAt].map(([index, at]) => Math.max(0, at - acceptedAt[index])).sort((a, b) => a - b);
  lags.sort((a, b) => a - b);
  tap.latencies.sort((a, b) => a - b);
  return {
    producedMsgPerS,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    sendP99: percentile(tap.latencies, 99),
    backlogMax: Math.max(0, ...backlogs),
    lagP99: percentile(lags, 99),
    lagMax: lags[lags.length - 1] ?? 0,
    maxStallMs,
    maxStallAccepted,
    skipped,
    lost: MESSAGES - tap.arrived - skipped,
  };
}

/** The MQTT limit: a plain mqtt.js publisher, QoS 1, 10 in flight per partition, to a subscriber here. */
async function mqttBaseline(mqttUrl, partitions, run) {
  const id = `base-${partitions}-${run}-${RUN_ID}`;
  const tap = await subscriber(mqttUrl, `bench/${id}/#`, id);
  const publisher = await mqtt.connectAsync(mqttUrl, { clientId: `bench-pub-${id}`, protocolVersion: 5 });
  const t0 = performance.now();
  await closedLoop(MESSAGES, ACKS_IN_FLIGHT * partitions, (i) => publisher.publishAsync(`bench/${id}/k${i % 16}`, payload(), { qos: 1 }));
  await until(() => ({ done: tap.arrived >= MESSAGES, value: tap.arrived }), 60_000);
  const msgPerS = tap.arrived / ((tap.tLast - t0) / 1000);
  await publisher.endAsync(true);
  await tap.client.endAsync(true);
  return msgPerS;
}

/** The Danube limit: raw grpc-js ReceiveMessages per partition, unary Acks at 10 in flight per partition, draining a full topic. */
async function ackBaseline(serviceUrl, partitions, run) {
  const id = `ack-${partitions}-${run}-${RUN_ID}`;
  const topic = `/default/bench-sink-${id}`;
  const { service, call, close } = rawGrpcService(serviceUrl, 'ConsumerService');
  const client = new DanubeClient({ serviceUrl });
  const producer = await client.createProducer({ topic, name: `bench-${id}`, partitions: partitions === 1 ? 0 : partitions, dispatch: 'reliable', ordering: 'none', maxInFlight: 64 });
  const partitionTopics = topicsOf(topic, partitions);
  const subscription = `s-${id}`;
  let done = 0;
  let t0 = 0;
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  const streams = [];
  for (const [i, partitionTopic] of partitionTopics.entries()) {
    const { consumer_id } = await call('Subscribe', { request_id: String(i), topic_name: partitionTopic, consumer_name: `c-${id}`, subscription, subscription_type: 'Exclusive', key_filters: [] });
    const queue = [];
    let inFlight = 0;
    const pump = () => {
      while (t0 > 0 && inFlight < ACKS_IN_FLIGHT && queue.length > 0) {
        const m = queue.shift();
        inFlight++;
        call('Ack', { request_id: m.request_id, msg_id: m.msg_id, subscription_name: subscription }).finally(() => {
          inFlight--;
          if (++done === MESSAGES) finish();
          pump();
        });
      }
    };
    const stream = service.ReceiveMessages({ request_id: '1', consumer_id });
    stream.on('data', (m) => {
      queue.push(m);
      pump();
    });
    stream.on('error', () => {});
    streams.push({ stream, pump });
  }
  await closedLoop(MESSAGES, 64, (i) => producer.send(payload(), { key: `k${i}` }));
  // As for the sink's pace, but from a full topic: the clock starts when every message is in Danube.
  t0 = performance.now();
  for (const { pump } of streams) pump();
  await Promise.race([finished, sleep(120_000)]);
  const msgPerS = done / ((performance.now() - t0) / 1000);
  for (const { stream } of streams) stream.cancel();
  close();
  await client.close();
  await forget(serviceUrl, topic, partitions);
  return msgPerS;
}

const plain = await startBrokerProcess();
const lagging = await startBrokerProcess(['--live-tail-capacity', String(LIVE_TAIL)]);
const mosquitto = await Mosquitto.start({ persistence: false });
for (const broker of [plain, lagging]) admins.set(broker.serviceUrl, new DanubeAdminClient({ adminUrl: broker.adminUrl }));
const samples = new Map(PARTITIONS.map((p) => [p, { pace: [], paceHttp2: [], paceBatching: [], rate: [], mqtt: [], ack: [] }]));
const rates = new Map(PARTITIONS.map((p) => [p, sourceRate(p)]));
try {
  for (let run = 0; run < RUNS; run++) {
    for (const partitions of PARTITIONS) {
      const s = samples.get(partitions);
      s.mqtt.push(await mqttBaseline(mosquitto.url, partitions, run));
      s.ack.push(await ackBaseline(plain.serviceUrl, partitions, run));
      s.pace.push(await paceRun(plain.serviceUrl, mosquitto, partitions, run, 'grpc-js'));
      s.paceHttp2.push(await paceRun(plain.serviceUrl, mosquitto, partitions, run, 'http2'));
      s.paceBatching.push(await paceRun(plain.serviceUrl, mosquitto, partitions, run, 'grpc-js', BATCHING));
      s.rate.push(await rateRun(lagging.serviceUrl, mosquitto.url, partitions, rates.get(partitions).rate, run));
      process.stderr.write('.');
    }
  }
} finally {
  process.stderr.write('\n');
  for (const admin of admins.values()) admin.close();
  await mosquitto.dispose();
  await plain.stop();
  await lagging.stop();
}

const rows = PARTITIONS.map((partitions) => {
  const s = samples.get(partitions);
  const msgPerS = median(s.pace.map((r) => r.msgPerS));
  const mqttMsgPerS = median(s.mqtt);
  const ackMsgPerS = median(s.ack);
  const baseline = Math.min(mqttMsgPerS, ackMsgPerS);
  const ratio = msgPerS / baseline;
  const gaps = Math.max(...s.rate.map((r) => r.skipped));
  return {
    partitions,
    msg_per_s: round(msgPerS, 0),
    baseline_msg_per_s: round(baseline, 0),
    mqtt_limit_msg_per_s: round(mqttMsgPerS, 0),
    danube_ack_limit_msg_per_s: round(ackMsgPerS, 0),
    of_baseline_pct: round(ratio * 100, 0),
    sink_cpu_us_per_msg: round(median(s.pace.map((r) => r.cpuUs)), 0),
    http2_msg_per_s: round(median(s.paceHttp2.map((r) => r.msgPerS)), 0),
    http2_of_baseline_pct: round((median(s.paceHttp2.map((r) => r.msgPerS)) / baseline) * 100, 0),
    http2_cpu_us_per_msg: round(median(s.paceHttp2.map((r) => r.cpuUs)), 0),
    batching_msg_per_s: round(median(s.paceBatching.map((r) => r.msgPerS)), 0),
    source_rate_msg_per_s: rates.get(partitions).rate,
    produced_msg_per_s: round(median(s.rate.map((r) => r.producedMsgPerS)), 0),
    producer_backlog_max: Math.max(...s.rate.map((r) => r.backlogMax)),
    send_p99_ms: round(median(s.rate.map((r) => r.sendP99)), 2),
    p50_ms: round(median(s.rate.map((r) => r.p50)), 2),
    p99_ms: round(median(s.rate.map((r) => r.p99)), 2),
    lag_p99: round(median(s.rate.map((r) => r.lagP99)), 0),
    lag_max: Math.max(...s.rate.map((r) => r.lagMax)),
    stall_ms_by_run: s.rate.map((r) => round(r.maxStallMs, 0)).join('/'),
    stall_accepted_by_run: s.rate.map((r) => r.maxStallAccepted).join('/'),
    skipped_by_run: s.rate.map((r) => r.skipped).join('/'),
    skipped_max: gaps,
    lost_max: Math.max(...s.rate.map((r) => r.lost), ...s.pace.map((r) => r.lost)),
    target: `>= 80 %: ${ratio >= 0.8 ? 'met' : 'MISSED'}; zero gaps: ${gaps === 0 ? 'met' : 'MISSED'}`,
  };
});
report('sink-mqtt', rows, [
  `Median of ${RUNS} interleaved runs of ${MESSAGES} messages of ${PAYLOAD_BYTES} B, QoS 1, an Exclusive subscription; TestBrokers in their own processes, mosquitto on loopback, the sink in a connector child; everything shares this machine's cores (load average ${round(loadavg()[0], 1)} at the end).`,
  'msg_per_s: a backlog written while mosquitto was paused, drained by a sink warm from a live drain of ' + WARMUP_MESSAGES + ': its first to its last arrival at an MQTT subscriber here, acks on grpc-js (the default); http2_: the same with `[danube] transport = "http2"`; batching_: the sink handed one window of 10 at a time (not pipelined, as it ran before; test/fixtures/batching.js); cpu_us_per_msg: the sink child\'s CPU (user + system) per message meanwhile; lost_max: never arrived (nor counted skipped).',
  `mqtt_limit: a plain mqtt.js publisher, QoS 1, ${ACKS_IN_FLIGHT} in flight per partition, to the same mosquitto; danube_ack_limit: raw grpc-js ReceiveMessages + unary Acks, ${ACKS_IN_FLIGHT} in flight per partition, draining a full topic on the same TestBroker; baseline = the smaller.`,
  `source_rate: the producer's schedule through a TestBroker emulating a live-tail channel of ${LIVE_TAIL} (docs/danube-protocol.md §9.4), source rate from ${[...rates.values()].map((r) => r.from).join(' / ')}; produced: what Danube accepted per second (one send in flight per partition, as source-mqtt's ordered routes: on a busy machine it falls behind the schedule); producer_backlog_max: sends scheduled and not yet answered, waiting in this process; send_p99: schedule to MQTT arrival, that backlog included.`,
  `p50/p99: the broker's answer to a send (in Danube) to the MQTT arrival; lag: in Danube and not arrived (sampled every 5 ms); stall: the longest time without an arrival while messages were in Danube and not arrived, and the most messages Danube accepted during one such time (all partitions): the emulated live tail absorbs ${ACKS_IN_FLIGHT} unacked + ${LIVE_TAIL} in the channel per partition, more are skipped; skipped: the sink's danube_connector_skipped_messages_total.`,
]);
