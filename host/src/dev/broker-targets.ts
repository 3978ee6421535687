import { isIP } from 'node:net';
import { validateTopicName } from '@danube-connect/sdk/core';
import type { ValidatedHost } from '../validate-host.js';

/** A host and port of a broker URL (an IPv6 host without its brackets). */
export interface BrokerAddress {
  host: string;
  port: number;
}

/** A Danube broker the connectors use: one per distinct (effective) service URL. */
export interface DanubeTarget {
  url: string;
  address: BrokerAddress | undefined;
  /** https:// or [danube.tls]: an embedded TestBroker would need the certificates, so dev does not start one. */
  tls: boolean;
  connectors: string[];
  /** The namespace of every Danube topic name in these connectors' config and processing settings. */
  namespaces: string[];
  /** `[danube] admin_url` when this is the `[danube]` broker: where an embedded TestBroker serves its admin API. */
  adminAddress: BrokerAddress | undefined;
}

/** An MQTT broker the connectors use: one per distinct `url` (or `servers` list, tried in turn). */
export interface MqttTarget {
  urls: string[];
  connectors: string[];
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443, 'mqtt:': 1883, 'tcp:': 1883, 'mqtts:': 8883, 'ssl:': 8883, 'ws:': 80, 'wss:': 443 };
const MQTT_SCHEMES = new Set(['mqtt:', 'tcp:', 'mqtts:', 'ssl:', 'ws:', 'wss:']);

/** The address of a URL, undefined when it does not parse. */
export function brokerAddress(url: string): BrokerAddress | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const port = parsed.port === '' ? DEFAULT_PORTS[parsed.protocol] : Number(parsed.port);
  if (port === undefined || parsed.hostname === '') return undefined;
  return { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}

/** Whether dev may start a broker at this host: a loopback address or `localhost` (it binds nothing else). */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** Every string anywhere in a value (config tables, arrays). */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

function isDanubeTopic(text: string): boolean {
  try {
    validateTopicName(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The Danube brokers of a validated host.toml: each connector's effective service URL (after `[connectors.danube]`
 * and DANUBE_SERVICE_URL), or `[danube]` alone when there is no connector. A plugin's topics are not declared
 * anywhere the host can read, so the namespaces to create are those of every string in a connector's config and
 * processing settings that is a Danube topic name (`/<namespace>/<topic>`).
 */
export function danubeTargets(host: ValidatedHost): DanubeTarget[] {
  const targets = new Map<string, DanubeTarget>();
  const target = (url: string, tls: boolean) => {
    let found = targets.get(url);
    if (!found) {
      const isDefault = url === host.config.host.danube.serviceUrl && host.config.host.adminUrl !== undefined;
      found = { url, address: brokerAddress(url), tls, connectors: [], namespaces: [], adminAddress: isDefault ? brokerAddress(host.config.host.adminUrl ?? '') : undefined };
      targets.set(url, found);
    }
    return found;
  };
  const isTls = (danube: { serviceUrl: string; tls?: unknown }) => danube.serviceUrl.startsWith('https:') || danube.tls !== undefined;
  if (host.connectors.length === 0) target(host.config.host.danube.serviceUrl, isTls(host.config.host.danube));
  for (const connector of host.connectors) {
    const found = target(connector.danube.serviceUrl, isTls(connector.danube));
    found.connectors.push(connector.name);
    for (const text of strings([connector.config, connector.runtime])) {
      const namespace = isDanubeTopic(text) ? text.split('/')[1] : undefined;
      if (namespace !== undefined && !found.namespaces.includes(namespace)) found.namespaces.push(namespace);
    }
  }
  return [...targets.values()];
}

/** The MQTT brokers of a validated host.toml: every connector whose config has an MQTT `url` or `servers` (any plugin). */
export function mqttTargets(host: ValidatedHost): MqttTarget[] {
  const targets = new Map<string, MqttTarget>();
  for (const connector of host.connectors) {
    const { url, servers } = connector.config;
    const urls = typeof url === 'string' ? [url] : Array.isArray(servers) ? servers.filter((s): s is string => typeof s === 'string') : [];
    if (urls.length === 0 || !urls.every((u) => MQTT_SCHEMES.has(u.slice(0, u.indexOf(':') + 1)))) continue;
    const key = JSON.stringify(urls);
    const found = targets.get(key) ?? { urls, connectors: [] };
    found.connectors.push(connector.name);
    targets.set(key, found);
  }
  return [...targets.values()];
}
