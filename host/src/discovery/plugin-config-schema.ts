import { Ajv, type Options, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';

const OPTIONS: Options = { allErrors: true, useDefaults: true, strict: false, verbose: true, validateFormats: false, logger: false };

/** `x-secret: true|false` marks a config field secret or not (maskSecrets reads it); known to ajv, so strict mode accepts it. */
function withSecretKeyword(ajv: Ajv): Ajv {
  return ajv.addKeyword({ keyword: 'x-secret', schemaType: 'boolean' });
}

/**
 * Compiles a plugin's config schema: draft-07 by default, 2019-09 and 2020-12 when `$schema` says so; another
 * `$schema` (draft-04/06) is dropped and compiled as draft-07. Each schema gets its own Ajv instance, so two
 * plugins may use the same `$id`. Formats are not checked. Throws ajv's error when the schema is invalid.
 */
export function compilePluginSchema(schema: unknown): ValidateFunction {
  if (typeof schema === 'boolean') return withSecretKeyword(new Ajv(OPTIONS)).compile(schema);
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) throw new Error('a JSON Schema must be an object or a boolean');
  let effective = schema as Record<string, unknown>;
  const declared = effective['$schema'];
  if (typeof declared === 'string' && declared.includes('2020-12')) return withSecretKeyword(new Ajv2020(OPTIONS) as unknown as Ajv).compile(effective);
  if (typeof declared === 'string' && declared.includes('2019-09')) return withSecretKeyword(new Ajv2019(OPTIONS) as unknown as Ajv).compile(effective);
  if (typeof declared === 'string' && !declared.includes('draft-07')) {
    const { $schema: _dropped, ...rest } = effective;
    effective = rest;
  }
  return withSecretKeyword(new Ajv(OPTIONS)).compile(effective);
}
