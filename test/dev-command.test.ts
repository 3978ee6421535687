import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Mosquitto } from '@danube-connect/mqtt/testing';
import { TestBroker, unusedLoopbackPort } from '@danube-connect/testing';
import mqtt from 'mqtt';
import { expect, it, onTestFinished, vi } from 'vitest';
import { CLI, connectors, WAIT } from './host-process.js';

// `danube-connect dev` starts only the brokers that do not answer: run on examples/iot/host.toml (its addresses
// moved by env) once with a real mosquitto already running and once with a TestBroker already running.
const TOML = fileURLToPath(new URL('../examples/iot/host.toml', import.meta.url));

interface Dev {
  output: () => string;
  exit: Promise<number | null>;
  http: string;
  stop: () => Promise<number | null>;
}

/** `danube-connect dev examples/iot/host.toml`; resolves once both connectors run and the sink has subscribed. */
async function startDev(env: Record<string, string>): Promise<Dev> {
  const child = spawn(process.execPath, [CLI, 'dev', TOML], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DANUBE_TOKEN: '', DANUBE_CONNECT_HTTP: '127.0.0.1:0', ...env } });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exit;
  });
  const lines = () => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const http = await vi.waitFor(() => {
    expect(child.exitCode, out).toBeNull();
    const running = lines().find((l) => l.msg === 'danube-connect running');
    expect(running, out).toBeDefined();
    return (running as { http: string }).http;
  }, WAIT);
  // A new subscription starts at the topic's end: publish only once the sink has one.
  await vi.waitFor(() => expect(lines().some((l) => l.connector === 'alerts-out' && l.msg === 'subscribed'), out).toBe(true), WAIT);
  await vi.waitFor(async () => expect((await connectors(http)).map((c) => c.state)).toEqual(['running', 'running']), WAIT);
  return {
    output: () => out,
    exit,
    http,
    stop: async () => {
      child.kill('SIGINT');
      return exit;
    },
  };
}

/** An MQTT client that counts what arrives on alerts/#. */
async function alertsTap(url: string, protocolVersion: 4 | 5) {
  const client = await mqtt.connectAsync(url, { protocolVersion, clean: true, reconnectPeriod: 0 });
  onTestFinished(() => client.endAsync(true));
  const arrived: { topic: string; payload: string }[] = [];
  client.on('message', (topic, payload) => arrived.push({ topic, payload: payload.toString() }));
  await client.subscribeAsync('alerts/#', { qos: 1 });
  return { client, arrived };
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

it('uses the mosquitto it finds and says so, starting only a TestBroker', async () => {
  const mosquitto = await Mosquitto.start();
  onTestFinished(() => mosquitto.dispose());
  const danubeUrl = `http://127.0.0.1:${await unusedLoopbackPort()}`;
  const dev = await startDev({ MQTT_URL: mosquitto.url, DANUBE_SERVICE_URL: danubeUrl });
  const out = dev.output();
  expect(out).toContain(`dev: MQTT ${mosquitto.url} (sensors-in, alerts-out): answered, using it as it is\n`);
  expect(out).toMatch(new RegExp(`dev: Danube ${danubeUrl} \\(sensors-in, alerts-out\\): nothing answered, started TestBroker: service ${danubeUrl}, admin http://127\\.0\\.0\\.1:\\d+, namespaces default\\n`));
  expect(out).not.toContain('started an embedded MQTT');
  // mosquitto speaks MQTT 5: no fallback, and both connectors are its clients.
  expect(out).not.toContain('falling back to 3.1.1');
  expect(mosquitto.log).toContain('as danube-sensors-in');
  expect(mosquitto.log).toContain('as danube-alerts-out');

  const tap = await alertsTap(mosquitto.url, 5);
  const publisher = await mqtt.connectAsync(mosquitto.url, { reconnectPeriod: 0 });
  onTestFinished(() => publisher.endAsync(true));
  await publisher.publishAsync('sensors/lab/temperature', '{"celsius":21}', { qos: 1 });
  await vi.waitFor(() => expect(tap.arrived).toEqual([{ topic: 'alerts/sensors/lab/temperature', payload: '{"celsius":21}' }]), WAIT);

  expect(await dev.stop(), dev.output()).toBe(0);
  expect(mosquitto.running, 'dev left the broker it found alone').toBe(true);
  expect(await answers(Number(new URL(danubeUrl).port)), 'the TestBroker dev started is gone').toBe(false);
});

it('uses the Danube broker it finds and says so, starting only an embedded MQTT 3.1.1 broker', async () => {
  const broker = await TestBroker.start();
  onTestFinished(() => broker.stop());
  const mqttUrl = `mqtt://127.0.0.1:${await unusedLoopbackPort()}`;
  const dev = await startDev({ MQTT_URL: mqttUrl, DANUBE_SERVICE_URL: broker.serviceUrl });
  const out = dev.output();
  expect(out).toContain(`dev: Danube ${broker.serviceUrl} (sensors-in, alerts-out): answered, using it as it is\n`);
  expect(out).toContain(`dev: MQTT ${mqttUrl} (sensors-in, alerts-out): nothing answered, started an embedded MQTT 3.1.1 broker (aedes, in memory) at ${mqttUrl}\n`);
  expect(out).not.toContain('started TestBroker');
  expect(out).toContain('falling back to 3.1.1');

  const tap = await alertsTap(mqttUrl, 4);
  const publisher = await mqtt.connectAsync(mqttUrl, { protocolVersion: 4, reconnectPeriod: 0 });
  onTestFinished(() => publisher.endAsync(true));
  await publisher.publishAsync('sensors/lab/temperature', '{"celsius":22}', { qos: 1 });
  // Into the broker the test runs, keyed by the MQTT topic, and out again to alerts/<key>.
  await vi.waitFor(() => expect(broker.storedMessages('/default/temperature').map((m) => [m.routingKey, m.payload.toString()])).toEqual([['sensors/lab/temperature', '{"celsius":22}']]), WAIT);
  await vi.waitFor(() => expect(tap.arrived).toEqual([{ topic: 'alerts/sensors/lab/temperature', payload: '{"celsius":22}' }]), WAIT);

  expect(await dev.stop(), dev.output()).toBe(0);
  expect(await answers(Number(new URL(broker.serviceUrl).port)), 'dev left the broker it found alone').toBe(true);
  expect(await answers(Number(new URL(mqttUrl).port)), 'the MQTT broker dev started is gone').toBe(false);
});
