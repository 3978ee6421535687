import { isDeepStrictEqual } from 'node:util';
import { CONNECTION_MESSAGES, configValidator, connectionProblems, parseTopicFilter, topicFilterProblem, type MqttConnectionConfig } from '@danube-connect/mqtt';
import schema from '../schema.json' with { type: 'json' };

/** A route's `schema` (docs/danube-protocol.md §10), defaults applied. */
export interface RouteSchema {
  subject: string;
  type: 'json_schema' | 'string' | 'bytes' | 'number' | 'avro' | 'protobuf';
  file?: string;
  auto_register: boolean;
  version: 'latest' | { pinned: number } | { minimum: number };
}

/** Types with a definition file: registered from it and compared with the registered version. */
export const FILE_TYPES: ReadonlySet<RouteSchema['type']> = new Set(['json_schema', 'avro', 'protobuf']);

/** One `[[connectors.config.routes]]` entry, defaults applied. */
export interface RouteConfig {
  from: string;
  to: string;
  qos: 0 | 1 | 2;
  partitions: number;
  /** Absent: derived from the QoS (1 and 2 → reliable, 0 → non-reliable), as the reference does. */
  reliable?: boolean;
  key: 'topic' | 'none';
  ordering: 'partition' | 'none';
  schema?: RouteSchema;
}

/** The plugin's config (schema.json), defaults applied. */
export interface SourceMqttConfig extends MqttConnectionConfig {
  routes: RouteConfig[];
  include_metadata: boolean;
  /** Values of the `danube-origin` user property whose messages are skipped; `*` = any. */
  ignore_origins: string[];
}

/** Whether every topic matching filter `narrow` also matches `wide` (both without `$share/<group>/`). */
export function filterCovers(wide: string, narrow: string): boolean {
  const w = wide.split('/');
  const n = narrow.split('/');
  if (narrow.startsWith('$') !== wide.startsWith('$') && (w[0] === '+' || w[0] === '#')) return false;
  for (let i = 0; i < w.length; i++) {
    if (w[i] === '#') return true;
    if (i >= n.length) return false;
    if (n[i] === '#') return false;
    if (w[i] !== '+' && w[i] !== n[i]) return false;
  }
  return w.length === n.length;
}

const reliableOf = (route: RouteConfig) => route.reliable ?? route.qos >= 1;

/** What schema.json cannot say: filter syntax, routes that can never match, routes that disagree about a topic. */
function routeProblems(config: SourceMqttConfig): string[] {
  const problems: string[] = [];
  const parsed: Array<string | undefined> = [];
  config.routes.forEach((route, i) => {
    const problem = topicFilterProblem(route.from);
    if (problem) {
      problems.push(`routes/${i}/from: ${problem}`);
      parsed.push(undefined);
      return;
    }
    const filter = parseTopicFilter(route.from).filter;
    parsed.push(filter);
    for (let j = 0; j < i; j++) {
      const earlier = parsed[j];
      if (earlier === undefined) continue;
      if (config.routes[j]?.from === route.from) {
        problems.push(`routes/${i}/from: the same filter as routes/${j}; the first match wins, so this route would never get a message`);
        break;
      }
      if (filterCovers(earlier, filter)) {
        problems.push(`routes/${i}/from: every topic it matches is matched first by routes/${j} ("${config.routes[j]?.from}"), so it would never get a message; put the narrower route first`);
        break;
      }
    }
    if (route.partitions > 0 && route.to.includes('-part-')) problems.push(`routes/${i}/to: must not contain "-part-" (Danube names partitions so) when partitions > 0`);
    const same = config.routes.findIndex((r) => r.to === route.to);
    const other = config.routes[same];
    if (other && same < i) {
      const differs = (['partitions', 'ordering'] as const).filter((k) => other[k] !== route[k]);
      if (reliableOf(other) !== reliableOf(route)) differs.push('reliable' as never);
      // One producer per Danube topic, and a producer carries one schema.
      if (!isDeepStrictEqual(other.schema, route.schema)) differs.push('schema' as never);
      if (differs.length > 0) problems.push(`routes/${i}: writes to ${route.to} like routes/${same} but with another ${differs.join(', ')}; routes sharing a Danube topic must agree`);
    }
  });
  return [...problems, ...schemaProblems(config.routes)];
}

/** A route schema's file must match its type, and one subject must mean one schema everywhere. */
function schemaProblems(routes: readonly RouteConfig[]): string[] {
  const problems: string[] = [];
  const bySubject = new Map<string, number>();
  routes.forEach((route, i) => {
    const schema = route.schema;
    if (!schema) return;
    if (FILE_TYPES.has(schema.type) && schema.file === undefined) {
      problems.push(`routes/${i}/schema/file: is required for type ${schema.type} (the definition to register${schema.type === 'json_schema' ? ' and check payloads against' : ''})`);
    }
    if (!FILE_TYPES.has(schema.type) && schema.file !== undefined) {
      problems.push(`routes/${i}/schema/file: type ${schema.type} has no definition file; remove file`);
    }
    const first = bySubject.get(schema.subject);
    if (first === undefined) bySubject.set(schema.subject, i);
    else {
      const other = routes[first]?.schema;
      if (other && (other.type !== schema.type || other.file !== schema.file || other.auto_register !== schema.auto_register || !isDeepStrictEqual(other.version, schema.version))) {
        problems.push(`routes/${i}/schema: subject "${schema.subject}" is also used by routes/${first} with another type, file, auto_register or version; give both the same schema`);
      }
    }
  });
  return problems;
}

/**
 * Validates the connector config against schema.json (the host did so already; the plugin checks again so a
 * config from anywhere fails the same way) plus the semantic checks; throws one fatal `DC_ERR_MQTT_CONFIG`
 * error listing every problem with its key path.
 */
export const parseConfig = configValidator<SourceMqttConfig>(schema, (config) => [...connectionProblems(config), ...routeProblems(config)], CONNECTION_MESSAGES);

export { reliableOf };
