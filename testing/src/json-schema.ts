import { Ajv } from 'ajv';
import type { Options, ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';

/**
 * JSON Schema compilation for the registry and for payload validation (docs/danube-protocol.md §10.1, §10.3). The broker
 * uses a Rust validator supporting drafts 4 to 2020-12; ajv 8 covers 7, 2019-09 and 2020-12, so other
 * `$schema` URIs are compiled as draft 7. Formats are not checked (unknown formats would otherwise fail).
 */
const AJV_OPTIONS: Options = { strict: false, validateFormats: false, allErrors: false };

type Draft = 'draft7' | 'draft2019' | 'draft2020';
const instances = new Map<Draft, Ajv>();

function ajvFor(draft: Draft): Ajv {
  let ajv = instances.get(draft);
  if (!ajv) {
    ajv =
      draft === 'draft2020'
        ? (new Ajv2020(AJV_OPTIONS) as unknown as Ajv)
        : draft === 'draft2019'
          ? (new Ajv2019(AJV_OPTIONS) as unknown as Ajv)
          : new Ajv(AJV_OPTIONS);
    instances.set(draft, ajv);
  }
  return ajv;
}

/** Compiles a parsed JSON Schema; throws with ajv's message when it is not a valid schema. */
export function compileJsonSchema(schema: unknown): ValidateFunction {
  if (typeof schema === 'boolean') return ajvFor('draft7').compile(schema);
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    throw new Error('a JSON Schema must be an object or a boolean');
  }
  const declared = (schema as { $schema?: unknown }).$schema;
  let draft: Draft = 'draft7';
  let effective = schema as Record<string, unknown>;
  if (typeof declared === 'string') {
    if (declared.includes('2020-12')) draft = 'draft2020';
    else if (declared.includes('2019-09')) draft = 'draft2019';
    else if (!declared.includes('draft-07')) {
      const { $schema: _draft, ...rest } = effective;
      effective = rest;
    }
  }
  // Two subjects may register schemas with the same $id; ajv would refuse the second, so $id is dropped.
  const { $id: _id, ...anonymous } = effective;
  return ajvFor(draft).compile(anonymous);
}

export function describeAjvErrors(validate: ValidateFunction): string {
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`).join('; ');
}
