import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { loadRouteSchemas } from '../src/payload-check.js';

// The route `schema` key: what the config validation refuses, what reading the schema files refuses, and the
// payload checks each type gets (docs/danube-protocol.md §10.3).

const dir = mkdtempSync(join(tmpdir(), 'source-mqtt-schema-'));
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const ORDER = file('order.json', JSON.stringify({ type: 'object', required: ['id'], properties: { id: { type: 'integer' }, note: { type: 'string' } } }));

const url = 'mqtt://127.0.0.1:1883';
const route = (schema: object, extra: object = {}) => ({ from: 'orders/#', to: '/shop/orders', schema, ...extra });
const configWith = (...routes: object[]) => ({ url, routes });

const problemsOf = (raw: unknown): string => {
  try {
    parseConfig(raw);
  } catch (err) {
    expect((err as { code?: string }).code).toBe('DC_ERR_MQTT_CONFIG');
    return (err as Error).message;
  }
  throw new Error('the config was accepted');
};

/** The problems reading the schema files finds, as one DC_ERR_MQTT_SCHEMA error's message. */
const fileProblemsOf = (schema: object): string => {
  const config = parseConfig(configWith(route(schema)));
  try {
    loadRouteSchemas(config.routes);
  } catch (err) {
    expect((err as { code?: string }).code).toBe('DC_ERR_MQTT_SCHEMA');
    expect((err as { kind?: string }).kind).toBe('fatal');
    return (err as Error).message;
  }
  throw new Error('the schema files were accepted');
};

