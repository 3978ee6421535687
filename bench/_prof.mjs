// temporary: profile one 'ours' http2 sample and one bare sample
import { DanubeAdminClient } from '@danube-connect/sdk';
import { inFreshProcess, startBrokerProcess } from './lib.js';
import { fileURLToPath } from 'node:url';
const SCRIPT = fileURLToPath(new URL('./client-producer.js', import.meta.url));
const broker = await startBrokerProcess();
const admin = new DanubeAdminClient({ adminUrl: broker.adminUrl });
const which = (process.env.WHICH ?? 'ours,bare').split(',');
try {
  for (let run = 0; run < Number(process.env.RUNS ?? 1); run++) for (const w of which) {
    const topic = `/default/prof-${w}-${run}-${Date.now().toString(36)}`;
    const dir = `/tmp/prof/${w}`;
    const execArgv = process.env.NOPROF ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=250'];
    const r = w === 'bare'
      ? await inFreshProcess(SCRIPT, 'baseline', { serviceUrl: broker.serviceUrl, topic, concurrency: 64, brokerPid: broker.pid, bare: true }, { execArgv })
      : await inFreshProcess(SCRIPT, 'ours', { serviceUrl: broker.serviceUrl, topic, options: { ordering: 'none', maxInFlight: 64 }, concurrency: 64, run, brokerPid: broker.pid, transport: w === 'grpc' ? 'grpc-js' : 'http2' }, { execArgv });
    console.log(w, Math.round(r.clientUs * 10) / 10, 'us/msg', Math.round(r.msgPerS), 'msg/s');
    await admin.deleteTopic?.(topic).catch(() => {});
  }
} finally { admin.close(); await broker.stop(); }
