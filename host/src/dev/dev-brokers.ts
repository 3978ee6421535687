import type { ValidatedHost } from '../validate-host.js';
import { loadTestingKit, type TestingKit } from '../testing-kit.js';
import { loadAedes } from './aedes-loader.js';
import { brokerAddress, danubeTargets, isLoopback, mqttTargets, type BrokerAddress } from './broker-targets.js';
import { EmbeddedMqtt } from './embedded-mqtt.js';
import { tcpAnswers } from './tcp-probe.js';

/** One broker the connectors use, as `dev` found or started it. */
export interface DevBroker {
  kind: 'danube' | 'mqtt';
  /** As configured: the service URL, or the MQTT url (each of `servers`, comma-separated). */
  configured: string;
  connectors: string[];
  /** `found`: something answered there and is used as it is; `started`: nothing did, dev embeds one. */
  state: 'found' | 'started';
  /** Of a started broker: where it listens (TestBroker: service and admin URL; MQTT: its URL). */
  serviceUrl?: string;
  adminUrl?: string;
  url?: string;
  /** Of a started TestBroker: the namespaces created besides `default`. */
  namespaces?: string[];
}

export interface DevBrokers {
  brokers: DevBroker[];
  /** Stops what dev started (never what it found). */
  stop(): Promise<void>;
}

type Embeddable = { ok: true; address: BrokerAddress } | { ok: false; why: string };

/** Whether dev can start the broker at `configured`: plaintext (TLS would need certificates), loopback only. */
function embeddable(kind: 'danube' | 'mqtt', configured: string, address: BrokerAddress | undefined, tls: boolean): Embeddable {
  if (!address) return { ok: false, why: `"${configured}" has no host and port` };
  if (tls) return { ok: false, why: `it is configured with TLS, and dev embeds only a plaintext ${kind === 'danube' ? 'http://' : 'mqtt://'} broker` };
  if (kind === 'mqtt' && !/^(mqtt|tcp):/.test(configured)) return { ok: false, why: 'dev embeds MQTT over TCP only (mqtt://), not over WebSocket' };
  if (!isLoopback(address.host)) return { ok: false, why: `dev starts brokers only on loopback addresses (127.0.0.1, ::1, localhost), not on ${address.host}` };
  return { ok: true, address };
}

/**
 * `danube-connect dev`'s brokers (docs/architecture.md §5.13): probes every Danube and MQTT broker host.toml's
 * connectors use (a TCP connect), and where nothing answers starts one at that very address — TestBroker with
 * the connectors' namespaces, aedes for MQTT — so the connectors run on host.toml as it is. Rejects, with
 * nothing left running, when a missing broker cannot be embedded (TLS, not loopback), when an optional package
 * it needs is not installed (every such message at once), or when a start fails.
 */
export async function startDevBrokers(host: ValidatedHost): Promise<DevBrokers> {
  const danube = danubeTargets(host).map((target) => ({ target, answered: target.address ? tcpAnswers(target.address.host, target.address.port) : Promise.resolve(false) }));
  const mqtt = mqttTargets(host).map((target) => ({
    target,
    // A failover list is reachable when any of its servers answers: the connector fails over to it.
    answered: Promise.all(target.urls.map((url) => brokerAddress(url)).map((a) => (a ? tcpAnswers(a.host, a.port) : false))).then((all) => all.includes(true)),
  }));
  const brokers: DevBroker[] = [];
  const toStart: { danube: { broker: DevBroker; address: BrokerAddress; admin: BrokerAddress | undefined }[]; mqtt: { broker: DevBroker; address: BrokerAddress }[] } = { danube: [], mqtt: [] };
  const problems: string[] = [];
  for (const { target, answered } of danube) {
    const broker: DevBroker = { kind: 'danube', configured: target.url, connectors: target.connectors, state: (await answered) ? 'found' : 'started' };
    brokers.push(broker);
    if (broker.state === 'found') continue;
    const can = embeddable('danube', target.url, target.address, target.tls);
    if (!can.ok) problems.push(`nothing answers at the Danube broker ${target.url}, and dev cannot start one there: ${can.why}`);
    else {
      broker.namespaces = target.namespaces.filter((n) => n !== 'default');
      toStart.danube.push({ broker, address: can.address, admin: target.adminAddress && isLoopback(target.adminAddress.host) ? target.adminAddress : undefined });
    }
  }
  for (const { target, answered } of mqtt) {
    const configured = target.urls.join(', ');
    const broker: DevBroker = { kind: 'mqtt', configured, connectors: target.connectors, state: (await answered) ? 'found' : 'started' };
    brokers.push(broker);
    if (broker.state === 'found') continue;
    // Of a failover list, the first server dev can embed: one broker, so the connectors of the list meet there.
    const candidates = target.urls.map((url) => embeddable('mqtt', url, brokerAddress(url), /^(mqtts|ssl|wss):/.test(url)));
    const can = candidates.find((c) => c.ok) ?? candidates[0];
    if (!can?.ok) problems.push(`nothing answers at the MQTT broker ${configured}, and dev cannot start one there: ${can?.why ?? 'no URL'}`);
    else toStart.mqtt.push({ broker, address: can.address });
  }
  if (problems.length > 0) throw new Error(problems.map((p) => `danube-connect dev: ${p}`).join('\n'));

  // Loaded only when needed, and both before anything starts, so one run names every package to install.
  const [kit, aedes] = await Promise.allSettled([
    toStart.danube.length > 0 ? loadTestingKit() : Promise.resolve(undefined),
    toStart.mqtt.length > 0 ? import('./aedes-loader.js').then((m) => m.loadAedes()) : Promise.resolve(undefined),
  ]);
  const missing = [kit, aedes].flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
  if (missing.length > 0) throw new Error(missing.map((m) => `danube-connect dev: ${m}`).join('\n'));
  const { TestBroker } = (kit as PromiseFulfilledResult<Awaited<ReturnType<typeof loadTestingKit>> | undefined>).value ?? {};

  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    await Promise.all(stops.splice(0).map((s) => s()));
  };
  try {
    for (const { broker, address, admin } of toStart.danube) {
      if (!TestBroker) throw new Error('the test kit was not loaded');
      const started = await TestBroker.start({
        host: address.host === 'localhost' ? '127.0.0.1' : address.host,
        port: address.port,
        ...(admin ? { adminPort: admin.port } : {}),
        namespaces: broker.namespaces ?? [],
      });
      stops.push(() => started.stop());
      Object.assign(broker, { serviceUrl: started.serviceUrl, adminUrl: started.adminUrl });
    }
    for (const { broker, address } of toStart.mqtt) {
      const started = await EmbeddedMqtt.start(address);
      stops.push(() => started.stop());
      broker.url = started.url;
    }
  } catch (err) {
    await stop();
    throw new Error(`danube-connect dev: cannot start a broker: ${(err as Error).message}`, { cause: err });
  }
  return { brokers, stop };
}