const checkOf = (schema: object) => {
  const [loaded] = loadRouteSchemas(parseConfig(configWith(route(schema))).routes);
  return (payload: Buffer | string) => loaded?.check?.(Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8'));
};

describe('routes[].schema config', () => {
  it('applies the defaults: auto_register true, version "latest"', () => {
    expect(parseConfig(configWith(route({ subject: 'orders', type: 'json_schema', file: ORDER }))).routes[0]?.schema).toEqual({
      subject: 'orders',
      type: 'json_schema',
      file: ORDER,
      auto_register: true,
      version: 'latest',
    });
    expect(parseConfig(configWith(route({ subject: 'n', type: 'number', version: { pinned: 2 } }))).routes[0]?.schema?.version).toEqual({ pinned: 2 });
    expect(parseConfig(configWith(route({ subject: 'n', type: 'number', version: { minimum: 1 } }))).routes[0]?.schema?.version).toEqual({ minimum: 1 });
  });

  const BAD: Array<[string, unknown, string]> = [
    ['no subject', configWith(route({ type: 'bytes' })), 'routes/0/schema/subject: is required'],
    ['no type', configWith(route({ subject: 's' })), 'routes/0/schema/type: is required'],
    ['unknown type', configWith(route({ subject: 's', type: 'json' })), 'routes/0/schema/type: must be one of "json_schema", "string", "bytes", "number", "avro", "protobuf"'],
    ['unknown key (the reference name)', configWith(route({ subject: 's', type: 'bytes', schema_file: 'x' })), 'routes/0/schema/schema_file: is not a known key; expected one of: subject, type, file, auto_register, version'],
    ['json_schema without file', configWith(route({ subject: 's', type: 'json_schema' })), 'routes/0/schema/file: is required for type json_schema'],
    ['protobuf without file', configWith(route({ subject: 's', type: 'protobuf' })), 'routes/0/schema/file: is required for type protobuf'],
    ['a file for string', configWith(route({ subject: 's', type: 'string', file: ORDER })), 'routes/0/schema/file: type string has no definition file; remove file'],
    ['version "newest"', configWith(route({ subject: 's', type: 'bytes', version: 'newest' })), 'routes/0/schema/version: must be "latest", { pinned = N } or { minimum = N }'],
    ['a bare version number', configWith(route({ subject: 's', type: 'bytes', version: 2 })), 'routes/0/schema/version: must be "latest", { pinned = N } or { minimum = N }'],
    ['version pinned 0', configWith(route({ subject: 's', type: 'bytes', version: { pinned: 0 } })), 'routes/0/schema/version/pinned: must be >= 1'],
    ['pinned and minimum', configWith(route({ subject: 's', type: 'bytes', version: { pinned: 1, minimum: 1 } })), 'routes/0/schema/version: must be { pinned = N } or { minimum = N }, not both'],
    ['an empty version table', configWith(route({ subject: 's', type: 'bytes', version: {} })), 'routes/0/schema/version: must be { pinned = N } or { minimum = N }'],
    ['version "pinned" (the reference parses it and fails)', configWith(route({ subject: 's', type: 'bytes', version: 'pinned' })), 'routes/0/schema/version: must be "latest"'],
    ['auto_register as text', configWith(route({ subject: 's', type: 'bytes', auto_register: 'yes' })), 'routes/0/schema/auto_register: must be boolean'],
    [
      'routes sharing a Danube topic with different schemas',
      configWith(route({ subject: 'a', type: 'bytes' }), { from: 'more/#', to: '/shop/orders' }),
      'routes/1: writes to /shop/orders like routes/0 but with another schema',
    ],
    [
      'one subject with two files',
      configWith(route({ subject: 'orders', type: 'json_schema', file: ORDER }), { from: 'b/#', to: '/shop/b', schema: { subject: 'orders', type: 'json_schema', file: `${ORDER}.v2` } }),
      'routes/1/schema: subject "orders" is also used by routes/0 with another type, file, auto_register or version',
    ],
  ];

  it.each(BAD)('refuses %s', (_what, raw, message) => {
    expect(problemsOf(raw)).toContain(message);
  });

  it('accepts routes on different topics that share one schema', () => {
    const schema = { subject: 'orders', type: 'json_schema', file: ORDER };
    expect(() => parseConfig(configWith(route(schema), { from: 'b/#', to: '/shop/b', schema }))).not.toThrow();
  });
});

describe('reading the schema files', () => {
  const FILE_BAD: Array<[string, object, string]> = [
    ['a missing file', { subject: 's', type: 'json_schema', file: join(dir, 'nope.json') }, `routes/0/schema/file: cannot read the file ${join(dir, 'nope.json')} (ENOENT)`],
    ['a folder, not a file', { subject: 's', type: 'avro', file: dir }, `routes/0/schema/file: cannot read the file ${dir} (EISDIR)`],
    ['a JSON Schema file that is not JSON', { subject: 's', type: 'json_schema', file: file('broken.json', '{"type": "object",') }, 'routes/0/schema/file: the file'],
    ['an Avro file that is not JSON', { subject: 's', type: 'avro', file: file('broken.avsc', 'record Order {}') }, 'is not JSON (an Avro schema is)'],
    ['an invalid JSON Schema', { subject: 's', type: 'json_schema', file: file('invalid.json', '{"type": "strin"}') }, 'routes/0/schema/file: not a valid JSON Schema: schema is invalid: data/type must be equal to one of the allowed values'],
    ['a JSON Schema that is an array', { subject: 's', type: 'json_schema', file: file('array.json', '[]') }, 'routes/0/schema/file: a JSON Schema must be an object or a boolean'],
    [
      'an unsupported draft',
      { subject: 's', type: 'json_schema', file: file('draft4.json', '{"$schema": "http://json-schema.org/draft-04/schema#", "type": "object"}') },
      'routes/0/schema/file: $schema "http://json-schema.org/draft-04/schema#" is not supported; use draft-07 (or none), 2019-09 or 2020-12',
    ],
  ];

  it.each(FILE_BAD)('refuses %s, naming the key', (_what, schema, message) => {
    expect(fileProblemsOf(schema)).toContain(message);
  });

  it('lists the problems of every route in one error', () => {
    const config = parseConfig(
      configWith(route({ subject: 'a', type: 'json_schema', file: join(dir, 'a.json') }), { from: 'b/#', to: '/shop/b', schema: { subject: 'b', type: 'protobuf', file: join(dir, 'b.proto') } }),
    );
    expect(() => loadRouteSchemas(config.routes)).toThrow(/routes\/0\/schema\/file: cannot read[^\n]*\n\s+routes\/1\/schema\/file: cannot read/);
  });
});

describe('payload checks', () => {
  it('json_schema: the payload must be UTF-8 JSON that the schema accepts (draft-07 when $schema is absent)', () => {
    const check = checkOf({ subject: 's', type: 'json_schema', file: ORDER });
    expect(check('{"id": 7, "note": "ok"}')).toBeUndefined();
    expect(check('{"id": "7"}')).toBe('payload does not match the JSON Schema: /id must be integer');
    expect(check('{"note": "x"}')).toBe("payload does not match the JSON Schema: (root) must have required property 'id'");
    expect(check('not json')).toMatch(/^payload is not JSON: /);
    expect(check(Buffer.from([0x7b, 0xff, 0x7d]))).toBe('payload is not valid UTF-8, so not JSON');
  });

  it('json_schema: 2019-09 and 2020-12 schemas are compiled by their draft', () => {
    const tuple = file('tuple.json', JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'array', prefixItems: [{ type: 'integer' }], items: false }));
    const check = checkOf({ subject: 's', type: 'json_schema', file: tuple });
    expect(check('[1]')).toBeUndefined();
    // Draft-07 ignores prefixItems and reads `items: false` as "no items at all": it would refuse [1].
    expect(check('[1, 2]')).toMatch(/must NOT have more than 1 items/);
    const dependent = file('dep.json', JSON.stringify({ $schema: 'https://json-schema.org/draft/2019-09/schema', dependentRequired: { a: ['b'] } }));
    expect(checkOf({ subject: 's', type: 'json_schema', file: dependent })('{"a": 1}')).toMatch(/must have property b when property a is present/);
  });

  it('string: valid UTF-8 (a lone continuation byte or a truncated sequence is not)', () => {
    const check = checkOf({ subject: 's', type: 'string' });
    expect(check('héllo ✓')).toBeUndefined();
    expect(check(Buffer.alloc(0))).toBeUndefined();
    expect(check(Buffer.from([0x68, 0x80]))).toBe('payload is not valid UTF-8');
    expect(check(Buffer.from([0xe2, 0x9c]))).toBe('payload is not valid UTF-8');
  });

  it('number: exactly 4 or 8 bytes', () => {
    const check = checkOf({ subject: 's', type: 'number' });
    expect(check(Buffer.alloc(4))).toBeUndefined();
    expect(check(Buffer.alloc(8))).toBeUndefined();
    expect(check(Buffer.alloc(5))).toBe('a number payload must be 4 or 8 bytes, got 5');
    expect(check(Buffer.alloc(0))).toBe('a number payload must be 4 or 8 bytes, got 0');
  });

  it('bytes, avro and protobuf: no check', () => {
    expect(checkOf({ subject: 's', type: 'bytes' })(Buffer.from([0xff]))).toBeUndefined();
    const avro = file('order.avsc', JSON.stringify({ type: 'record', name: 'Order', fields: [{ name: 'id', type: 'long' }] }));
    expect(checkOf({ subject: 's', type: 'avro', file: avro })(Buffer.from([0xff]))).toBeUndefined();
    const proto = file('order.proto', 'syntax = "proto3";\nmessage Order { int64 id = 1; }\n');
    expect(checkOf({ subject: 's', type: 'protobuf', file: proto })(Buffer.from([0xff]))).toBeUndefined();
  });
});
