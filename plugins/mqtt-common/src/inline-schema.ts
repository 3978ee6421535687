import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

type Json = Record<string, unknown>;

const INCLUDE = 'x-include';
const CONNECTION_REF = '@danube-connect/mqtt/connection.schema.json#/$defs/connection';

/**
 * A plugin's published schema from its source schema: `"x-include": "@danube-connect/mqtt/connection.schema.json#/$defs/connection"`
 * at the root is replaced by the connection's properties, `oneOf` and `$defs`, so the result is one
 * self-contained draft-07 schema whose root `additionalProperties: false` refuses unknown keys (and the host,
 * editors and the README table see every key). A key or `$defs` name defined twice is an error.
 */
export function inlineSchema(source: Json, connectionSchema: Json): Json {
  const { [INCLUDE]: include, ...rest } = source;
  if (include !== CONNECTION_REF) throw new Error(`${INCLUDE} must be "${CONNECTION_REF}", got ${JSON.stringify(include)}`);
  const defs = { ...(connectionSchema['$defs'] as Record<string, Json>) };
  const connection = defs['connection'];
  if (!connection) throw new Error('the connection schema has no $defs/connection');
  delete defs['connection'];
  const own = (rest['properties'] ?? {}) as Json;
  const shared = connection['properties'] as Json;
  for (const key of Object.keys(own)) if (key in shared) throw new Error(`property "${key}" is defined by the plugin and by the connection schema`);
  const ownDefs = (rest['$defs'] ?? {}) as Json;
  for (const key of Object.keys(ownDefs)) if (key in defs) throw new Error(`$defs/${key} is defined by the plugin and by the connection schema`);
  const out: Json = { ...rest, properties: { ...shared, ...own }, $defs: { ...defs, ...ownDefs } };
  if (connection['oneOf']) {
    if (rest['oneOf']) throw new Error('the plugin schema and the connection schema both have a root oneOf');
    out['oneOf'] = connection['oneOf'];
  }
  return out;
}

/** Every `$ref` in `schema` that does not point into the schema itself (`#…`); a published schema must have none. */
export function externalRefs(schema: unknown): string[] {
  const found: string[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string' && !value.startsWith('#')) found.push(value);
        else walk(value);
      }
    }
  };
  walk(schema);
  return found;
}

/**
 * The published `schema.json` text of an MQTT plugin: its `schema.src.json` with this package's connection schema
 * inlined (see inlineSchema). What the plugins' build writes (`danube-mqtt-plugin-schema`) and their tests compare.
 */
export function renderPluginSchema(sourceFile: string): string {
  const source = JSON.parse(readFileSync(sourceFile, 'utf8')) as Json;
  // From dist/ (the built package) or src/ (tests of this package), the schema folder is one level up.
  const connection = JSON.parse(readFileSync(fileURLToPath(new URL('../schema/connection.schema.json', import.meta.url)), 'utf8')) as Json;
  return `${JSON.stringify(inlineSchema(source, connection), null, 2)}\n`;
}
