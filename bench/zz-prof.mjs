// temporary profiling script (not committed)
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Mosquitto } from '@danube-connect/mqtt/testing';
import mqtt from 'mqtt';
import { ROOT, closedLoop, startBrokerProcess, processCpuSeconds } from './lib.js';
const N = Number(process.env.N ?? 30000);
const TRANSPORT = process.env.TRANSPORT ?? 'grpc-js';
const RM = process.env.RM ?? '64';
const PROF = process.env.PROF === '1';
const broker = await startBrokerProcess();
const mosquitto = await Mosquitto.start({ persistence: false });
const dir = mkdtempSync(join(tmpdir(), 'zz-prof-'));
const topic = `/default/zz-${Date.now()}`;
writeFileSync(join(dir, 'host.toml'), `[host]\nhttp = "127.0.0.1:0"\n[danube]\nservice_url = "${broker.serviceUrl}"\ntransport = "${TRANSPORT}"\n[[connectors]]\nname = "p"\nplugin = "${join(ROOT, 'plugins/source-mqtt')}"\nlog_level = "warn"\n${PROF ? `[connectors.env]\nNODE_OPTIONS = "--require /tmp/prof/preload.cjs"\nPROF_START_MS = "${process.env.PROF_START_MS ?? 4000}"\nPROF_MS = "6000"\n` : ''}[connectors.config]\nurl = "${mosquitto.url}"\nreceive_maximum = ${RM}\nroutes = [{ from = "z/#", to = "${topic}", qos = 1, ordering = "none" }]\n`);
const host = spawn(process.execPath, [join(ROOT, 'host/dist/cli.js'), 'run', join(dir, 'host.toml')], { stdio: ['ignore', 'pipe', 'inherit'] });
const http = await new Promise((resolve) => { let b = ''; host.stdout.on('data', (c) => { b += c; const m = /"http":"([^"]+)"/.exec(b); if (m) resolve(m[1]); }); });
let pid;
for (;;) { const r = await fetch(`http://${http}/readyz`).then((r) => r.json()).catch(() => undefined); if (r?.connectors?.every((c) => c.ready)) break; await sleep(50); }
pid = (await (await fetch(`http://${http}/connectors`)).json()).connectors[0].pid;
async function processed() { const t = await (await fetch(`http://${http}/metrics`)).text(); let s = 0; for (const l of t.split('\n')) if (l.startsWith('danube_connector_messages_processed_total{') && l.includes(topic)) s += Number(l.slice(l.lastIndexOf(' ') + 1)); return s; }
const pub = await mqtt.connectAsync(mosquitto.url, { clientId: 'zzpub', protocolVersion: 5 });
pub.stream.setNoDelay?.(true);
const payload = Buffer.alloc(1024, 0x61);
const cpu0 = processCpuSeconds(pid), bcpu0 = processCpuSeconds(broker.pid), mcpu0 = processCpuSeconds(mosquitto.child?.pid ?? 0), hcpu0 = processCpuSeconds(host.pid);
const t0 = performance.now();
const publishing = closedLoop(N, 500, (i) => pub.publishAsync(`z/${i % 1}`, payload, { qos: 1 }));
let done = 0;
while (done < N) { await sleep(100); done = await processed(); }
const s = (performance.now() - t0) / 1000;
await publishing;
const c = (processCpuSeconds(pid) - cpu0), b = processCpuSeconds(broker.pid) - bcpu0, h = processCpuSeconds(host.pid) - hcpu0;
console.log(JSON.stringify({ transport: TRANSPORT, rm: RM, msgPerS: Math.round(N / s), childUsPerMsg: Math.round(c / N * 1e6), brokerUsPerMsg: Math.round(b / N * 1e6), hostUsPerMsg: Math.round(h / N * 1e6), mosqUs: mosquitto.child?.pid ? Math.round((processCpuSeconds(mosquitto.child.pid) - mcpu0) / N * 1e6) : null }));
await pub.endAsync();
await new Promise((r) => { host.once('exit', r); host.kill('SIGTERM'); });
await mosquitto.stop(); await broker.stop();
