/**
 * The one source of what is secret. It drives the log redaction of every child and of the host, and the host's
 * config masking (validate --print, /connectors), so a word added here is hidden everywhere.
 *
 * A key is secret when one of its name segments (split on `_ - .`, spaces and camelCase, case-insensitive) is one
 * of these words, or when it ends in `<qualifier> key` (`api_key`, `private-key`, `accessKey`). A bare `key` is
 * secret only under `tls` or `ssl` (`tls.key`); elsewhere (`routes[].key = "topic"`, `routing_key`) it is data.
 */
export const SECRET_KEYS: readonly string[] = Object.freeze([
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'secret',
  'token',
  'credential',
  'credentials',
  'authorization',
  'apikey',
  'privatekey',
  'accesskey',
  'secretkey',
]);

/** `<qualifier> key` names a secret: `api_key`, `private-key`, `accessKey`, `client_key` (a TLS key). */
const KEY_QUALIFIERS = new Set(['api', 'private', 'access', 'secret', 'client', 'signing', 'encryption', 'master', 'session', 'tls', 'ssl']);
/** A bare `key` is secret under these parents. */
const KEY_PARENTS = new Set(['tls', 'ssl']);
const SECRET = new Set(SECRET_KEYS);
export const MASK = '***';

/** Shorter values are scrubbed only as whole JSON strings: masking every "1" or "on" in text would garble the logs without protecting anything. */
const MIN_SCRUBBED_LENGTH = 3;

function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
}

/**
 * Whether a config key holds a secret, by its name segments (see SECRET_KEYS). `parent` is the enclosing key, which
 * decides a bare `key` (secret under `tls`/`ssl`).
 */
export function isSecretKey(key: string, parent?: string): boolean {
  const parts = words(key);
  for (const [i, part] of parts.entries()) {
    if (SECRET.has(part)) return true;
    if (part === 'key' && i > 0 && KEY_QUALIFIERS.has(parts[i - 1] as string)) return true;
  }
  if (parts.length === 1 && parts[0] === 'key' && parent !== undefined) {
    const last = words(parent).at(-1);
    return last !== undefined && KEY_PARENTS.has(last);
  }
  return false;
}

