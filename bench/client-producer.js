// Client benchmark (issue: foundation §5): 1 KiB messages produced into a TestBroker in a separate process
// (and DANUBE_SERVICE_URL when set), our Producer against raw @grpc/grpc-js unary SendMessage calls to the
// same server at the same concurrency, every figure the median of interleaved runs.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { DanubeClient } from '@danube-connect/sdk';
import { closedLoop, median, processCpuSeconds, report, ROOT, round, rssMb, startBrokerProcess } from './lib.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 4000);
const PAYLOAD = randomBytes(1024);
const ATTRIBUTES = { 'mqtt.topic': 'sensors/site-01/dev-0042/telemetry', 'mqtt.qos': '1' };

// [case name, our producer options, driver concurrency, raw baseline concurrency]
const CASES = [
  ['none, in-flight 1', { ordering: 'none', maxInFlight: 1 }, 1, 1],
  ['none, in-flight 64', { ordering: 'none', maxInFlight: 64 }, 64, 64],
  ['none, in-flight 256', { ordering: 'none', maxInFlight: 256 }, 256, 256],
  ['partition, 1 partition', { ordering: 'partition', maxInFlight: 64 }, 64, 1],
  ['partition, 4 partitions', { ordering: 'partition', maxInFlight: 64, partitions: 4 }, 64, 4],
  ['partition, 8 partitions', { ordering: 'partition', maxInFlight: 64, partitions: 8 }, 64, 8],
];

function rawClient(serviceUrl) {
  const def = protoLoader.loadSync(join(ROOT, 'sdk/proto/DanubeApi.proto'), { keepCase: true, longs: String, enums: String, bytes: Buffer, defaults: true, oneofs: true });
  const api = grpc.loadPackageDefinition(def).danube;
  const target = serviceUrl.replace(/^https?:\/\//, '');
  const producerService = new api.ProducerService(target, grpc.credentials.createInsecure());
  const call = (method, request) => new Promise((resolve, reject) => producerService[method](request, (err, res) => (err ? reject(err) : resolve(res))));
  return { call, close: () => producerService.close() };
}

/** Runs `loop` and adds the client's and (for the local TestBroker) the broker's CPU per message. */
async function measured(brokerPid, loop) {
  const client0 = process.cpuUsage();
  const broker0 = brokerPid && processCpuSeconds(brokerPid);
  const result = await loop();
  const client = process.cpuUsage(client0);
  const broker = brokerPid && processCpuSeconds(brokerPid);
  return {
    ...result,
    clientUs: (client.user + client.system) / MESSAGES,
    brokerUs: brokerPid ? ((broker - broker0) * 1e6) / MESSAGES : undefined,
  };
}

/** Raw baseline: one CreateProducer, then bare SendMessage calls with no window, retry or routing logic. */
async function rawRun(serviceUrl, topic, concurrency, brokerPid) {
  const raw = rawClient(serviceUrl);
  const { producer_id } = await raw.call('CreateProducer', { request_id: '0', producer_name: `raw-${concurrency}`, topic_name: topic, producer_access_mode: 'Shared', dispatch_strategy: 'Reliable' });
  const send = (i) =>
    raw.call('SendMessage', {
      request_id: String(i),
      msg_id: { producer_id, topic_name: topic, broker_addr: serviceUrl, topic_offset: '0' },
      payload: PAYLOAD,
      publish_time: String(Date.now()),
      producer_name: `raw-${concurrency}`,
      subscription_name: '',
      attributes: ATTRIBUTES,
    });
  await closedLoop(300, concurrency, send); // warm-up
  const result = await measured(brokerPid, () => closedLoop(MESSAGES, concurrency, send));
  raw.close();
  return result;
}

async function oursRun(serviceUrl, topic, options, concurrency, run, brokerPid) {
  const client = new DanubeClient({ serviceUrl });
  const producer = await client.createProducer({ topic, name: `bench-${run}`, dispatch: 'reliable', ...options });
  const send = (i) => producer.send(PAYLOAD, { attributes: ATTRIBUTES, key: options.partitions ? `device-${i % 64}` : undefined });
  await closedLoop(300, concurrency, send);
  const result = await measured(brokerPid, () => closedLoop(MESSAGES, concurrency, send));
  const rss = rssMb();
  await client.close();
  return { ...result, rss };
}

async function benchTarget(label, serviceUrl, brokerPid) {
  const samples = new Map(CASES.map(([name]) => [name, { ours: [], raw: [] }]));
  for (let run = 0; run < RUNS; run++) {
    for (const [name, options, concurrency, rawConcurrency] of CASES) {
      const slug = name.replace(/[^a-z0-9]+/g, '-');
      const id = `${Date.now().toString(36)}-${run}`;
      // Interleave: ours then raw for every case in every run, so drift hits both alike.
      samples.get(name).ours.push(await oursRun(serviceUrl, `/default/bench-${slug}-${id}`, options, concurrency, run, brokerPid));
      samples.get(name).raw.push(await rawRun(serviceUrl, `/default/raw-${slug}-${id}`, rawConcurrency, brokerPid));
      process.stderr.write('.');
    }
  }
  process.stderr.write('\n');
  const unordered64 = median(samples.get('none, in-flight 64').ours.map((s) => s.msgPerS));
  return CASES.map(([name, , concurrency, rawConcurrency]) => {
    const { ours, raw } = samples.get(name);
    const msgPerS = median(ours.map((s) => s.msgPerS));
    const baseline = median(raw.map((s) => s.msgPerS));
    return {
      target: label,
      case: name,
      concurrency,
      msg_per_s: Math.round(msgPerS),
      baseline_concurrency: rawConcurrency,
      baseline_msg_per_s: Math.round(baseline),
      vs_baseline: round(msgPerS / baseline, 2),
      vs_unordered_64: round(msgPerS / unordered64, 2),
      p50_ms: round(median(ours.map((s) => s.p50)), 2),
      p99_ms: round(median(ours.map((s) => s.p99)), 2),
      baseline_p50_ms: round(median(raw.map((s) => s.p50)), 2),
      baseline_p99_ms: round(median(raw.map((s) => s.p99)), 2),
      rss_mb: median(ours.map((s) => s.rss)),
      client_cpu_us_per_msg: Math.round(median(ours.map((s) => s.clientUs))),
      baseline_client_cpu_us_per_msg: Math.round(median(raw.map((s) => s.clientUs))),
      broker_cpu_us_per_msg: brokerPid ? Math.round(median(ours.map((s) => s.brokerUs))) : null,
      failed: ours.reduce((n, s) => n + s.failed, 0) + raw.reduce((n, s) => n + s.failed, 0),
    };
  });
}

const broker = await startBrokerProcess();
const rows = [];
try {
  rows.push(...(await benchTarget('TestBroker', broker.serviceUrl, broker.pid)));
} finally {
  await broker.stop();
}
if (process.env.DANUBE_SERVICE_URL) rows.push(...(await benchTarget('external', process.env.DANUBE_SERVICE_URL)));
report('client-producer', rows, [
  `${MESSAGES} messages of 1 KiB per sample, median of ${RUNS} interleaved runs; baseline = raw grpc-js unary SendMessage at baseline_concurrency.`,
  'Partition rows: the driver keeps 64 sends outstanding, the producer keeps one in flight per partition, so the raw baseline runs at the partition count.',
  'CPU columns: µs of CPU per message in the benchmark process (client) and in the TestBroker process (broker); the two share the 2 cores.',
]);
