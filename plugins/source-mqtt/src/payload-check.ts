import { readFileSync } from 'node:fs';
import { ConnectorError } from '@danube-connect/sdk';
import { Ajv, type Options, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { FILE_TYPES, type RouteSchema } from './config.js';

/** Why a payload does not fit the route's schema, or undefined when it does (or the type is not checked). */
type PayloadCheck = (payload: Buffer) => string | undefined;

/** A route's schema file as read at start: its text, and for the JSON types its parsed form. */
export interface SchemaFile {
  text: string;
  /** json_schema and avro: the parsed JSON (compared with the registered version at start). */
  json?: unknown;
}

export interface LoadedSchema {
  file: SchemaFile | undefined;
  check: PayloadCheck | undefined;
}

// Strict: a payload that is not UTF-8 is not text, and JSON must be UTF-8 (RFC 8259 §8.1).
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Formats (`"format": "email"`) are not checked: ajv knows none without ajv-formats, and the broker's validator
 * differs there. `allErrors` off: the first failure is reason enough, and it is cheaper.
 */
const AJV_OPTIONS: Options = { strict: false, validateFormats: false, allErrors: false };

/** The draft a JSON Schema declares: draft-07 (also when it declares none), 2019-09 or 2020-12; else undefined. */
function ajvFor(declared: unknown): Ajv | undefined {
  if (declared === undefined) return new Ajv(AJV_OPTIONS);
  if (typeof declared !== 'string') return undefined;
  if (/draft-07\/schema#?$/.test(declared)) return new Ajv(AJV_OPTIONS);
  if (declared.includes('/draft/2019-09/')) return new Ajv2019(AJV_OPTIONS) as unknown as Ajv;
  if (declared.includes('/draft/2020-12/')) return new Ajv2020(AJV_OPTIONS) as unknown as Ajv;
  return undefined;
}

function jsonSchemaCheck(schema: unknown, key: string): PayloadCheck {
  const ajv = typeof schema === 'object' && schema !== null && !Array.isArray(schema) ? ajvFor((schema as { $schema?: unknown }).$schema) : undefined;
  if (typeof schema !== 'boolean' && !ajv) {
    const declared = (schema as { $schema?: unknown } | null)?.$schema;
    throw new Error(
      declared === undefined ? `${key}: a JSON Schema must be an object or a boolean` : `${key}: $schema ${JSON.stringify(declared)} is not supported; use draft-07 (or none), 2019-09 or 2020-12`,
    );
  }
  let validate: ValidateFunction;
  try {
    // Compiled once per route, here; each route its own instance, so two files may use one $id.
    validate = (ajv ?? new Ajv(AJV_OPTIONS)).compile(schema as object | boolean);
  } catch (err) {
    throw new Error(`${key}: not a valid JSON Schema: ${(err as Error).message}`);
  }
  return (payload) => {
    let value: unknown;
    try {
      value = JSON.parse(utf8.decode(payload));
    } catch (err) {
      return err instanceof SyntaxError ? `payload is not JSON: ${err.message}` : 'payload is not valid UTF-8, so not JSON';
    }
    if (validate(value)) return undefined;
    // Instance paths and the schema's words only: ajv's messages (verbose off) carry no payload values.
    return `payload does not match the JSON Schema: ${(validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? e.keyword}`).join('; ')}`;
  };
}

const stringCheck: PayloadCheck = (payload) => {
  try {
    utf8.decode(payload);
    return undefined;
  } catch {
    return 'payload is not valid UTF-8';
  }
};

// docs/danube-protocol.md §10.3: a number payload is exactly 4 or 8 bytes.
const numberCheck: PayloadCheck = (payload) => (payload.length === 4 || payload.length === 8 ? undefined : `a number payload must be 4 or 8 bytes, got ${payload.length}`);

function readSchemaFile(schema: RouteSchema, key: string): SchemaFile {
  const path = schema.file as string;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`${key}: cannot read the file ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (schema.type === 'protobuf') return { text };
  try {
    return { text, json: JSON.parse(text) };
  } catch (err) {
    throw new Error(`${key}: the file ${path} is not JSON (${schema.type === 'avro' ? 'an Avro schema' : 'a JSON Schema'} is): ${(err as Error).message}`);
  }
}

/**
 * Reads each route's schema file and builds its payload check, once at start: json_schema with ajv, string =
 * valid UTF-8, number = 4 or 8 bytes; bytes, avro and protobuf are not checked. Throws one fatal
 * `DC_ERR_MQTT_SCHEMA` listing every problem with its key path.
 */
export function loadRouteSchemas(routes: ReadonlyArray<{ schema?: RouteSchema }>): Array<LoadedSchema | undefined> {
  const problems: string[] = [];
  const loaded = routes.map((route, i): LoadedSchema | undefined => {
    const schema = route.schema;
    if (!schema) return undefined;
    try {
      const file = FILE_TYPES.has(schema.type) ? readSchemaFile(schema, `routes/${i}/schema/file`) : undefined;
      switch (schema.type) {
        case 'json_schema':
          return { file, check: jsonSchemaCheck(file?.json, `routes/${i}/schema/file`) };
        case 'string':
          return { file, check: stringCheck };
        case 'number':
          return { file, check: numberCheck };
        default:
          return { file, check: undefined };
      }
    } catch (err) {
      problems.push((err as Error).message);
      return undefined;
    }
  });
  if (problems.length > 0) throw schemaError(problems);
  return loaded;
}

/** The fatal error of schema problems found at start, one per line with its key path. */
export function schemaError(problems: readonly string[], cause?: unknown): ConnectorError {
  return ConnectorError.fatal(`MQTT connector schema problem:\n${problems.map((p) => `  ${p}`).join('\n')}`, { code: 'DC_ERR_MQTT_SCHEMA', ...(cause === undefined ? {} : { cause }) });
}
