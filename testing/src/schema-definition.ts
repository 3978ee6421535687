import { createHash } from 'node:crypto';
import type { ValidateFunction } from 'ajv';
import { compileJsonSchema } from './json-schema.js';

export type SchemaType = 'bytes' | 'string' | 'number' | 'avro' | 'json_schema' | 'protobuf';
export type CompatibilityMode = 'none' | 'backward' | 'forward' | 'full';

/** Input spellings, case-insensitive, and the canonical names returned (docs/danube-protocol.md §4.3). */
const SCHEMA_TYPE_ALIASES: Record<string, SchemaType> = {
  bytes: 'bytes',
  string: 'string',
  number: 'number',
  int64: 'number',
  int: 'number',
  float: 'number',
  double: 'number',
  avro: 'avro',
  json_schema: 'json_schema',
  json: 'json_schema',
  protobuf: 'protobuf',
  proto: 'protobuf',
};

export function parseSchemaType(input: string): SchemaType | undefined {
  return SCHEMA_TYPE_ALIASES[input.toLowerCase()];
}

export function parseCompatibilityMode(input: string): CompatibilityMode | undefined {
  const mode = input.toLowerCase();
  return mode === 'none' || mode === 'backward' || mode === 'forward' || mode === 'full' ? mode : undefined;
}

/** A registered (or candidate) schema: the original text plus what the broker derives from it. */
export interface SchemaDefinition {
  readonly type: SchemaType;
  /** The definition exactly as registered. */
  readonly raw: string;
  readonly fingerprint: string;
  /** Parsed JSON for json_schema and avro. */
  readonly json?: unknown;
  /** Compiled lazily for payload validation. */
  validator?: ValidateFunction;
}

/** JSON re-serialised with sorted keys (serde_json's default map is ordered; assumed, not in the document). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

function sha256(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

function parseJson(raw: string, what: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new Error(`invalid ${what}: ${(err as Error).message}`);
  }
}

/** Avro is only checked structurally: no Avro library is available, and the document gives no rules. */
function checkAvro(json: unknown): void {
  if (typeof json === 'string' || Array.isArray(json)) return;
  if (json === null || typeof json !== 'object' || typeof (json as { type?: unknown }).type !== 'string') {
    throw new Error('invalid Avro schema: expected a type name, a union or an object with "type"');
  }
  const record = json as { type: string; name?: unknown; fields?: unknown };
  if (record.type === 'record' && (typeof record.name !== 'string' || !Array.isArray(record.fields))) {
    throw new Error('invalid Avro schema: a record needs "name" and "fields"');
  }
}

/**
 * Parses a definition for its type (docs/danube-protocol.md §10.1). Fingerprints: sha256 of canonical JSON for JSON Schema
 * (and Avro, assumed), the literal type name for bytes/string/number, sha256 of the text for Protobuf
 * (assumed). Throws with the reason when the definition is not valid for its type.
 */
export function parseSchemaDefinition(type: SchemaType, definition: Buffer): SchemaDefinition {
  const raw = definition.toString('utf8');
  switch (type) {
    case 'bytes':
    case 'string':
    case 'number':
      return { type, raw, fingerprint: type };
    case 'json_schema': {
      const json = parseJson(raw, 'JSON Schema');
      let validator: ValidateFunction;
      try {
        validator = compileJsonSchema(json);
      } catch (err) {
        throw new Error(`invalid JSON Schema: ${(err as Error).message}`);
      }
      return { type, raw, json, fingerprint: sha256(canonicalJson(json)), validator };
    }
    case 'avro': {
      const json = parseJson(raw, 'Avro schema');
      checkAvro(json);
      return { type, raw, json, fingerprint: sha256(canonicalJson(json)) };
    }
    case 'protobuf':
      if (!/\bmessage\s+[A-Za-z_]\w*\s*\{/.test(raw)) throw new Error('invalid Protobuf schema: no message definition');
      return { type, raw, fingerprint: sha256(raw) };
  }
}

/** `schema_definition` as GetSchema returns it: the broker's internal definition as JSON (docs/danube-protocol.md §10.4). */
export function definitionEnvelope(schema: SchemaDefinition): Buffer {
  let envelope: unknown;
  switch (schema.type) {
    case 'bytes':
      envelope = 'Bytes';
      break;
    case 'string':
      envelope = 'String';
      break;
    case 'number':
      envelope = 'Number';
      break;
    case 'json_schema':
      envelope = { JsonSchema: { raw_schema: schema.raw, fingerprint: schema.fingerprint } };
      break;
    case 'avro':
      envelope = { Avro: { raw_schema: schema.raw, fingerprint: schema.fingerprint } };
      break;
    case 'protobuf':
      // "DefaultMessage" is what the document shows; the broker's rule for naming the message is unknown.
      envelope = { Protobuf: { raw_proto: schema.raw, message_name: 'DefaultMessage', fingerprint: schema.fingerprint } };
      break;
  }
  return Buffer.from(JSON.stringify(envelope), 'utf8');
}
