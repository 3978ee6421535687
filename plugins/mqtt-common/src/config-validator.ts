import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { configError } from './errors.js';

/** Ajv options as the host uses them for plugin config: every error, defaults applied, formats not checked. */
const OPTIONS = { allErrors: true, useDefaults: true, strict: false, verbose: true, logger: false, validateFormats: false } as const;

/** A JSON pointer as a key path, `routes/0/qos`. */
function keyPath(pointer: string, extra?: string): string {
  const parts = pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  return parts.length === 0 ? '(config)' : parts.join('/');
}

/**
 * One ajv error as `<key path>: <message>`, or undefined for errors another one explains better. Values are
 * never quoted (they may be secrets), only the schema's words.
 */
function describe(error: ErrorObject, messages: Readonly<Record<string, string>>): string | undefined {
  const params = error.params as Record<string, unknown>;
  const custom = (error.parentSchema as { 'x-error'?: Record<string, string> } | undefined)?.['x-error']?.[error.keyword];
  switch (error.keyword) {
    case 'if':
    case 'oneOf':
    case 'anyOf':
      return messages[error.keyword] ? `${keyPath(error.instancePath)}: ${messages[error.keyword]}` : undefined;
    case 'required':
      if (error.schemaPath.includes('/oneOf/')) return undefined; // the oneOf message says it
      return `${keyPath(error.instancePath, String(params['missingProperty']))}: is required`;
    case 'additionalProperties': {
      const known = Object.keys((error.parentSchema?.['properties'] as Record<string, unknown> | undefined) ?? {});
      return `${keyPath(error.instancePath, String(params['additionalProperty']))}: is not a known key; expected one of: ${known.join(', ')}`;
    }
    case 'enum':
      return `${keyPath(error.instancePath)}: ${custom ?? `must be one of ${((params['allowedValues'] as unknown[]) ?? []).map((v) => JSON.stringify(v)).join(', ')}`}`;
    default:
      return `${keyPath(error.instancePath)}: ${custom ?? error.message ?? `is invalid (${error.keyword})`}`;
  }
}

export interface ConfigValidator<T> {
  /**
   * Validates a clone of `raw` against the schema (defaults applied), then runs `check` for what a schema cannot
   * say; throws one fatal `DC_ERR_MQTT_CONFIG` error listing every problem. Returns the frozen config.
   */
  (raw: unknown): T;
}

/**
 * A validator for a plugin's config schema (draft-07, self-contained). `check` returns the semantic problems
 * (`<key path>: <message>`); a schema node may carry `"x-error": { "<keyword>": "<message>" }` for a clearer
 * message than ajv's, and `messages` gives the message for a failed `oneOf`/`anyOf`/`if`.
 */
export function configValidator<T>(schema: object, check: (config: T) => string[], messages: Readonly<Record<string, string>> = {}): ConfigValidator<T> {
  let validate: ValidateFunction | undefined;
  return (raw: unknown): T => {
    validate ??= new Ajv(OPTIONS).compile(schema);
    const config = structuredClone(raw);
    if (!validate(config)) {
      const problems = [...new Set((validate.errors ?? []).map((e) => describe(e, messages)).filter((p): p is string => p !== undefined))];
      throw configError(problems);
    }
    const problems = check(config as T);
    if (problems.length > 0) throw configError(problems);
    return deepFreeze(config as T);
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
