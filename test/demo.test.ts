import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Mosquitto } from '@danube-connect/mqtt/testing';
import { unusedLoopbackPort } from '@danube-connect/testing';
import mqtt from 'mqtt';
import { expect, it, onTestFinished } from 'vitest';
import { alive } from './host-process.js';

// The README's first command, `npm run demo` (its script, after the build the global setup checks): the real demo
// with `danube-connect dev` embedding both brokers, the plugins in real children, until a terminal's Ctrl-C.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const READINGS = 6;

/** The counts of one live line, or undefined for any other line. */
function liveCounts(line: string): { published: number; source: number; sink: number; alerts: number } | undefined {
  const m = /published (\d+) .*source → Danube (\d+) .*sink → MQTT (\d+) .*alerts\/# received (\d+)/.exec(line);
  return m ? { published: Number(m[1]), source: Number(m[2]), sink: Number(m[3]), alerts: Number(m[4]) } : undefined;
}

/** `node scripts/demo.js` in its own process group (a shell's foreground job: Ctrl-C is kill(-pid, SIGINT)). */
function startDemo(env: NodeJS.ProcessEnv) {
  const demo = spawn(process.execPath, ['scripts/demo.js'], { cwd: ROOT, env: { ...process.env, DANUBE_CONNECT_HTTP: '127.0.0.1:0', DANUBE_TOKEN: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    for (const wake of [...waiters]) wake();
  };
  demo.stdout.on('data', onData);
  demo.stderr.on('data', onData);
  const exit = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
  onTestFinished(async () => {
    if (demo.exitCode === null && demo.signalCode === null) demo.kill('SIGKILL');
    await exit;
    // dev and tail lead groups of their own (the demo stops them); they must not outlive a failed case either.
    for (const [, pid] of out.matchAll(/^(?:dev|tail) pid (\d+)$/gm)) if (alive(Number(pid))) process.kill(-Number(pid), 'SIGKILL');
  });
  return {
    output: () => out,
    exit,
    /** Resolves once `check(output)` holds, re-checked on every chunk of output; rejects when the demo exits first. */
    until(check: (output: string) => boolean, what: string): Promise<void> {
      return new Promise((resolve, reject) => {
        const test = () => {
          if (!check(out)) return;
          waiters.delete(test);
          resolve();
        };
        waiters.add(test);
        test();
        void exit.then((code) => reject(new Error(`the demo exited (code ${code}) before ${what}:\n${out}`)));
      });
    },
    ctrlC: () => process.kill(-(demo.pid as number), 'SIGINT'),
  };
}

it(`npm run demo: readings go MQTT → source → Danube → sink → MQTT alerts/, shown live; Ctrl-C drains and exits 0`, async () => {
  // Free addresses, so nothing already running is found (the demo would then only watch) and parallel runs do not meet.
  const env = { DANUBE_SERVICE_URL: `http://127.0.0.1:${await unusedLoopbackPort()}`, MQTT_URL: `mqtt://127.0.0.1:${await unusedLoopbackPort()}` };
  const demo = startDemo(env);
  await demo.until((o) => o.split('\n').map(liveCounts).some((c) => c !== undefined && c.source >= READINGS && c.sink >= READINGS && c.alerts >= READINGS), `${READINGS} readings went through`);
  demo.ctrlC();
  expect(await demo.exit, demo.output()).toBe(0);
  const out = demo.output();

  // dev embedded both brokers, and the plugins fell back to MQTT 3.1.1 for aedes.
  expect(out).toContain(`dev: Danube ${env.DANUBE_SERVICE_URL} (sensors-in, alerts-out): nothing answered, started TestBroker: service ${env.DANUBE_SERVICE_URL}`);
  expect(out).toContain(`dev: MQTT ${env.MQTT_URL} (sensors-in, alerts-out): nothing answered, started an embedded MQTT 3.1.1 broker (aedes, in memory) at ${env.MQTT_URL}`);
  expect(out).toMatch(/host {3}│ sensors-in: MQTT broker refused protocol version 5; falling back to 3\.1\.1/);
  expect(out).toContain(`publishing 3 readings a second`);
  // The tail of the Danube topic: readings keyed by their MQTT topic.
  expect(out).toMatch(/danube │ \/default\/temperature offset=0 key=sensors\/(kitchen|garage|attic)\/temperature \{"sensor":/);
  // The last counts, after the drain: every connector moved readings, and dev and tail exited 0.
  const stopped = /stopped: published (\d+), source → Danube (\d+), sink → MQTT (\d+), alerts\/# received (\d+); dev exit 0, tail exit 0/.exec(out);
  expect(stopped, out).not.toBeNull();
  const [published, source, sink, alerts] = (stopped as RegExpExecArray).slice(1).map(Number) as [number, number, number, number];
  expect(published).toBeGreaterThanOrEqual(READINGS);
  expect(source).toBeGreaterThanOrEqual(READINGS);
  expect(sink).toBeGreaterThanOrEqual(READINGS);
  expect(alerts).toBeGreaterThanOrEqual(READINGS);
  // Nothing more reached Danube than was published: the alerts did not loop back into it.
  expect(source).toBeLessThanOrEqual(published);
});

it('npm run demo publishes nothing into an MQTT broker it finds running, and only watches', async () => {
  const mosquitto = await Mosquitto.start();
  onTestFinished(() => mosquitto.dispose());
  const watcher = await mqtt.connectAsync(mosquitto.url, { reconnectPeriod: 0 });
  onTestFinished(() => watcher.endAsync(true));
  const seen: string[] = [];
  watcher.on('message', (topic) => seen.push(topic));
  await watcher.subscribeAsync('#', { qos: 1 });

  const demo = startDemo({ DANUBE_SERVICE_URL: `http://127.0.0.1:${await unusedLoopbackPort()}`, MQTT_URL: mosquitto.url });
  // Three live lines after it said so: by then it would have published 3 rounds of readings.
  await demo.until((o) => o.includes('not publishing: the MQTT broker at') && o.slice(o.indexOf('not publishing')).split('\n').filter((l) => liveCounts(l)).length >= 3, 'three live lines');
  expect(demo.output()).toContain(`dev: MQTT ${mosquitto.url} (sensors-in, alerts-out): answered, using it as it is`);
  expect(demo.output()).not.toContain('publishing 3 readings a second');
  demo.ctrlC();
  expect(await demo.exit, demo.output()).toBe(0);
  expect(seen, 'topics published into the found broker').toEqual([]);
  expect(demo.output()).toMatch(/stopped: published 0, source → Danube 0, sink → MQTT 0, alerts\/# received 0; dev exit 0, tail exit 0/);
});
