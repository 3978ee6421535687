import type { ErrorObject, ValidateFunction } from 'ajv';
import { joinPath, pointerToPath, type KeyPath } from './config-problem.js';

const INTEGER = /^-?\d+$/;
const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The scalar of one wanted JSON type that `text` spells exactly, or undefined. */
function scalarOf(text: string, wanted: string): number | boolean | undefined {
  if (wanted === 'boolean') return text === 'true' ? true : text === 'false' ? false : undefined;
  if (wanted === 'integer' && INTEGER.test(text) && Number.isSafeInteger(Number(text))) return Number(text);
  if (wanted === 'number' && NUMBER.test(text) && Number.isFinite(Number(text))) return Number(text);
  return undefined;
}

/** Converts the value at `path` (a `type` error's), when it is text spelling one of the wanted scalars. */
function convert(data: unknown, path: KeyPath, error: ErrorObject): boolean {
  const key = path.at(-1);
  if (key === undefined) return false;
  let parent = data;
  for (const part of path.slice(0, -1)) parent = (parent as Record<string | number, unknown> | undefined)?.[part];
  if (parent === null || typeof parent !== 'object') return false;
  const holder = parent as Record<string | number, unknown>;
  const text = holder[key];
  if (typeof text !== 'string') return false;
  const wanted = String((error.params as { type?: unknown }).type ?? '').split(',');
  for (const type of wanted) {
    const scalar = scalarOf(text, type);
    if (scalar === undefined) continue;
    holder[key] = scalar;
    return true;
  }
  return false;
}

/**
 * Validates `data` in place. Expansion always yields text, so `keepalive_s = "${KEEPALIVE}"` could never satisfy
 * an integer key: where a value that was one whole reference (`references`, key paths below `base`) fails only
 * its type, and the schema wants an integer, number or boolean the text spells exactly, it becomes that scalar and
 * `data` is validated again. Literal text (`batch_size = "10"`) is never converted, and neither is anything whose
 * schema takes a string.
 */
export function validateWithReferencedScalars(validate: ValidateFunction, data: unknown, base: KeyPath, references: ReadonlySet<string>): boolean {
  if (validate(data)) return true;
  let converted = false;
  for (const error of validate.errors ?? []) {
    if (error.keyword !== 'type') continue;
    const path = pointerToPath(error.instancePath);
    if (references.has(joinPath([...base, ...path])) && convert(data, path, error)) converted = true;
  }
  return converted && validate(data);
}
