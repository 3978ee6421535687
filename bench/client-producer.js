// Client benchmark (issue: foundation §5, issue 16): 1 KiB messages produced into a TestBroker in a separate process
// (and DANUBE_SERVICE_URL when set): our Producer on each transport (grpc-js, http2) beside two baselines at the
// same concurrency, raw @grpc/grpc-js unary SendMessage calls and a bare node:http2 unary loop; every figure the
// median of interleaved runs. The figure that matters is client CPU per message (the broker shares the cores).
import { randomBytes } from 'node:crypto';
import { DanubeClient } from '@danube-connect/sdk';
import { bareHttp2Unary } from './bare-http2.js';
import { fileURLToPath } from 'node:url';
import { DanubeAdminClient } from '@danube-connect/sdk';
import { closedLoop, cpuStart, cpuUsedUs, median, processCpuSeconds, rawGrpcService, report, round, rssMb, runSampleIfAsked, sampleIntoTopic, startBrokerProcess, TRANSPORT_VARIANTS, transportColumns, variantOrder, warmUp } from './lib.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20000);
const PAYLOAD = randomBytes(1024);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 2000);
const ATTRIBUTES = { 'mqtt.topic': 'sensors/site-01/dev-0042/telemetry', 'mqtt.qos': '1' };

// [case name, our producer options, driver concurrency, raw baseline concurrency]
const ALL_CASES = [
  ['none, in-flight 1', { ordering: 'none', maxInFlight: 1 }, 1, 1],
  ['none, in-flight 64', { ordering: 'none', maxInFlight: 64 }, 64, 64],
  ['none, in-flight 256', { ordering: 'none', maxInFlight: 256 }, 256, 256],
  ['partition, 1 partition', { ordering: 'partition', maxInFlight: 64 }, 64, 1],
  ['partition, 4 partitions', { ordering: 'partition', maxInFlight: 64, partitions: 4 }, 64, 4],
  ['partition, 8 partitions', { ordering: 'partition', maxInFlight: 64, partitions: 8 }, 64, 8],
];
// BENCH_CASES="none, in-flight 64;partition, 4 partitions" runs a subset.
const CASES = process.env.BENCH_CASES ? ALL_CASES.filter(([name]) => process.env.BENCH_CASES.split(';').includes(name)) : ALL_CASES;

/** Runs `loop` and adds the client's and (for the local TestBroker) the broker's CPU per message. */
async function measured(brokerPid, loop) {
  const client0 = cpuStart();
  const broker0 = brokerPid && processCpuSeconds(brokerPid);
  const result = await loop();
  const clientCpuUs = cpuUsedUs(client0);
  const broker = brokerPid && processCpuSeconds(brokerPid);
  return {
    ...result,
    clientUs: clientCpuUs / MESSAGES,
    brokerUs: brokerPid ? ((broker - broker0) * 1e6) / MESSAGES : undefined,
  };
}

/** One CreateProducer (raw grpc-js), then `send(i)` as the baseline issues SendMessage with no window, retry or routing. */
async function baselineRun({ serviceUrl, topic, concurrency, brokerPid, bare }) {
  const raw = rawGrpcService(serviceUrl, 'ProducerService');
  const name = `${bare ? 'bare' : 'raw'}-${concurrency}`;
  const { producer_id } = await raw.call('CreateProducer', { request_id: '0', producer_name: name, topic_name: topic, producer_access_mode: 'Shared', dispatch_strategy: 'Reliable' });
  const h2 = bare ? bareHttp2Unary(serviceUrl, 'ProducerService', 'SendMessage') : undefined;
  // The 64-bit fields as numbers, as our producer passes them (sdk/src/danube/topic-producer.ts `call`): the same
  // encoder work on every variant.
  const request = (i) => ({
    request_id: i,
    msg_id: { producer_id, topic_name: topic, broker_addr: serviceUrl, topic_offset: 0 },
    payload: PAYLOAD,
    publish_time: Date.now(),
    producer_name: name,
    subscription_name: '',
    attributes: ATTRIBUTES,
  });
  const send = h2 ? (i) => h2.call(request(i)) : (i) => raw.call('SendMessage', request(i));
  await warmUp(WARMUP_MS, concurrency, send);
  const result = await measured(brokerPid, () => closedLoop(MESSAGES, concurrency, send));
  h2?.close();
  raw.close();
  return result;
}

