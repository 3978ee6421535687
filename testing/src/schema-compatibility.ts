import { canonicalJson } from './schema-definition.js';
import type { CompatibilityMode, SchemaDefinition } from './schema-definition.js';

/**
 * Compatibility of a new schema with the subject's latest (docs/danube-protocol.md §10.1).
 * - JSON Schema, exactly as the broker applies it, looking only at top-level `properties` and `required`:
 *   backward refuses a field required before that is no longer a property, an optional property made
 *   required, and a property whose `type` changed (a brand-new required field is accepted, unlike Confluent's
 *   rules); forward refuses a new required field the old version did not have, and a changed `type`.
 * - Avro records (the document gives no rules; modest): backward refuses a new field without a default or a
 *   field whose type changed; forward is the same check with the two schemas swapped.
 * - full is backward, then forward: the first failing check's errors; none skips the check.
 * - bytes, string, number and protobuf are always compatible with the same type.
 */
export function compatibilityErrors(mode: CompatibilityMode, latest: SchemaDefinition, candidate: SchemaDefinition): string[] {
  if (mode === 'none') return [];
  if (latest.type !== candidate.type) {
    return [`schema type changed from ${latest.type} to ${candidate.type}`];
  }
  if (mode === 'backward' || mode === 'full') {
    const errors = problems(latest, candidate, 'backward');
    if (errors.length > 0 || mode === 'backward') return errors;
  }
  return problems(latest, candidate, 'forward');
}

function problems(old: SchemaDefinition, next: SchemaDefinition, direction: 'backward' | 'forward'): string[] {
  if (next.type === 'json_schema') return jsonSchemaProblems(old.json, next.json, direction);
  if (next.type === 'avro') return direction === 'backward' ? avroProblems(old.json, next.json, direction) : avroProblems(next.json, old.json, direction);
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

function jsonSchemaProblems(oldJson: unknown, newJson: unknown, direction: 'backward' | 'forward'): string[] {
  const old = asObjectSchema(oldJson);
  const next = asObjectSchema(newJson);
  const oldProps = old.properties ?? {};
  const newProps = next.properties ?? {};
  const oldRequired = requiredSet(old);
  const newRequired = requiredSet(next);
  const found: string[] = [];
  if (direction === 'backward') {
    for (const name of oldRequired) {
      if (!(name in newProps)) found.push(`backward: required property '${name}' was removed`);
    }
    for (const name of newRequired) {
      if (name in oldProps && !oldRequired.has(name)) found.push(`backward: optional property '${name}' became required`);
    }
  } else {
    for (const name of newRequired) {
      if (!(name in oldProps)) found.push(`forward: new required property '${name}' is missing from data written with the old version`);
    }
  }
  for (const [name, prop] of Object.entries(newProps)) {
    const before = oldProps[name];
    if (before?.type === undefined || prop?.type === undefined) continue;
    if (canonicalJson(before.type) !== canonicalJson(prop.type)) {
      found.push(`${direction}: property '${name}' changed type from ${canonicalJson(before.type)} to ${canonicalJson(prop.type)}`);
    }
  }
  return found;
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

/** Problems for a reader using `readerJson` on data written with `writerJson`. */
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
