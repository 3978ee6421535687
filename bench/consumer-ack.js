// Consumer benchmark (issue 8, docs/danube-protocol.md §9.4, issue 16): how fast a subscription is drained by receive + ack, and
// the client CPU per message. Our Consumer (a receive loop that acks each message without waiting for the round
// trip; the consumer keeps up to 10 acks on the wire per partition) on each transport (grpc-js; http2, which carries
// the ReceiveMessages stream and the Acks) against two baselines: a raw @grpc/grpc-js ReceiveMessages stream per
// partition with unary Acks at 10 in flight per partition, and a bare node:http2 ReceiveMessages stream with the
// Acks on a bare node:http2 unary loop (bench/bare-http2.js), like for like with the http2 transport; for 1 and 4
// partitions. Every figure is the median of interleaved runs.
import { DanubeAdminClient, DanubeClient } from '@danube-connect/sdk';
import { bareHttp2Session } from './bare-http2.js';
import { fileURLToPath } from 'node:url';
import { cpuStart, cpuUsedUs, median, rawGrpcService, report, runSampleIfAsked, sampleIntoTopic, startBrokerProcess, topicsOf, TRANSPORT_VARIANTS, transportColumns, variantOrder } from './lib.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 10000);
/** Drained, unmeasured, before the measured drain: each sample runs in a fresh process (bench/lib.js inFreshProcess) and starts cold. */
const WARMUP_MESSAGES = Number(process.env.BENCH_WARMUP_MESSAGES ?? 10000);
const ACKS_IN_FLIGHT = 10;
const PAYLOAD = Buffer.alloc(256, 'x');
const CASES = (process.env.BENCH_PARTITIONS ?? '1,4').split(',').map(Number);

/** Client CPU (user + system, its garbage collected) in µs per message since `since` (a cpuStart() value). */
function cpuPerMessage(since, count) {
  return cpuUsedUs(since) / count;
}

/** A producer for every partition of the topic; creating it creates the topic. */
function producerFor(client, topic, partitions, name) {
  return client.createProducer({ topic, name, dispatch: 'reliable', ordering: 'none', maxInFlight: 64, partitions });
}

/** Writes `count` messages, once the subscription exists (it starts at "latest", docs/danube-protocol.md §9.4). */
async function produce(producer, partitions, count) {
  const sends = [];
  for (let i = 0; i < count; i++) {
    sends.push(producer.send(PAYLOAD, partitions > 0 ? { key: `k${i}` } : {}));
    if (sends.length >= 64) await Promise.all(sends.splice(0));
  }
  await Promise.all(sends);
}

/** A warm-up drain of WARMUP_MESSAGES, then the measured one of MESSAGES; `drain(count, measure)` fills the topic and drains it. */
async function warmThenMeasure(drain) {
  if (WARMUP_MESSAGES > 0) await drain(WARMUP_MESSAGES, false);
  return drain(MESSAGES, true);
}

async function oursRun({ serviceUrl, topic, partitions, run, transport }) {
  const client = new DanubeClient({ serviceUrl, transport });
  const parts = partitions > 1 ? partitions : 0;
  const producer = await producerFor(client, topic, parts, `p-${run}`);
  const consumer = await client.subscribe({ topic, name: `c-${run}`, subscription: `s-${run}`, type: 'exclusive' });
  const drain = async (count, measure) => {
    await produce(producer, parts, count);
    const t0 = performance.now();
    const cpu0 = cpuStart();
    const acks = [];
    let failed = 0;
    for (let i = 0; i < count; i++) {
      const message = await consumer.receive();
      acks.push(consumer.ack(message).catch(() => void failed++));
    }
    await Promise.all(acks);
    const seconds = (performance.now() - t0) / 1000;
    return measure ? { msgPerS: count / seconds, clientUs: cpuPerMessage(cpu0, count), failed } : undefined;
  };
  const result = await warmThenMeasure(drain);
  await producer.close();
  consumer.close();
  await client.close();
  return result;
}

/**
 * The baselines: a raw grpc-js stream with Acks on grpc-js unary (`bare` false), or a bare node:http2 stream with
 * Acks on the bare node:http2 loop, both on one session (`bare` true). Subscribe goes over grpc-js in both.
 */
