import { isAbsolute } from 'node:path';
import { parseTopicFilter, topicFilterProblem } from '@danube-connect/mqtt';
import schema from '../../schema.json' with { type: 'json' };
import { filterCovers } from '../config.js';
import type { MigrationMessage, ReferenceConfig, ReferenceSchema, VersionStrategy } from './reference-config.js';
import { QOS_NAMES, SCHEMA_TYPES } from './reference-keys.js';
import type { TomlValue } from './toml-value.js';

type Property = { maximum?: number; pattern?: string };
const ROUTE_PROPERTIES = schema.$defs.route.properties as Record<string, Property>;
const DANUBE_TOPIC = new RegExp(ROUTE_PROPERTIES['to']?.pattern ?? '^$');

export type Say = (level: MigrationMessage['level'], key: string, text: string) => void;

/** `[[mqtt.routes]]` → `routes`, checked as this plugin checks them (filters, topics, shadowing, shared topics). */
export function migrateRoutes(ref: ReferenceConfig, say: Say): Record<string, TomlValue>[] {
  const routes = ref.mqtt.routes;
  if (routes.length === 0) say('error', 'mqtt.routes', 'is empty: the reference refuses to start without a route');
  const filters: (string | undefined)[] = [];
  return routes.map((route, i) => {
    const at = `mqtt.routes[${i}]`;
    const out: Record<string, TomlValue> = { from: route.from, to: route.to };
    const problem = topicFilterProblem(route.from);
    if (problem) say('error', `${at}.from`, `${problem} (the reference failed at start too)`);
    const filter = problem ? undefined : parseTopicFilter(route.from).filter;
    filters.push(filter);
    if (filter !== undefined) {
      const earlier = filters.findIndex((f, j) => j < i && f !== undefined && filterCovers(f, filter));
      if (earlier >= 0) say('error', `${at}.from`, `every topic "${route.from}" matches goes to mqtt.routes[${earlier}] ("${routes[earlier]?.from}") first, there as here (the first match wins): this route never got a message; remove it or put it first`);
      if (route.from.startsWith('$share/')) say('note', `${at}.from`, 'a shared subscription: the reference dropped its messages after acknowledging them (its matcher kept "$share/<group>/"); they are delivered here');
    }
    if (!DANUBE_TOPIC.test(route.to)) say('error', `${at}.to`, `"${route.to}" is not a Danube topic /<namespace>/<topic> (letters, digits, _ and -): the reference did not check it, this plugin does`);
    if (route.qos !== undefined) {
      const qos = QOS_NAMES[route.qos] as 0 | 1 | 2;
      out['qos'] = qos;
      if (qos === 2) say('note', `${at}.qos`, '"ExactlyOnce" becomes qos = 2: the reference acknowledged on receipt (at most once); here PUBREC waits for Danube');
    }
    if (route.partitions !== undefined && fitsRoute(say, `${at}.partitions`, route.partitions)) out['partitions'] = route.partitions;
    if (route.reliable_dispatch !== undefined) out['reliable'] = route.reliable_dispatch;
    const same = routes.findIndex((r) => r.to === route.to);
    const other = routes[same];
    if (other && same < i) {
      const reliable = (r: typeof route) => r.reliable_dispatch ?? (r.qos ?? 'AtLeastOnce') !== 'AtMostOnce';
      if ((other.partitions ?? 0) !== (route.partitions ?? 0) || reliable(other) !== reliable(route)) {
        say('error', at, `writes to ${route.to} like mqtt.routes[${same}] with other partitions or reliable_dispatch: the reference made a producer per route under one name (the last one won); routes sharing a Danube topic must agree here`);
      }
    }
    return out;
  });
}

function fitsRoute(say: Say, key: string, partitions: number): boolean {
  const max = ROUTE_PROPERTIES['partitions']?.maximum;
  if (max !== undefined && partitions > max) {
    say('error', key, `= ${partitions} is above this plugin's maximum ${max}`);
    return false;
  }
  return true;
}

const versionOf = (strategy: VersionStrategy): TomlValue => (strategy === 'latest' ? 'latest' : { ...strategy });

/** Each `[[schemas]]` entry becomes `schema` of every route whose `to` is its topic. */
export function attachSchemas(schemas: readonly ReferenceSchema[], ref: ReferenceConfig, routes: Record<string, TomlValue>[], say: Say): void {
  const seen = new Map<string, number>();
  schemas.forEach((entry, i) => {
    const at = `schemas[${i}]`;
    const first = seen.get(entry.topic);
    if (first !== undefined) {
      say('error', `${at}.topic`, `"${entry.topic}" has a schema already (schemas[${first}]): a topic has one schema`);
      return;
    }
    seen.set(entry.topic, i);
    const targets = ref.mqtt.routes.flatMap((route, j) => (route.to === entry.topic ? [j] : []));
    if (targets.length === 0) {
      say('error', `${at}.topic`, `"${entry.topic}": no route writes to it; the reference only warned and went on without the schema; fix the topic or remove the entry`);
      return;
    }
    const known = SCHEMA_TYPES[entry.schema_type.toLowerCase()];
    if (!known) {
      say('error', `${at}.schema_type`, `"${entry.schema_type}" is not a schema type of the reference: ${Object.keys(SCHEMA_TYPES).join(', ')}`);
      return;
    }
    const needsFile = known.type === 'json_schema' || known.type === 'avro' || known.type === 'protobuf';
    const out: Record<string, TomlValue> = { subject: entry.subject, type: known.type };
    if (entry.subject === '') say('error', `${at}.subject`, 'is empty');
    if (entry.schema_file === '') {
      if (needsFile) say('error', `${at}.schema_file`, `is empty, but a ${entry.schema_type} schema is read from a file (the reference failed at start)`);
    } else if (!needsFile) {
      say('note', `${at}.schema_file`, `not carried: a ${known.type} schema has no file (the reference did not read it)`);
    } else {
      out['file'] = entry.schema_file;
      if (!isAbsolute(entry.schema_file)) say('warning', `${at}.schema_file`, `"${entry.schema_file}" is relative: the reference read it from its working directory, the host reads it from host.toml's folder; make it absolute, or check it is there`);
    }
    if (entry.auto_register !== undefined) out['auto_register'] = entry.auto_register;
    if (entry.version_strategy !== undefined) out['version'] = versionOf(entry.version_strategy);
    const routeNames = targets.map((j) => `mqtt.routes[${j}]`).join(', ');
    // json_schema, string and number payloads are checked before publishing here (docs/delivery-semantics.md §3.4).
    const checked = ['json_schema', 'string', 'number'].includes(known.type);
    const invalid = checked ? '; a payload that does not fit goes to [connectors.processing] dead_letter_topic, or is counted and dropped when none is set' : '';
    say(checked ? 'warning' : 'note', at, `becomes the schema of ${routeNames}, type "${known.type}": ${known.note}${invalid}`);
    for (const j of targets) (routes[j] as Record<string, TomlValue>)['schema'] = out;
  });
}
