// `npm run demo` (after the build): examples/iot/host.toml under `danube-connect dev`, simulated temperature
// readings published into MQTT, and what went through each connector, live, until Ctrl-C or SIGTERM.
//
//   sensors/<room>/temperature --source-mqtt--> /default/temperature --sink-mqtt--> alerts/sensors/<room>/temperature
//
// The readings go only into an MQTT broker `dev` started itself: one it found already running may be somebody's
// real broker, so the demo then only watches. Set MQTT_URL, DANUBE_SERVICE_URL and DANUBE_CONNECT_HTTP to move
// the addresses (examples/iot/host.toml reads them).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'host/dist/cli.js');
const TOML = join(ROOT, 'examples/iot/host.toml');
const SOURCE = 'sensors-in';
const SINK = 'alerts-out';
const DANUBE_TOPIC = '/default/temperature';
const ROOMS = ['kitchen', 'garage', 'attic'];

const say = (line) => process.stdout.write(`${line}\n`);
const time = () => new Date().toISOString().slice(11, 19);

/** A CLI child in a process group of its own: a terminal's Ctrl-C reaches the demo only, which stops it once. */
function cli(args) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: process.env });
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  return child;
}

/** Resolves with the first line of `stream` that `match` returns a value for; rejects when `child` exits first. */
function firstLine(child, lines, match, what) {
  return new Promise((resolve, reject) => {
    const onLine = (line) => {
      const value = match(line);
      if (value === undefined) return;
      lines.off('line', onLine);
      resolve(value);
    };
    lines.on('line', onLine);
    child.exited.then((code) => reject(new Error(`${what}: the process exited (code ${code}) first`)));
  });
}

const parse = (line) => {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
};

/** `danube_connector_messages_processed_total` summed per connector, from the host's merged /metrics. */
async function processed(http) {
  const text = await (await fetch(`http://${http}/metrics`)).text();
  const counts = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('danube_connector_messages_processed_total{')) continue;
    const connector = /connector="([^"]*)"/.exec(line)?.[1];
    if (connector !== undefined) counts[connector] = (counts[connector] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return counts;
}