async function rawRun({ serviceUrl, topic, partitions, run, bare }) {
  const client = new DanubeClient({ serviceUrl });
  const raw = rawGrpcService(serviceUrl, 'ConsumerService');
  const h2 = bare ? bareHttp2Session(serviceUrl) : undefined;
  const ack = h2 ? h2.unary('ConsumerService', 'Ack') : (request) => raw.call('Ack', request);
  const receive = h2
    ? (request, onMessage) => h2.serverStream('ConsumerService', 'ReceiveMessages', request, onMessage)
    : (request, onMessage) => raw.service.ReceiveMessages(request).on('data', onMessage);
  const subscription = `raw-s-${run}`;
  const parts = partitions > 1 ? partitions : 0;
  const producer = await producerFor(client, topic, parts, `raw-p-${run}`);
  const streams = [];
  for (const [i, partitionTopic] of topicsOf(topic, partitions).entries()) {
    const { consumer_id } = await raw.call('Subscribe', {
      request_id: String(i), topic_name: partitionTopic, consumer_name: `raw-c-${run}`, subscription, subscription_type: 'Exclusive', key_filters: [],
    });
    streams.push({ consumer_id, partitionTopic });
  }
  // One drain at a time: acks flow while `active`, and `phase` counts this drain's acks up to its `target`.
  const phase = { active: false, target: 0, done: 0, failed: 0, received: 0, finish: () => {}, arrived: () => {}, arrivals: 0 };
  const opened = [];
  for (const { consumer_id } of streams) {
    const queue = [];
    let inFlight = 0;
    const pump = () => {
      while (phase.active && inFlight < ACKS_IN_FLIGHT && queue.length > 0) {
        const m = queue.shift();
        inFlight++;
        ack({ request_id: m.request_id, msg_id: m.msg_id, subscription_name: subscription }).then(
          () => settle(),
          () => settle(true),
        );
      }
    };
    const settle = (error) => {
      inFlight--;
      if (error) phase.failed++;
      if (++phase.done === phase.target) phase.finish();
      pump();
    };
    const stream = receive({ request_id: '1', consumer_id }, (m) => {
      queue.push(m);
      if (++phase.received >= phase.arrivals) phase.arrived();
      pump();
    });
    stream.on('error', () => {});
    opened.push({ stream, pump });
  }
  const drain = async (count, measure) => {
    Object.assign(phase, { target: count, done: 0, failed: 0, received: 0, arrivals: Math.min(count, 10) });
    const finished = new Promise((resolve) => (phase.finish = resolve));
    const firstTen = new Promise((resolve) => (phase.arrived = resolve));
    await produce(producer, parts, count);
    await firstTen;
    // As for ours: the clock starts once the topic is full and the first window has arrived.
    const t0 = performance.now();
    const cpu0 = cpuStart();
    phase.active = true;
    for (const { pump } of opened) pump();
    await finished;
    phase.active = false;
    const seconds = (performance.now() - t0) / 1000;
    return measure ? { msgPerS: count / seconds, clientUs: cpuPerMessage(cpu0, count), failed: phase.failed } : undefined;
  };
  const result = await warmThenMeasure(drain);
  for (const { stream } of opened) (stream.cancel ?? stream.close).call(stream);
  await producer.close();
  h2?.close();
  raw.close();
  await client.close();
  return result;
}

await runSampleIfAsked({ ours: oursRun, raw: rawRun });
const SCRIPT = fileURLToPath(import.meta.url);
const broker = await startBrokerProcess();
const admin = new DanubeAdminClient({ adminUrl: broker.adminUrl });
const samples = new Map(CASES.map((p) => [p, Object.fromEntries(TRANSPORT_VARIANTS.map((v) => [v, []]))]));
try {
  for (let run = 0; run < RUNS; run++) {
    for (const partitions of CASES) {
      const id = `${Date.now().toString(36)}-${run}`;
      const of = samples.get(partitions);
      const name = `${partitions}-${run}`;
      const sample = (sampler, args) => sampleIntoTopic(admin, { topic: args.topic, partitions }, SCRIPT, sampler, { serviceUrl: broker.serviceUrl, partitions, ...args });
      const sampleOf = {
        'grpc-js': () => sample('ours', { topic: `/default/ack-g-${partitions}-${id}`, run: name, transport: 'grpc-js' }),
        http2: () => sample('ours', { topic: `/default/ack-h-${partitions}-${id}`, run: `h${name}`, transport: 'http2' }),
        raw: () => sample('raw', { topic: `/default/ack-raw-${partitions}-${id}`, run: name, bare: false }),
        bare: () => sample('raw', { topic: `/default/ack-bare-${partitions}-${id}`, run: `b${name}`, bare: true }),
      };
      for (const variant of variantOrder(run)) of[variant].push(await sampleOf[variant]());
      process.stderr.write('.');
    }
  }
  process.stderr.write('\n');
} finally {
  admin.close();
  await broker.stop();
}
const med = (list, key) => median(list.map((s) => s[key]));
const rows = CASES.map((partitions) => {
  const of = samples.get(partitions);
  return {
    case: `${partitions} partition${partitions === 1 ? '' : 's'}`,
    partitions,
    // The project's common columns: our consumer on the http2 transport (stream + acks) against raw grpc-js stream + unary Acks.
    msg_per_s: Math.round(med(of.http2, 'msgPerS')),
    baseline_msg_per_s: Math.round(med(of.raw, 'msgPerS')),
    ...transportColumns(of),
  };
});
report('consumer-ack', rows, [
  `${MESSAGES} reliable messages of ${PAYLOAD.length} B per sample, drained by an Exclusive subscription (after an unmeasured drain of ${WARMUP_MESSAGES}), each sample in a fresh process; median of ${RUNS} interleaved runs.`,
  `grpcjs_/http2_: Consumer.receive() + ack() without awaiting each ack, stream and acks on that transport; raw_grpcjs_: raw grpc-js ReceiveMessages + unary Ack;`,
  `bare_http2_: a bare node:http2 ReceiveMessages stream with Acks on a bare node:http2 unary loop, one session; baselines keep ${ACKS_IN_FLIGHT} acks in flight per partition.`,
  "The broker's window (10 unacked per subscription, docs/danube-protocol.md §9.4) bounds all; the clock and the CPU count (µs per message received and acked,",
  'client process) start once the topic is full. The ReceiveMessages stream is on the same transport as the Acks in every variant.',
  'The variants run in alternating order from run to run. http2_vs_*_cpu: the ratio of the medians (what the target is judged on); *_paired: the median of the per-run ratios, which cancels drift between runs.',
]);
