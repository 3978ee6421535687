import { joinPath, pointerToPath, type KeyPath } from './config-problem.js';
import { templateMayMatchFilter } from './mqtt-topic-overlap.js';

/**
 * What a plugin reads or writes outside Danube, as its manifest declares it (`endpoints`,
 * docs/architecture.md §3.1): config paths (`/`-separated, `*` = every element of an array) of the broker
 * addresses, of what it subscribes to and of what it publishes to.
 */
export interface PluginEndpoint {
  system: string;
  address: readonly string[];
  reads?: readonly string[];
  writes?: readonly string[];
}

/** A connector writing where another one reads on the same external broker: found by `findEndpointLoops`. */
export interface EndpointLoop {
  /** The connector whose `writes` value reaches the other's `reads`. */
  writer: string;
  /** Path of the written topic in the writer's config, e.g. `['routes', 0, 'to']`. */
  path: KeyPath;
  reader: string;
  /** Names both paths, both patterns and the broker (host and port only: a URL may carry credentials). */
  message: string;
}

/** The connectors `findEndpointLoops` compares: name, the plugin's endpoints and the validated config. */
export interface EndpointOwner {
  name: string;
  endpoints: readonly PluginEndpoint[];
  config: Record<string, unknown>;
}

/** Systems whose topic patterns the host can compare; other systems' endpoints are not checked. */
const MAY_REACH: ReadonlyMap<string, (written: string, read: string) => boolean> = new Map([['mqtt', templateMayMatchFilter]]);

const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'mqtt:': '1883', 'tcp:': '1883', 'mqtts:': '8883', 'ssl:': '8883', 'ws:': '80', 'wss:': '443' };

/** Every value at `pointer` in `config`, with its key path (a `*` segment walks every element of an array). */
export function valuesAt(config: unknown, pointer: string): { path: KeyPath; value: unknown }[] {
  let found: { path: KeyPath; value: unknown }[] = [{ path: [], value: config }];
  for (const segment of pointerToPath(pointer)) {
    found = found.flatMap(({ path, value }) => {
      if (segment === '*') return Array.isArray(value) ? value.map((item, i) => ({ path: [...path, i], value: item })) : [];
      if (value === null || typeof value !== 'object') return [];
      const child = (value as Record<string | number, unknown>)[segment];
      return child === undefined ? [] : [{ path: [...path, segment], value: child }];
    });
  }
  // An address key may hold one URL or a list of them (`url` or `servers`).
  return found.flatMap((entry) => (Array.isArray(entry.value) ? entry.value.map((value, i) => ({ path: [...entry.path, i], value })) : [entry]));
}

/**
 * A broker's identity from its URL: host and port (the scheme's default port when absent), with every loopback
 * name as one host, and how to show it (host and port, never the URL's credentials). Two URLs with the same
 * identity are taken for the same broker; a broker reached under two names (or ports) is not recognised.
 */
export function brokerIdentity(url: string): { identity: string; shown: string } | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === '') return undefined;
  const loopback = host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  const port = parsed.port || DEFAULT_PORTS[parsed.protocol] || '';
  return { identity: `${loopback ? 'loopback' : host}:${port}`, shown: `${parsed.hostname}:${port}` };
}

function strings(config: unknown, pointers: readonly string[] | undefined): { path: KeyPath; value: string }[] {
  return (pointers ?? []).flatMap((pointer) => valuesAt(config, pointer)).flatMap(({ path, value }) => (typeof value === 'string' ? [{ path, value }] : []));
}

/** An endpoint with its config values read once: its brokers (identity → how to show it), what it reads and writes. */
interface ResolvedEndpoint {
  owner: string;
  system: string;
  brokers: Map<string, string>;
  reads: { path: KeyPath; value: string }[];
  writes: { path: KeyPath; value: string }[];
}

function resolve(owner: EndpointOwner, endpoint: PluginEndpoint): ResolvedEndpoint {
  const brokers = new Map<string, string>();
  for (const { value } of strings(owner.config, endpoint.address)) {
    const broker = brokerIdentity(value);
    if (broker !== undefined && !brokers.has(broker.identity)) brokers.set(broker.identity, broker.shown);
  }
  return { owner: owner.name, system: endpoint.system, brokers, reads: strings(owner.config, endpoint.reads), writes: strings(owner.config, endpoint.writes) };
}

/**
 * Pairs of connectors where one publishes to an external broker what another subscribes to on the same broker,
 * so every such message comes back into Danube (a sink-mqtt `to` that a source-mqtt `from` matches). Only
 * systems in MAY_REACH are compared; a connector is not compared with itself. Each pair of paths is reported once.
 */
export function findEndpointLoops(owners: readonly EndpointOwner[]): EndpointLoop[] {
  const endpoints = owners.flatMap((owner) => owner.endpoints.filter((e) => MAY_REACH.has(e.system)).map((e) => resolve(owner, e)));
  const loops: EndpointLoop[] = [];
  for (const out of endpoints) {
    const mayReach = MAY_REACH.get(out.system) as (written: string, read: string) => boolean;
    for (const into of endpoints) {
      if (into.owner === out.owner || into.system !== out.system) continue;
      const shared = [...into.brokers.keys()].find((identity) => out.brokers.has(identity));
      if (shared === undefined) continue;
      for (const written of out.writes) {
        for (const read of into.reads.filter((r) => mayReach(written.value, r.value))) {
          loops.push({
            writer: out.owner,
            path: written.path,
            reader: into.owner,
            message:
              `"${written.value}" publishes ${out.system} topics that connector "${into.owner}" subscribes to with "${read.value}" (config/${joinPath(read.path)}) ` +
              `on the same broker ${out.brokers.get(shared) as string}: what this connector publishes there comes back into Danube, and loops if it reaches this connector again`,
          });
        }
      }
    }
  }
  return loops;
}
