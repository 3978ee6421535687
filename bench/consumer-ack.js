// Consumer benchmark (issue 8, docs/danube-protocol.md §9.4, issue 16): how fast a subscription is drained by receive + ack, and
// the client CPU per message. Our Consumer (a receive loop that acks each message without waiting for the round
// trip; the consumer keeps up to 10 acks on the wire per partition) on each transport (grpc-js; http2, which carries
// the ReceiveMessages stream and the Acks) against two baselines: a raw @grpc/grpc-js ReceiveMessages stream per
// partition with unary Acks at 10 in flight per partition, and a bare node:http2 ReceiveMessages stream with the
// Acks on a bare node:http2 unary loop (bench/bare-http2.js), like for like with the http2 transport; for 1 and 4
// partitions. Every figure is the median of interleaved runs.
import { DanubeClient } from '@danube-connect/sdk';
import { bareHttp2Session } from './bare-http2.js';
import { cpuStart, cpuUsedUs, median, rawGrpcService, report, startBrokerProcess, topicsOf, TRANSPORT_VARIANTS, transportColumns } from './lib.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 6000);
const ACKS_IN_FLIGHT = 10;
const PAYLOAD = Buffer.alloc(256, 'x');
const CASES = (process.env.BENCH_PARTITIONS ?? '1,4').split(',').map(Number);

/** Client CPU (user + system, its garbage collected) in µs per message since `since` (a cpuStart() value). */
function cpuPerMessage(since) {
  return cpuUsedUs(since) / MESSAGES;
}

/** A producer for every partition of the topic; creating it creates the topic. */
function producerFor(client, topic, partitions, name) {
  return client.createProducer({ topic, name, dispatch: 'reliable', ordering: 'none', maxInFlight: 64, partitions });
}

/** Fills the topic with MESSAGES messages, once the subscription exists (it starts at "latest", docs/danube-protocol.md §9.4). */
async function produce(producer, partitions) {
  const sends = [];
  for (let i = 0; i < MESSAGES; i++) {
    sends.push(producer.send(PAYLOAD, partitions > 0 ? { key: `k${i}` } : {}));
    if (sends.length >= 64) await Promise.all(sends.splice(0));
  }
  await Promise.all(sends);
  await producer.close();
}

async function oursRun(serviceUrl, topic, partitions, run, transport) {
  const client = new DanubeClient({ serviceUrl, transport });
  const parts = partitions > 1 ? partitions : 0;
  const producer = await producerFor(client, topic, parts, `p-${run}`);
  const consumer = await client.subscribe({ topic, name: `c-${run}`, subscription: `s-${run}`, type: 'exclusive' });
  await produce(producer, parts);
  const t0 = performance.now();
  const cpu0 = cpuStart();
  const acks = [];
  let failed = 0;
  for (let i = 0; i < MESSAGES; i++) {
    const message = await consumer.receive();
    acks.push(consumer.ack(message).catch(() => void failed++));
  }
  await Promise.all(acks);
  const seconds = (performance.now() - t0) / 1000;
  const clientUs = cpuPerMessage(cpu0);
  consumer.close();
  await client.close();
  return { msgPerS: MESSAGES / seconds, clientUs, failed };
}

/**
 * The baselines: a raw grpc-js stream with Acks on grpc-js unary (`bare` false), or a bare node:http2 stream with
 * Acks on the bare node:http2 loop, both on one session (`bare` true). Subscribe goes over grpc-js in both.
 */
async function rawRun(serviceUrl, topic, partitions, run, bare) {
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
  let done = 0;
  let failed = 0;
  let t0 = 0;
  let resolveDone;
  const finished = new Promise((resolve) => (resolveDone = resolve));
  let started;
  const firstTen = new Promise((resolve) => (started = resolve));
  let received = 0;
  const opened = [];
  for (const { consumer_id } of streams) {
    const queue = [];
    let inFlight = 0;
    const pump = () => {
      while (t0 > 0 && inFlight < ACKS_IN_FLIGHT && queue.length > 0) {
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
      if (error) failed++;
      if (++done === MESSAGES) resolveDone();
      pump();
    };
    const stream = receive({ request_id: '1', consumer_id }, (m) => {
      queue.push(m);
      if (++received >= Math.min(MESSAGES, 10)) started();
      pump();
    });
    stream.on('error', () => {});
    opened.push({ stream, pump });
  }
  await produce(producer, parts);
  await firstTen;
  // As for ours: the clock starts once the topic is full and the first window has arrived.
  t0 = performance.now();
  const cpu0 = cpuStart();
  for (const { pump } of opened) pump();
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  const clientUs = cpuPerMessage(cpu0);
  for (const { stream } of opened) (stream.cancel ?? stream.close).call(stream);
  h2?.close();
  raw.close();
  await client.close();
  return { msgPerS: MESSAGES / seconds, clientUs, failed };
}

const broker = await startBrokerProcess();
const samples = new Map(CASES.map((p) => [p, Object.fromEntries(TRANSPORT_VARIANTS.map((v) => [v, []]))]));
try {
  for (let run = 0; run < RUNS; run++) {
    for (const partitions of CASES) {
      const id = `${Date.now().toString(36)}-${run}`;
      const of = samples.get(partitions);
      const name = `${partitions}-${run}`;
      of['grpc-js'].push(await oursRun(broker.serviceUrl, `/default/ack-g-${partitions}-${id}`, partitions, name, 'grpc-js'));
      of.http2.push(await oursRun(broker.serviceUrl, `/default/ack-h-${partitions}-${id}`, partitions, `h${name}`, 'http2'));
      of.raw.push(await rawRun(broker.serviceUrl, `/default/ack-raw-${partitions}-${id}`, partitions, name, false));
      of.bare.push(await rawRun(broker.serviceUrl, `/default/ack-bare-${partitions}-${id}`, partitions, `b${name}`, true));
      process.stderr.write('.');
    }
  }
  process.stderr.write('\n');
} finally {
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
  `${MESSAGES} reliable messages of ${PAYLOAD.length} B per sample, drained by an Exclusive subscription; median of ${RUNS} interleaved runs.`,
  `grpcjs_/http2_: Consumer.receive() + ack() without awaiting each ack, stream and acks on that transport; raw_grpcjs_: raw grpc-js ReceiveMessages + unary Ack;`,
  `bare_http2_: a bare node:http2 ReceiveMessages stream with Acks on a bare node:http2 unary loop, one session; baselines keep ${ACKS_IN_FLIGHT} acks in flight per partition.`,
  "The broker's window (10 unacked per subscription, docs/danube-protocol.md §9.4) bounds all; the clock and the CPU count (µs per message received and acked,",
  'client process) start once the topic is full. The ReceiveMessages stream is on the same transport as the Acks in every variant.',
]);