// scheme://user:password@ or scheme://token@ (userinfo has no / ? # @ or whitespace).
const URL_USERINFO = /\b([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^\s/?#@:"'<>]*)(?::([^\s/?#@"'<>]*))?@/g;

/** `text` with the userinfo of every URL in it masked: `mqtt://u:***@h`, `https://***@h` (a lone userinfo is often a token). */
export function maskUrlCredentials(text: string): string {
  if (!text.includes('@')) return text;
  return text.replace(URL_USERINFO, (_match, scheme: string, user: string, password: string | undefined) =>
    password === undefined ? `${scheme}${MASK}@` : `${scheme}${user}:${MASK}@`,
  );
}

type Schema = Record<string, unknown>;
type Table = Record<string, unknown>;

const isPlainObject = (value: unknown): value is Table => {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
};

/** The subschemas that apply to `key` of an instance of `schemas` (properties, patterns, items, combinators, local $refs). */
function childSchemas(schemas: readonly Schema[], key: string | number, root: Schema | undefined): Schema[] {
  const out: Schema[] = [];
  const add = (candidate: unknown) => {
    if (isPlainObject(candidate)) out.push(candidate);
  };
  for (const schema of expand(schemas, root)) {
    if (typeof key === 'number') {
      const items = schema['items'];
      const prefix = schema['prefixItems'];
      if (Array.isArray(prefix) && key < prefix.length) add(prefix[key]);
      else if (Array.isArray(items)) add(items[key] ?? schema['additionalItems']);
      else add(items);
      continue;
    }
    const properties = schema['properties'];
    if (isPlainObject(properties) && Object.hasOwn(properties, key)) {
      add(properties[key]);
      continue;
    }
    let matched = false;
    const patterns = schema['patternProperties'];
    if (isPlainObject(patterns)) {
      for (const [pattern, sub] of Object.entries(patterns)) {
        try {
          if (new RegExp(pattern, 'u').test(key)) {
            add(sub);
            matched = true;
          }
        } catch {
          // ajv reported an invalid pattern when the schema was compiled.
        }
      }
    }
    if (!matched) add(schema['additionalProperties']);
  }
  return out;
}

/** `schemas` with their local `$ref`s and allOf/anyOf/oneOf/then/else branches, breadth-first and bounded. */
function expand(schemas: readonly Schema[], root: Schema | undefined): Schema[] {
  const out: Schema[] = [];
  const queue = [...schemas];
  while (queue.length > 0 && out.length < 64) {
    const schema = queue.shift() as Schema;
    if (out.includes(schema)) continue;
    out.push(schema);
    const ref = schema['$ref'];
    if (typeof ref === 'string' && ref.startsWith('#/') && root) {
      const target = ref
        .slice(2)
        .split('/')
        .reduce<unknown>((node, part) => (isPlainObject(node) ? node[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined), root);
      if (isPlainObject(target)) queue.push(target);
    }
    for (const combinator of ['allOf', 'anyOf', 'oneOf']) {
      const branches = schema[combinator];
      if (Array.isArray(branches)) for (const branch of branches) if (isPlainObject(branch)) queue.push(branch);
    }
    for (const branch of ['then', 'else']) if (isPlainObject(schema[branch])) queue.push(schema[branch]);
  }
  return out;
}

/** A schema's own verdict: `x-secret: true|false` wins, then `writeOnly: true`; undefined = decide by name. */
function schemaMark(schemas: readonly Schema[], root: Schema | undefined): boolean | undefined {
  const all = expand(schemas, root);
  for (const schema of all) if (typeof schema['x-secret'] === 'boolean') return schema['x-secret'];
  return all.some((schema) => schema['writeOnly'] === true) ? true : undefined;
}

const isSet = (value: unknown) => value !== undefined && value !== null && value !== '';

/**
 * Walks `value` with its schema: `onSecret` gets every set value at a secret key and returns its replacement; other
 * strings go through `onString`. Only plain objects and arrays are walked (class instances are left as they are).
 */
function walk(value: unknown, schema: unknown, onSecret: (value: unknown) => unknown, onString: (text: string) => unknown): unknown {
  const root = isPlainObject(schema) ? schema : undefined;
  const visit = (node: unknown, schemas: Schema[], parent: string | undefined): unknown => {
    if (typeof node === 'string') return onString(node);
    if (Array.isArray(node)) return node.map((item, i) => visitChild(item, childSchemas(schemas, i, root), i, parent));
    if (!isPlainObject(node)) return node;
    const out: Table = {};
    for (const [key, child] of Object.entries(node)) out[key] = visitChild(child, childSchemas(schemas, key, root), key, parent);
    return out;
  };
  const visitChild = (node: unknown, schemas: Schema[], key: string | number, parent: string | undefined): unknown => {
    const mark = schemaMark(schemas, root);
    // Array items inherit their array's key: `tokens = ["a", "b"]` under a secret name are secret too (handled by the parent).
    const secret = typeof key === 'string' && (mark ?? isSecretKey(key, parent));
    if ((secret || (mark === true && typeof key === 'number')) && isSet(node)) return onSecret(node);
    return visit(node, schemas, typeof key === 'string' ? key : parent);
  };
  return visit(value, root ? [root] : [], undefined);
}

/**
 * A deep copy of `value` with every secret's value replaced by `***` (set values only: absent and "" stay as they
 * are) and the userinfo of every URL in a string masked. `schema` (the plugin's JSON Schema of a config) may mark a
 * field secret (`writeOnly: true`, `x-secret: true`) or not (`x-secret: false`), which overrides the name rule.
 */
export function maskSecrets<T>(value: T, schema?: unknown): T {
  return walk(value, schema, () => MASK, maskUrlCredentials) as T;
}

/**
 * Every secret string in `value` (as maskSecrets decides, including all strings inside a secret table and URL
 * passwords), for scrubbing by value: the host hands them to each child, whose logger and the host's relay replace
 * them in every line (error messages, stack traces).
 */
export function secretValues(value: unknown, schema?: unknown): string[] {
  const found = new Set<string>();
  const collect = (node: unknown): unknown => {
    if (typeof node === 'string') found.add(node);
    else if (Array.isArray(node)) node.forEach(collect);
    else if (isPlainObject(node)) Object.values(node).forEach(collect);
    else if (typeof node === 'number' || typeof node === 'bigint') found.add(String(node));
    return node;
  };
  walk(value, schema, collect, (text) => {
    for (const match of text.matchAll(URL_USERINFO)) {
      const credential = match[3] ?? match[2];
      if (credential) found.add(decodeSafely(credential)).add(credential);
    }
    return text;
  });
  return [...found].filter((v) => v.length > 0);
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** `"ab"` as a whole string of a JSON line: after `:`, `[` or `,` and before `,`, `]` or `}` (no match inside a string, where `"` is escaped). */
function wholeJsonString(value: string): RegExp {
  const quoted = JSON.stringify(value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<=[:\\[,])${quoted}(?=[,\\]}])`, 'g');
}

/**
 * `text` with URL userinfo masked (maskUrlCredentials) and every occurrence of a secret value replaced by `***`,
 * raw and JSON-escaped (a line of NDJSON carries `"` and `\` escaped), longest value first. A value shorter than
 * 3 characters is replaced only where it is a whole string of a JSON line (a field value, an array item): inside
 * text, replacing every "ab" would garble the lines and hide nothing.
 */
export function scrubSecretValues(text: string, values: readonly string[]): string {
  let out = maskUrlCredentials(text);
  if (values.length === 0) return out;
  const forms = new Set<string>();
  const short: string[] = [];
  for (const value of values) {
    if (value.length < MIN_SCRUBBED_LENGTH) {
      if (value.length > 0) short.push(value);
      continue;
    }
    forms.add(value);
    forms.add(JSON.stringify(value).slice(1, -1));
  }
  for (const form of [...forms].sort((a, b) => b.length - a.length)) {
    if (out.includes(form)) out = out.split(form).join(MASK);
  }
  for (const value of short) {
    if (out.includes(JSON.stringify(value))) out = out.replace(wholeJsonString(value), JSON.stringify(MASK));
  }
  return out;
}
