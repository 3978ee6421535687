import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { compilePluginSchema } from '../host/src/discovery/plugin-config-schema.js';
// @ts-expect-error: a plain JS script without types
import { inlineSchema as untypedInline } from '../scripts/inline-schema.js';

const inlineSchema = untypedInline as (file: string) => Record<string, unknown>;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const json = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
/** Every `$ref` value anywhere in `node`. */
const refs = (node: unknown): string[] =>
  Array.isArray(node) ? node.flatMap(refs) : node && typeof node === 'object' ? Object.entries(node).flatMap(([k, v]) => (k === '$ref' && typeof v === 'string' ? [v] : refs(v))) : [];

describe('scripts/inline-schema.js', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dc-inline-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("makes a plugin's schema self-contained from the shared defs: the host's one-file compile then validates with them", () => {
    const plugin = join(dir, 'plugin');
    mkdirSync(plugin);
    const source = join(plugin, 'schema.src.json');
    const defs = join(ROOT, 'schemas/defs.schema.json');
    writeFileSync(
      source,
      JSON.stringify({
        type: 'object',
        additionalProperties: false,
        properties: {
          tls: { $ref: `${defs}#/$defs/danube/tls`, description: 'TLS towards the MQTT broker' },
          processing: { $ref: `${defs}#/$defs/processing` },
          name: { $ref: '#/$defs/name' },
        },
        $defs: { name: { type: 'string', minLength: 1 } },
      }),
    );
    // What the host does with a plugin's schema.json: one file compiled alone, no other schema added.
    const compile = compilePluginSchema;
    expect(() => compile(json(source)), 'the source alone has unresolvable refs').toThrow(/can't resolve reference/);

    const inlined = inlineSchema(source);
    expect(refs(inlined)).toEqual([]);
    const tls = (inlined['properties'] as Record<string, Record<string, unknown>>)['tls'];
    expect(tls?.['description'], 'a sibling keyword wins over the target').toBe('TLS towards the MQTT broker');
    const validate = compile(inlined);
    const config: Record<string, unknown> = { tls: { ca: 'ca.pem' }, name: 'x' };
    expect(validate(config), JSON.stringify(validate.errors)).toBe(true);
    // The defaults came along with the processing definition (its retry keys through a ref inside defs.schema.json).
    expect(config['processing']).toMatchObject({ max_in_flight: 64, max_retries: 5, retry_initial_delay_ms: 200, on_retry_exhausted: 'block' });
    expect(validate({ tls: { ca: '' } }), 'the shared constraint (tls.ca minLength 1) applies').toBe(false);
    expect(validate({ tls: { bogus: 'x' } }), 'the shared tls table is closed').toBe(false);
  });

  it('fails on a recursive $ref and on a ref to nothing, naming the ref', () => {
    const recursive = join(dir, 'recursive.json');
    writeFileSync(recursive, JSON.stringify({ $defs: { node: { type: 'object', properties: { child: { $ref: '#/$defs/node' } } } }, $ref: '#/$defs/node' }));
    expect(() => inlineSchema(recursive)).toThrow(/"#\/\$defs\/node" .* is recursive/);
    const dangling = join(dir, 'dangling.json');
    writeFileSync(dangling, JSON.stringify({ properties: { a: { $ref: 'defs.json#/$defs/a' } } }));
    writeFileSync(join(dir, 'defs.json'), JSON.stringify({ $defs: {} }));
    expect(() => inlineSchema(dangling)).toThrow(/\$ref "defs.json#\/\$defs\/a": nothing at \/\$defs\/a/);
  });

  it("the host's packaged schemas are the repository's schemas/ inlined, with no $ref left", () => {
    for (const name of ['host.schema.json', 'plugin-manifest.schema.json']) {
      const packaged = json(join(ROOT, 'host/schemas', name));
      expect(refs(packaged), name).toEqual([]);
      expect(packaged, `host/schemas/${name} is stale: npm run build`).toEqual(inlineSchema(join(ROOT, 'schemas', name)));
    }
    expect(refs(json(join(ROOT, 'schemas/host.schema.json'))).length, 'host.schema.json takes its shared parts from defs.schema.json').toBeGreaterThan(0);
  });
});