/** Resolves once both connectors are running (connected, not degraded). */
async function connectorsRunning(http, dev) {
  for (;;) {
    if (dev.exitCode !== null || dev.signalCode !== null) throw new Error('dev exited before the connectors ran');
    const { connectors } = await (await fetch(`http://${http}/connectors`)).json();
    const failed = connectors.find((c) => c.state === 'failed');
    if (failed) throw new Error(`connector ${failed.name} failed: ${failed.lastError?.message ?? failed.detail ?? 'see the log'}`);
    if ([SOURCE, SINK].every((name) => connectors.some((c) => c.name === name && c.state === 'running'))) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const log = join(tmpdir(), `danube-connect-demo-${process.pid}.log`);
const logFile = createWriteStream(log);
say(`danube-connect demo: ${TOML} under danube-connect dev; Ctrl-C stops it (host log: ${log})`);

const dev = cli(['dev', TOML]);
say(`dev pid ${dev.pid}`);
const devOut = createInterface({ input: dev.stdout });
createInterface({ input: dev.stderr }).on('line', (line) => say(line));
let devBrokers;
let sinkSubscribed;
const subscribed = new Promise((resolve) => (sinkSubscribed = resolve));
devOut.on('line', (line) => {
  logFile.write(`${line}\n`);
  const record = parse(line);
  if (!record) return;
  if (record.msg === 'danube-connect dev: brokers') devBrokers = record.brokers;
  if (record.connector === SINK && record.msg === 'subscribed') sinkSubscribed();
  // Warnings and errors, and the MQTT 5 → 3.1.1 fallback the embedded broker (3.1.1 only) makes the plugins take.
  if (record.level >= 40 || String(record.msg).includes('falling back to 3.1.1')) say(`host   │ ${record.connector ?? 'host'}: ${record.msg}${record.err?.message ? `: ${record.err.message}` : ''}`);
});

let stopping;
let tail;
let publisher;
let alerts;
let publishTimer;
let liveTimer;
const counts = { published: 0, alerts: 0, source: 0, sink: 0 };
let http;

/** Stops publishing, takes the last counts, stops tail and dev (which drains its connectors), exits. */
function stop(reason) {
  stopping ??= (async () => {
    say(`stopping (${reason}): dev drains its connectors`);
    clearInterval(publishTimer);
    clearInterval(liveTimer);
    await publisher?.endAsync().catch(() => {});
    // The readings still on their way get up to 5 s to arrive, so the last line adds up; dev drains the rest.
    const until = Date.now() + 5_000;
    while (http && dev.exitCode === null) {
      Object.assign(counts, await counted().catch(() => ({})));
      if ((counts.source >= counts.published && counts.sink >= counts.source && counts.alerts >= counts.sink) || Date.now() > until) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const child of [tail, dev]) if (child && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGINT');
    const [devCode, tailCode] = await Promise.all([dev.exited, tail?.exited ?? 0]);
    await alerts?.endAsync(true).catch(() => {});
    say(`stopped: published ${counts.published}, source → Danube ${counts.source}, sink → MQTT ${counts.sink}, alerts/# received ${counts.alerts}; dev exit ${devCode}${tail ? `, tail exit ${tailCode}` : ''}`);
    logFile.end();
    process.exit(devCode === 0 && tailCode === 0 && reason !== 'failure' ? 0 : 1);
  })();
  return stopping;
}
// Handlers stay installed: a second Ctrl-C (or npm forwarding the terminal's) must not kill the demo mid-drain.
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
// Whatever ends the demo, dev and tail do not outlive it.
process.on('exit', () => {
  for (const child of [tail, dev]) if (child && child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGKILL');
});

async function counted() {
  const done = await processed(http);
  return { source: done[SOURCE] ?? 0, sink: done[SINK] ?? 0 };
}

/** Startup, then the live view; each step gives up once a stop began (nothing new is started while stopping). */
async function run() {
  const running = await firstLine(dev, devOut, (line) => parse(line)?.msg === 'danube-connect running' ? parse(line) : undefined, 'danube-connect dev');
  http = running.http;
  if (stopping) return;
  const mqttBroker = devBrokers?.find((b) => b.kind === 'mqtt' && b.connectors.includes(SOURCE));
  const danube = devBrokers?.find((b) => b.kind === 'danube' && b.connectors.includes(SOURCE));
  if (!mqttBroker || !danube) throw new Error(`dev did not report the brokers of ${SOURCE}`);
  // A new subscription starts at the topic's end: readings published before the sink subscribed would pass it by.
  // The sink reports ready even while its topic does not exist yet (degraded, retrying), so wait for its
  // subscription, then for both connectors to be running.
  await Promise.race([subscribed, dev.exited]);
  await connectorsRunning(http, dev);
  if (stopping) return;

  // The Danube side, as `danube-connect tail` prints it; subscribed before the first reading (it starts at the end).
  tail = cli(['tail', DANUBE_TOPIC, '--service-url', danube.serviceUrl ?? danube.configured, '--json']);
  say(`tail pid ${tail.pid}`);
  createInterface({ input: tail.stdout }).on('line', (line) => {
    const m = parse(line);
    say(m ? `danube │ ${m.topic} offset=${m.offset} key=${m.key} ${m.payload}` : `danube │ ${line}`);
  });
  await firstLine(tail, createInterface({ input: tail.stderr }), (line) => (line.startsWith('tail: subscription') ? line : undefined), 'danube-connect tail');
  if (stopping) return;

  const url = mqttBroker.url ?? mqttBroker.configured.split(', ')[0];
  alerts = await mqtt.connectAsync(url, { clientId: `demo-alerts-${randomBytes(3).toString('hex')}`, clean: true, reconnectPeriod: 1000 });
  alerts.on('message', () => counts.alerts++);
  await alerts.subscribeAsync('alerts/#', { qos: 1 });
  if (stopping) return;

  if (mqttBroker.state === 'started') {
    publisher = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: `demo-sensors-${randomBytes(3).toString('hex')}`, clean: true });
    if (stopping) return void publisher.end(true);
    const celsius = Object.fromEntries(ROOMS.map((room, i) => [room, 19 + i * 1.5]));
    const publish = () => {
      for (const room of ROOMS) {
        celsius[room] = Math.round((celsius[room] + (Math.random() - 0.5) * 0.4) * 10) / 10;
        const reading = JSON.stringify({ sensor: room, celsius: celsius[room], at: new Date().toISOString() });
        publisher.publishAsync(`sensors/${room}/temperature`, reading, { qos: 1 }).then(
          () => counts.published++,
          () => {},
        );
      }
    };
    publish();
    publishTimer = setInterval(publish, 1_000);
    say(`publishing ${ROOMS.length} readings a second to sensors/{${ROOMS.join(',')}}/temperature on ${url} (the broker dev started)`);
  } else {
    say(`not publishing: the MQTT broker at ${mqttBroker.configured} was already running, and the demo sends simulated readings only into one dev started; set MQTT_URL=mqtt://127.0.0.1:<free port> for that. Watching what flows instead.`);
  }

  let last = { ...counts, at: Date.now() };
  liveTimer = setInterval(async () => {
    try {
      Object.assign(counts, await counted());
    } catch {
      return; // dev is stopping: its exit is handled below
    }
    const now = Date.now();
    const rate = (key) => `${counts[key]} (${((counts[key] - last[key]) / ((now - last.at) / 1000)).toFixed(1)}/s)`;
    say(`${time()}  published ${rate('published')}  │  source → Danube ${rate('source')}  │  sink → MQTT ${rate('sink')}  │  alerts/# received ${rate('alerts')}`);
    last = { ...counts, at: now };
  }, 1_000);

  const devCode = await dev.exited;
  if (!stopping) {
    say(`dev exited on its own (code ${devCode}); see ${log}`);
    await stop('failure');
  }
}

run().catch(async (err) => {
  if (!stopping) {
    say(`demo failed: ${err.message}; see ${log}`);
    await stop('failure');
  }
});
