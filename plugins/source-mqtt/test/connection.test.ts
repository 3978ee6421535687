import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { unusedLoopbackPort } from '@danube-connect/testing';
import { Aedes } from 'aedes';
import { describe, expect, it, onTestFinished } from 'vitest';
import { DanubeTap, mqttClient, startDanube, startMosquitto, startSource, uniqueTopic } from './support/harness.js';
import { makePki } from './support/pki.js';

const connected = (l: Record<string, unknown>) => l.msg === 'MQTT connected';
const subscribed = (l: Record<string, unknown>) => l.msg === 'MQTT subscribed';

describe('source-mqtt connection', () => {
  it('connects over TLS with a client certificate (CA and key from files, certificate inline)', async () => {
    const pki = makePki();
    const [danube, mosquitto] = await Promise.all([
      startDanube(),
      startMosquitto({ tls: { cafile: pki.ca, certfile: pki.serverCert, keyfile: pki.serverKey, requireCertificate: true } }),
    ]);
    const topic = uniqueTopic('tls');
    const tap = await DanubeTap.open(danube, topic);
    const child = await startSource(danube, {
      url: mosquitto.tlsUrl,
      tls: { ca: pki.ca, cert: readFileSync(pki.clientCert, 'utf8'), key: pki.clientKey },
      routes: [{ from: 'secure/#', to: topic }],
    });
    await child.log(subscribed);
    expect(await child.log(connected)).toMatchObject({ server: `mqtts://127.0.0.1:${mosquitto.tlsPort}` });
    const publisher = await mqttClient(mosquitto.url);
    await publisher.publishAsync('secure/1', 'over tls', { qos: 1 });
    await tap.until(() => tap.texts().includes('over tls'));
    await child.stop(10_000);
  });

  it.each([
    ['without a client certificate', (pki: ReturnType<typeof makePki>) => ({ ca: pki.ca })],
    ['trusting another CA', (pki: ReturnType<typeof makePki>) => ({ ca: pki.otherCa, cert: pki.clientCert, key: pki.clientKey })],
  ])('does not connect %s (the deliberately wrong cases of the TLS check)', async (_what, tlsOf) => {
    const pki = makePki();
    const [danube, mosquitto] = await Promise.all([
      startDanube(),
      startMosquitto({ tls: { cafile: pki.ca, certfile: pki.serverCert, keyfile: pki.serverKey, requireCertificate: true } }),
    ]);
    const child = await startSource(danube, { url: mosquitto.tlsUrl, reconnect_period_ms: 100, tls: tlsOf(pki), routes: [{ from: 'secure/#', to: uniqueTopic('tls') }] });
    await child.log((l) => l.msg === 'MQTT connection error');
    const pong = await child.ping();
    expect(pong.state).not.toBe('connected');
    expect(child.logs().some(connected)).toBe(false);
    await child.stop(10_000);
  });

  it('fails the start clearly on a tls file that is not PEM, naming the key', async () => {
    const pki = makePki();
    const danube = await startDanube();
    const child = await startSource(danube, { url: 'mqtts://127.0.0.1:1', tls: { ca: pki.ca.replace('ca.pem', 'ca.key.missing') }, routes: [{ from: 'a', to: uniqueTopic() }] }, { waitReady: false });
    const failed = await child.next('failed');
    expect(failed.message).toContain('tls.ca: cannot read the file');
    expect((await child.exit()).code).toBe(72);
  });

  it('logs in with username and password, and fails the start clearly when the broker refuses them', async () => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto({ users: { alice: 'right-password' } })]);
    const topic = uniqueTopic('auth');
    const tap = await DanubeTap.open(danube, topic);
    const ok = await startSource(danube, { url: mosquitto.url, username: 'alice', password: 'right-password', routes: [{ from: 'auth/#', to: topic }] });
    await ok.log(subscribed);
    const publisher = await mqttClient(mosquitto.url, { username: 'alice', password: 'right-password' });
    await publisher.publishAsync('auth/1', 'logged in', { qos: 1 });
    await tap.until(() => tap.texts().includes('logged in'));
    await ok.stop(10_000);

    const refused = await startSource(danube, { url: mosquitto.url, username: 'alice', password: 'wrong-password', routes: [{ from: 'auth/#', to: topic }] }, { waitReady: false });
    const failed = await refused.next('failed');
    expect(failed.code).toBe('start_failed');
    expect(failed.message).toContain('refused client id');
    expect(failed.message).toContain('DC_ERR_MQTT_AUTH');
    expect(failed.message).toMatch(/not authorized|bad user name or password/);
    expect(failed.message).not.toContain('wrong-password');
    expect((await refused.exit()).code).toBe(72);
    expect(JSON.stringify(refused.logs())).not.toContain('wrong-password');
  });

  it('fails over to the second server when the first does not answer', async () => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
    const dead = `mqtt://127.0.0.1:${await unusedLoopbackPort()}`;
    const topic = uniqueTopic('failover');
    const tap = await DanubeTap.open(danube, topic);
    const child = await startSource(danube, { servers: [dead, mosquitto.url], reconnect_period_ms: 50, routes: [{ from: 'fo/#', to: topic }] });
    expect(await child.log(connected)).toMatchObject({ server: mosquitto.url });
    await child.log(subscribed);
    expect(child.logs().some((l) => l.msg === 'MQTT connection error' && String(l.server) === dead)).toBe(true);
    const publisher = await mqttClient(mosquitto.url);
    await publisher.publishAsync('fo/1', 'second server', { qos: 1 });
    await tap.until(() => tap.texts().includes('second server'));
    await child.stop(10_000);
  });

  it('with only the dead server it never connects and reports degraded (the deliberately wrong case of the failover check)', async () => {
    const danube = await startDanube();
    const dead = `mqtt://127.0.0.1:${await unusedLoopbackPort()}`;
    const child = await startSource(danube, { url: dead, reconnect_period_ms: 50, routes: [{ from: 'fo/#', to: uniqueTopic('dead') }] });
    // Two failed attempts: it keeps trying, and stays unconnected.
    await child.log(() => child.logs().filter((x) => x.msg === 'MQTT connection error').length >= 2);
    const pong = await child.ping();
    expect(pong.state).toBe('degraded');
    expect(child.logs().some(connected)).toBe(false);
    await child.stop(10_000);
  });

  it('applies connect_timeout_ms: a broker that accepts TCP but never answers CONNECT is given up on after it', async () => {
    const danube = await startDanube();
    const silent = createServer(() => {}); // accepts and says nothing
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => {
      silent.close();
    });
    const url = `mqtt://127.0.0.1:${(silent.address() as { port: number }).port}`;
    const child = await startSource(danube, { url, connect_timeout_ms: 300, reconnect_period_ms: 5_000, routes: [{ from: 'a/#', to: uniqueTopic('silent') }] });
    const line = await child.log((l) => l.msg === 'MQTT connection error');
    expect(line.message).toBe('connack timeout');
    // The default (30 s) would not have given up within this case's wait at all.
    expect(line.attemptMs as number).toBeGreaterThanOrEqual(290);
    expect(line.attemptMs as number).toBeLessThan(5_000);
    expect((await child.ping()).state).toBe('degraded');
    await child.kill();
  });

  it('falls back from MQTT 5 to 3.1.1 when the broker refuses 5 (aedes answers CONNACK return code 1)', async () => {
    const danube = await startDanube();
    const aedes = await Aedes.createBroker();
    const server = createServer(aedes.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(async () => {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`;
    const topic = uniqueTopic('aedes');
    const tap = await DanubeTap.open(danube, topic);
    const child = await startSource(danube, { url, routes: [{ from: 'old/#', to: topic }] });
    await child.log((l) => l.msg === 'MQTT broker refused protocol version 5; falling back to 3.1.1 (protocol_version = 4)');
    expect(await child.log(connected)).toMatchObject({ protocolVersion: 4 });
    await child.log(subscribed);
    const publisher = await mqttClient(url, { protocolVersion: 4 });
    await publisher.publishAsync('old/1', 'via 3.1.1', { qos: 1 });
    await tap.until(() => tap.texts().includes('via 3.1.1'));
    expect(tap.messages[0]?.attributes['mqtt.qos']).toBe('1');
    await child.stop(10_000);
  });
});
