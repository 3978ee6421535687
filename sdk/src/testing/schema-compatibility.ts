import { canonicalJson } from './schema-definition.js';
import type { CompatibilityMode, SchemaDefinition } from './schema-definition.js';

/**
 * Compatibility of a new schema with the subject's latest (protocol §10.1). The document does not give the
 * broker's exact rules, so these are deliberately modest and only look at top-level fields:
 * - JSON Schema, backward (new readers, old data): a property required now but not before, or a property
 *   whose `type` changed, is incompatible.
 * - Avro records, backward: a new field without a default, or a field whose type changed.
 * - forward is the same check with the two schemas swapped; full is both; none skips the check.
 * - bytes, string, number and protobuf are always compatible with the same type.
 */
export function compatibilityErrors(mode: CompatibilityMode, latest: SchemaDefinition, candidate: SchemaDefinition): string[] {
  if (mode === 'none') return [];
  if (latest.type !== candidate.type) {
    return [`schema type changed from ${latest.type} to ${candidate.type}`];
  }
  const errors: string[] = [];
  if (mode === 'backward' || mode === 'full') errors.push(...readable(latest, candidate, 'backward'));
  if (mode === 'forward' || mode === 'full') errors.push(...readable(candidate, latest, 'forward'));
  return errors;
}

/** Problems for a reader using `reader` on data written with `writer`. */
function readable(writer: SchemaDefinition, reader: SchemaDefinition, label: string): string[] {
  if (reader.type === 'json_schema') return jsonSchemaProblems(writer.json, reader.json, label);
  if (reader.type === 'avro') return avroProblems(writer.json, reader.json, label);
  return [];
}

interface ObjectSchema {
  properties?: Record<string, { type?: unknown }>;
  required?: unknown;
}

function asObjectSchema(value: unknown): ObjectSchema {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as ObjectSchema) : {};
}

function requiredSet(schema: ObjectSchema): Set<string> {
  return new Set(Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === 'string') : []);
}

function jsonSchemaProblems(writerJson: unknown, readerJson: unknown, label: string): string[] {
  const writer = asObjectSchema(writerJson);
  const reader = asObjectSchema(readerJson);
  const problems: string[] = [];
  const writerRequired = requiredSet(writer);
  for (const name of requiredSet(reader)) {
    if (!writerRequired.has(name)) problems.push(`${label}: property '${name}' is required but older data may lack it`);
  }
  const writerProps = writer.properties ?? {};
  const readerProps = reader.properties ?? {};
  for (const [name, prop] of Object.entries(readerProps)) {
    const before = writerProps[name];
    if (before?.type === undefined || prop?.type === undefined) continue;
    if (canonicalJson(before.type) !== canonicalJson(prop.type)) {
      problems.push(`${label}: property '${name}' changed type from ${canonicalJson(before.type)} to ${canonicalJson(prop.type)}`);
    }
  }
  return problems;
}

interface AvroField {
  name?: unknown;
  type?: unknown;
  default?: unknown;
}

function avroFields(json: unknown): AvroField[] | undefined {
  const record = asObjectSchema(json) as { type?: unknown; fields?: unknown };
  return record.type === 'record' && Array.isArray(record.fields) ? (record.fields as AvroField[]) : undefined;
}

function avroProblems(writerJson: unknown, readerJson: unknown, label: string): string[] {
  const writerFields = avroFields(writerJson);
  const readerFields = avroFields(readerJson);
  if (!writerFields || !readerFields) {
    return canonicalJson(writerJson) === canonicalJson(readerJson) ? [] : [`${label}: Avro type changed`];
  }
  const byName = new Map(writerFields.map((f) => [f.name, f]));
  const problems: string[] = [];
  for (const field of readerFields) {
    const before = byName.get(field.name);
    if (!before) {
      if (!('default' in field)) problems.push(`${label}: field '${String(field.name)}' was added without a default`);
    } else if (canonicalJson(before.type) !== canonicalJson(field.type)) {
      problems.push(`${label}: field '${String(field.name)}' changed type`);
    }
  }
  return problems;
}