async function oursRun({ serviceUrl, topic, options, concurrency, run, brokerPid, transport }) {
  const client = new DanubeClient({ serviceUrl, transport });
  const producer = await client.createProducer({ topic, name: `bench-${run}`, dispatch: 'reliable', ...options });
  const send = (i) => producer.send(PAYLOAD, { attributes: ATTRIBUTES, key: options.partitions ? `device-${i % 64}` : undefined });
  await warmUp(WARMUP_MS, concurrency, send);
  const result = await measured(brokerPid, () => closedLoop(MESSAGES, concurrency, send));
  const rss = rssMb();
  await client.close();
  return { ...result, rss };
}

async function benchTarget(label, serviceUrl, brokerPid, admin) {
  const samples = new Map(CASES.map(([name]) => [name, Object.fromEntries(TRANSPORT_VARIANTS.map((v) => [v, []]))]));
  for (let run = 0; run < RUNS; run++) {
    for (const [name, options, concurrency, rawConcurrency] of CASES) {
      const slug = name.replace(/[^a-z0-9]+/g, '-');
      const id = `${Date.now().toString(36)}-${run}`;
      // Interleave: every variant of every case in every run, in alternating order, so drift hits all alike.
      const of = samples.get(name);
      const ours = (transport, topic) =>
        sampleIntoTopic(admin, { topic, partitions: options.partitions ?? 0 }, SCRIPT, 'ours', { serviceUrl, topic, options, concurrency, run, brokerPid, transport });
      const baseline = (bare, topic) => sampleIntoTopic(admin, { topic, partitions: 0 }, SCRIPT, 'baseline', { serviceUrl, topic, concurrency: rawConcurrency, brokerPid, bare });
      const sampleOf = {
        'grpc-js': () => ours('grpc-js', `/default/bench-g-${slug}-${id}`),
        http2: () => ours('http2', `/default/bench-h-${slug}-${id}`),
        raw: () => baseline(false, `/default/raw-${slug}-${id}`),
        bare: () => baseline(true, `/default/bare-${slug}-${id}`),
      };
      for (const variant of variantOrder(run)) of[variant].push(await sampleOf[variant]());
      process.stderr.write('.');
    }
  }
  process.stderr.write('\n');
  const med = (list, key) => median(list.map((s) => s[key]));
  return CASES.map(([name, , concurrency, rawConcurrency]) => {
    const of = samples.get(name);
    return {
      broker: label,
      case: name,
      // The project's common columns: the lean (http2) producer against raw grpc-js unary calls at the same window.
      msg_per_s: Math.round(med(of.http2, 'msgPerS')),
      baseline_msg_per_s: Math.round(med(of.raw, 'msgPerS')),
      p50_ms: round(med(of.http2, 'p50'), 2),
      p99_ms: round(med(of.http2, 'p99'), 2),
      rss_mb: med(of.http2, 'rss'),
      concurrency,
      baseline_concurrency: rawConcurrency,
      ...transportColumns(of, { target: name === 'none, in-flight 64' }),
      grpcjs_p99_ms: round(med(of['grpc-js'], 'p99'), 2),
      broker_cpu_us: brokerPid ? Math.round(med(of.http2, 'brokerUs')) : null,
    };
  });
}

await runSampleIfAsked({ ours: oursRun, baseline: baselineRun });
const SCRIPT = fileURLToPath(import.meta.url);
const broker = await startBrokerProcess();
const rows = [];
try {
  const admin = new DanubeAdminClient({ adminUrl: broker.adminUrl });
  rows.push(...(await benchTarget('TestBroker', broker.serviceUrl, broker.pid, admin)));
  admin.close();
} finally {
  await broker.stop();
}
if (process.env.DANUBE_SERVICE_URL) rows.push(...(await benchTarget('external', process.env.DANUBE_SERVICE_URL)));
report('client-producer', rows, [
  `${MESSAGES} messages of 1 KiB per sample, median of ${RUNS} interleaved runs. grpcjs_/http2_: our Producer on that transport;`,
  'raw_grpcjs_: bare grpc-js unary SendMessage calls; bare_http2_: a bare node:http2 unary loop (bench/bare-http2.js), both at baseline_concurrency.',
  'Partition rows: the driver keeps 64 sends outstanding, the producer keeps one in flight per partition, so the baselines run at the partition count.',
  'Every sample runs in a fresh process (bench/lib.js sampleIntoTopic), the variants in alternating order from run to run. *_cpu_us: µs of CPU (user + system) per message in the client process; broker_cpu_us: the TestBroker process (http2 runs); they share the 2 cores.',
  'http2_vs_*_cpu: the ratio of the medians (what the target is judged on); *_paired: the median of the per-run ratios, which cancels drift between runs.',
]);
