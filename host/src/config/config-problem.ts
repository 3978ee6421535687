import type { ErrorObject } from 'ajv';
import { isSecretKey, maskUrlCredentials } from '@danube-connect/sdk/core';
import type { ConfigProblemCode, ConfigWarningCode } from '../errors.js';

/** A key path from the document root, e.g. `['connectors', 0, 'config', 'routes', 0, 'qos']`. */
export type KeyPath = readonly (string | number)[];

/**
 * One problem found in host.toml, a connector or its plugin (or, with a ConfigWarningCode, a warning: valid, but
 * probably not meant). Printed by `formatProblem` as `host.toml: connector "iot": config/routes/0/qos must be <= 2`.
 * Messages never contain the value of a secret key.
 */
export interface ConfigProblem<Code extends ConfigProblemCode | ConfigWarningCode = ConfigProblemCode> {
  code: Code;
  /** host.toml as the user named it. */
  file: string;
  /** The connector's name, when the problem belongs to a named connector. */
  connector?: string;
  /** Key path, `/`-separated: relative to the connector when `connector` is set, else from the document root. */
  path: string;
  /** What is wrong, e.g. `must be <= 2`. */
  message: string;
}

export function formatProblem(problem: ConfigProblem<ConfigProblemCode | ConfigWarningCode>): string {
  const where = problem.connector === undefined ? '' : `connector "${problem.connector}": `;
  return `${problem.file}: ${where}${problem.path === '' ? '' : `${problem.path} `}${problem.message}`;
}

const CONNECTOR_NAME = /^[A-Za-z0-9_-]+$/;

/** Builds problems for one file: a `[[connectors]]` path is named by its connector when it has a valid name. */
export class ProblemList<Code extends ConfigProblemCode | ConfigWarningCode = ConfigProblemCode> {
  private readonly list: { problem: ConfigProblem<Code>; rank: number }[] = [];
  private readonly seen = new Set<string>();

  constructor(
    readonly file: string,
    private doc: Record<string, unknown> = {},
  ) {}

  /** Problems added from now on name connectors from `doc` (a document just parsed). */
  useDocument(doc: Record<string, unknown>): this {
    this.doc = doc;
    return this;
  }

  /** `byIndex`: name a connector by its index (connectors/2/name), when its name does not tell it apart. */
  add(code: Code, path: KeyPath, message: string, options: { byIndex?: boolean } = {}): void {
    const where = options.byIndex ? { path: path.join('/') } : locate(this.doc, path);
    // Messages quote URLs and addresses: their userinfo is masked whatever the key.
    const problem: ConfigProblem<Code> = { code, file: this.file, ...where, message: maskUrlCredentials(message) };
    const key = formatProblem(problem);
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push({ problem, rank: path[0] === 'connectors' && typeof path[1] === 'number' ? path[1] : -1 });
  }

  /** Host-wide problems first, then each connector's in host.toml order (found order within each). */
  get problems(): ConfigProblem<Code>[] {
    return [...this.list].sort((a, b) => a.rank - b.rank).map((entry) => entry.problem);
  }

  get size(): number {
    return this.list.length;
  }
}

function locate(doc: Record<string, unknown>, path: KeyPath): { connector?: string; path: string } {
  if (path[0] === 'connectors' && typeof path[1] === 'number' && Array.isArray(doc['connectors'])) {
    const name = (doc['connectors'][path[1]] as Record<string, unknown> | undefined)?.['name'];
    if (typeof name === 'string' && CONNECTOR_NAME.test(name)) return { connector: name, path: path.slice(2).join('/') };
  }
  return { path: path.join('/') };
}

/** Whether the value at `path` is a secret by its key name (the enclosing key decides a bare `key`, e.g. tls/key). */
export function isSecretPath(path: KeyPath): boolean {
  const keys = path.filter((part): part is string => typeof part === 'string');
  const key = path.at(-1);
  return typeof key === 'string' && isSecretKey(key, keys.at(-2));
}

export function joinPath(path: KeyPath): string {
  return path.join('/');
}

/** A JSON pointer (ajv's instancePath) as a key path; all-digit segments become array indices. */
export function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/**
 * One ajv error as a key path (below `base`) and a message. Values are never quoted, only the schema's own
 * words (allowed values, limits, patterns), so a secret never reaches a message.
 */
export function describeAjvError(error: ErrorObject, base: KeyPath = []): { path: KeyPath; message: string } | undefined {
  const path = [...base, ...pointerToPath(error.instancePath)];
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'if':
      return undefined; // the failing "then"/"else" branch reports the real error
    case 'required':
      return { path: [...path, String(params['missingProperty'])], message: 'is required' };
    case 'additionalProperties': {
      const known = Object.keys((error.parentSchema?.['properties'] as Record<string, unknown> | undefined) ?? {}).filter((k) => k !== '$schema');
      const hint = known.length > 0 ? `; expected one of: ${known.join(', ')}` : '';
      return { path: [...path, String(params['additionalProperty'])], message: `is not a known key${hint}` };
    }
    case 'enum': {
      const allowed = (params['allowedValues'] as unknown[] | undefined) ?? [];
      return { path, message: `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}` };
    }
    case 'const':
      return { path, message: `must be ${JSON.stringify(params['allowedValue'])}` };
    default:
      return { path, message: error.message ?? `is invalid (${error.keyword})` };
  }
}

/** Adds every ajv error as a problem, skipping paths already reported (e.g. an unset ${VAR}). */
export function addAjvErrors(
  list: ProblemList,
  code: ConfigProblemCode,
  errors: readonly ErrorObject[] | null | undefined,
  base: KeyPath,
  skip: ReadonlySet<string> = new Set(),
): void {
  for (const error of errors ?? []) {
    const described = describeAjvError(error, base);
    if (!described || skip.has(joinPath(described.path))) continue;
    list.add(code, described.path, described.message);
  }
}
