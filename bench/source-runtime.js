// SDK benchmark (issue: SDK, "Benchmark"): 1 KiB records through the source runtime (window, ordered commit,
// metrics) into a TestBroker in its own process, against the bare Producer at the same window, in the same
// run, every figure the median of interleaved runs. Target: at most 15 % overhead.
import { randomBytes } from 'node:crypto';
import { DanubeClient, createConnectorLogger } from '@danube-connect/sdk';
import { resolveRuntimeSettings } from '@danube-connect/sdk/core';
import { ConnectorMetrics, SourceRuntime } from '@danube-connect/sdk/internal';
import { closedLoop, median, percentile, report, round, rssMb, startBrokerProcess } from './lib.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 4000);
const WINDOW = 64;
const PAYLOAD = randomBytes(1024);
const ATTRIBUTES = { 'mqtt.topic': 'sensors/site-01/dev-0042/telemetry', 'mqtt.qos': '1' };

// [case, producer ordering, partitions]
const CASES = [
  ['ordering none, 1 topic', 'none', 0],
  ['ordering partition, 4 partitions', 'partition', 4],
];

/** Baseline: the bare producer with the same window, keyed like the runtime case. */
async function bareRun(serviceUrl, topic, ordering, partitions) {
  const client = new DanubeClient({ serviceUrl });
  const producer = await client.createProducer({ topic, name: 'bare', ordering, partitions, maxInFlight: WINDOW });
  const send = (i) => producer.send(PAYLOAD, { attributes: ATTRIBUTES, key: partitions ? `device-${i % 64}` : undefined });
  await closedLoop(300, WINDOW, send);
  const cpu0 = process.cpuUsage();
  const result = await closedLoop(MESSAGES, WINDOW, send);
  const cpu = process.cpuUsage(cpu0);
  await client.close();
  return { ...result, clientUs: (cpu.user + cpu.system) / MESSAGES };
}

/** The runtime: a push source that sends as fast as the window allows; throughput counts commits (ack handles). */
async function runtimeRun(serviceUrl, topic, ordering, partitions) {
  const client = new DanubeClient({ serviceUrl });
  let output;
  const connector = {
    producerConfigs: () => [{ topic, ordering, partitions, dispatch: 'reliable' }],
    start(o) {
      output = o;
    },
  };
  const runtime = new SourceRuntime(connector, {
    name: 'bench',
    client,
    settings: resolveRuntimeSettings({ maxInFlight: WINDOW }),
    metrics: new ConnectorMetrics('bench'),
    logger: createConnectorLogger({ connector: 'bench' }, 'silent'),
  });
  await runtime.start();
  const drive = async (count) => {
    const latencies = new Float64Array(count);
    let committed = 0;
    let resolveAll;
    const allCommitted = new Promise((r) => (resolveAll = r));
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      const sentAt = performance.now();
      await output.send({
        topic,
        payload: PAYLOAD,
        attributes: ATTRIBUTES,
        key: partitions ? `device-${i % 64}` : undefined,
        ack: () => {
          latencies[i] = performance.now() - sentAt;
          if (++committed === count) resolveAll();
        },
      });
    }
    await allCommitted;
    const seconds = (performance.now() - t0) / 1000;
    const sorted = Array.from(latencies).sort((a, b) => a - b);
    return { msgPerS: count / seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
  };
  await drive(300);
  const cpu0 = process.cpuUsage();
  const result = await drive(MESSAGES);
  const cpu = process.cpuUsage(cpu0);
  const rss = rssMb();
  await runtime.stop(5_000);
  await client.close();
  return { ...result, rss, clientUs: (cpu.user + cpu.system) / MESSAGES };
}

const broker = await startBrokerProcess();
const samples = new Map(CASES.map(([name]) => [name, { runtime: [], bare: [] }]));
try {
  for (let run = 0; run < RUNS; run++) {
    for (const [name, ordering, partitions] of CASES) {
      const id = `${Date.now().toString(36)}-${run}`;
      samples.get(name).runtime.push(await runtimeRun(broker.serviceUrl, `/default/rt-${id}-${partitions}`, ordering, partitions));
      samples.get(name).bare.push(await bareRun(broker.serviceUrl, `/default/bare-${id}-${partitions}`, ordering, partitions));
      process.stderr.write('.');
    }
  }
} finally {
  process.stderr.write('\n');
  await broker.stop();
}
const rows = CASES.map(([name]) => {
  const { runtime, bare } = samples.get(name);
  const msgPerS = median(runtime.map((s) => s.msgPerS));
  const baseline = median(bare.map((s) => s.msgPerS));
  return {
    case: name,
    msg_per_s: Math.round(msgPerS),
    baseline_msg_per_s: Math.round(baseline),
    overhead_pct: round((1 - msgPerS / baseline) * 100, 1),
    p50_ms: round(median(runtime.map((s) => s.p50)), 2),
    p99_ms: round(median(runtime.map((s) => s.p99)), 2),
    baseline_p50_ms: round(median(bare.map((s) => s.p50)), 2),
    baseline_p99_ms: round(median(bare.map((s) => s.p99)), 2),
    rss_mb: median(runtime.map((s) => s.rss)),
    client_cpu_us_per_msg: Math.round(median(runtime.map((s) => s.clientUs))),
    baseline_client_cpu_us_per_msg: Math.round(median(bare.map((s) => s.clientUs))),
  };
});
report('source-runtime', rows, [
  `${MESSAGES} records of 1 KiB per sample, window ${WINDOW}, median of ${RUNS} interleaved runs; baseline = the bare Producer at the same window.`,
  'Runtime latency is send() to the record\'s ack (commit, in order); the baseline\'s is send() to the broker\'s acknowledgement.',
]);
