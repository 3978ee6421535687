import { DanubeAdminClient } from '@danube-connect/sdk';
import { unusedLoopbackPort } from '@danube-connect/testing';
import mqtt from 'mqtt';
import { describe, expect, it, onTestFinished } from 'vitest';
import { isLoopback } from '../../src/dev/broker-targets.js';
import { startDevBrokers } from '../../src/dev/dev-brokers.js';
import { tcpAnswers } from '../../src/dev/tcp-probe.js';
import { validateHostOrThrow } from '../../src/validate-host.js';
import { tempProject, writePlugin } from '../temp-project.js';

/** A host.toml with one connector of a schema-less plugin whose config names an MQTT url and Danube topics. */
function host(danubeUrl: string, mqttUrl: string, extra = '') {
  const project = tempProject();
  writePlugin(project, '.', 'any-plugin', { kind: 'source', entry: './index.js', sdk: '^0.1.0' });
  const file = project.write(
    'host.toml',
    `[danube]\nservice_url = "${danubeUrl}"\n${extra}\n[[connectors]]\nname = "plant"\nplugin = "any-plugin"\n[connectors.config]\nurl = "${mqttUrl}"\npath = "/var/log/app/events.jsonl"\n` +
      `routes = [{ from = "plant/#", to = "/plant/readings" }, { from = "x/#", to = "/default/x" }]\n[connectors.processing]\ndead_letter_topic = "/dlq/plant"\n`,
  );
  return validateHostOrThrow(file, { env: {} });
}

describe('startDevBrokers', () => {
  it('starts a TestBroker with the namespaces of the connectors\' Danube topics and an MQTT 3.1.1 broker where nothing answers, and stops them', async () => {
    const danubeUrl = `http://127.0.0.1:${await unusedLoopbackPort()}`;
    const mqttUrl = `mqtt://127.0.0.1:${await unusedLoopbackPort()}`;
    const dev = await startDevBrokers(host(danubeUrl, mqttUrl));
    onTestFinished(() => dev.stop());
    expect(dev.brokers).toEqual([
      { kind: 'danube', configured: danubeUrl, connectors: ['plant'], state: 'started', namespaces: ['plant', 'dlq'], serviceUrl: danubeUrl, adminUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) },
      { kind: 'mqtt', configured: mqttUrl, connectors: ['plant'], state: 'started', url: mqttUrl },
    ]);
    const admin = new DanubeAdminClient({ adminUrl: dev.brokers[0]?.adminUrl as string });
    onTestFinished(() => admin.close());
    expect((await admin.listNamespaces()).sort()).toEqual(['default', 'dlq', 'plant', 'system']);

    // MQTT 3.1.1 only: a 5 CONNECT is refused with return code 1 (the plugins then fall back to 3.1.1).
    await expect(mqtt.connectAsync(mqttUrl, { protocolVersion: 5, reconnectPeriod: 0 })).rejects.toMatchObject({ code: 1 });
    const client = await mqtt.connectAsync(mqttUrl, { protocolVersion: 4, reconnectPeriod: 0 });
    await client.endAsync();

    await dev.stop();
    expect(await tcpAnswers('127.0.0.1', Number(new URL(danubeUrl).port))).toBe(false);
    expect(await tcpAnswers('127.0.0.1', Number(new URL(mqttUrl).port))).toBe(false);
  });

  it('uses what answers and starts nothing there; stop leaves it running', async () => {
    const danubeUrl = `http://127.0.0.1:${await unusedLoopbackPort()}`;
    const mqttUrl = `mqtt://127.0.0.1:${await unusedLoopbackPort()}`;
    const first = await startDevBrokers(host(danubeUrl, mqttUrl));
    onTestFinished(() => first.stop());
    const second = await startDevBrokers(host(danubeUrl, mqttUrl));
    expect(second.brokers.map((b) => [b.kind, b.state])).toEqual([['danube', 'found'], ['mqtt', 'found']]);
    expect(second.brokers.some((b) => b.serviceUrl ?? b.url)).toBe(false);
    await second.stop();
    expect(await tcpAnswers('127.0.0.1', Number(new URL(danubeUrl).port))).toBe(true);
    expect(await tcpAnswers('127.0.0.1', Number(new URL(mqttUrl).port))).toBe(true);
  });

  it('binds the TestBroker\'s admin API to [danube] admin_url', async () => {
    const adminUrl = `http://127.0.0.1:${await unusedLoopbackPort()}`;
    const dev = await startDevBrokers(host(`http://127.0.0.1:${await unusedLoopbackPort()}`, `mqtt://127.0.0.1:${await unusedLoopbackPort()}`, `admin_url = "${adminUrl}"\ncreate_namespaces = true`));
    onTestFinished(() => dev.stop());
    expect(dev.brokers[0]?.adminUrl).toBe(adminUrl);
  });

  it('refuses, starting nothing, where a missing broker needs TLS', async () => {
    const danubePort = await unusedLoopbackPort();
    const mqttPort = await unusedLoopbackPort();
    await expect(startDevBrokers(host(`https://127.0.0.1:${danubePort}`, `mqtts://127.0.0.1:${mqttPort}`))).rejects.toThrow(
      [
        `danube-connect dev: nothing answers at the Danube broker https://127.0.0.1:${danubePort}, and dev cannot start one there: it is configured with TLS, and dev embeds only a plaintext http:// broker`,
        `danube-connect dev: nothing answers at the MQTT broker mqtts://127.0.0.1:${mqttPort}, and dev cannot start one there: it is configured with TLS, and dev embeds only a plaintext mqtt:// broker`,
      ].join('\n'),
    );
    expect(await tcpAnswers('127.0.0.1', danubePort)).toBe(false);
  });
});

it('refuses an MQTT broker over WebSocket, starting nothing', async () => {
  const danube = `http://127.0.0.1:${await unusedLoopbackPort()}`;
  const port = await unusedLoopbackPort();
  await expect(startDevBrokers(host(danube, `ws://127.0.0.1:${port}`))).rejects.toThrow(
    `danube-connect dev: nothing answers at the MQTT broker ws://127.0.0.1:${port}, and dev cannot start one there: dev embeds MQTT over TCP only (mqtt://), not over WebSocket`,
  );
  expect(await tcpAnswers('127.0.0.1', Number(new URL(danube).port)), 'nothing started when one broker cannot be').toBe(false);
});

it('isLoopback: only loopback addresses and localhost', () => {
  expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].map(isLoopback)).toEqual([true, true, true, true]);
  expect(['0.0.0.0', '10.0.0.1', '::', 'broker.example', '128.0.0.1', '::ffff:127.0.0.1'].map(isLoopback)).toEqual([false, false, false, false, false, false]);
});
