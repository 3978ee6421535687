import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_RUNTIME_SETTINGS } from '@danube-connect/sdk';
import { describe, expect, test } from 'vitest';

const SCHEMAS = join(dirname(fileURLToPath(import.meta.url)), '..', 'schemas');
const read = (name: string) => JSON.parse(readFileSync(join(SCHEMAS, name), 'utf8')) as Schema;

interface Schema {
  type?: string;
  description?: string;
  default?: unknown;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: boolean;
}

/** Every property of every object, with its key path. */
function walk(schema: Schema, path: string, visit: (path: string, schema: Schema) => void): void {
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    visit(`${path}${key}`, child);
    walk(child, `${path}${key}/`, visit);
  }
  if (schema.items) walk(schema.items, `${path}[]/`, visit);
}

describe('host.schema.json', () => {
  const schema = read('host.schema.json');

  test('every key has a description; every table but config and env (maps) is closed', () => {
    const undocumented: string[] = [];
    const open: string[] = [];
    walk(schema, '', (path, s) => {
      if (!s.description) undocumented.push(path);
      if (s.type === 'object' && s.additionalProperties !== false && !path.endsWith('/config') && !path.endsWith('/env')) open.push(path);
    });
    expect(undocumented).toEqual([]);
    expect(open).toEqual([]);
  });

  test('the documented defaults (docs/architecture.md §4)', () => {
    const host = schema.properties?.['host']?.properties ?? {};
    const defaults = (s: Schema | undefined) => Object.fromEntries(Object.entries(s?.properties ?? {}).flatMap(([k, v]) => (v.default === undefined || v.type === 'object' ? [] : [[k, v.default]])));
    expect(defaults(schema.properties?.['host'])).toEqual({ http: '127.0.0.1:9464', allowed_hosts: [], log_level: 'info', shutdown_timeout_ms: 10000, ready_timeout_ms: 30000, ping_interval_ms: 5000 });
    expect(defaults(host['restart'])).toEqual({ initial_delay_ms: 1000, max_delay_ms: 60000, stable_after_ms: 60000, max_crashes: 5, window_ms: 300000 });
    expect(defaults(schema.properties?.['danube'])).toEqual({ service_url: 'http://127.0.0.1:6650', request_timeout_ms: 10000, create_namespaces: false });
  });

  test('[connectors.processing] mirrors the SDK RuntimeSettings and its defaults', () => {
    const processing = schema.properties?.['connectors']?.items?.properties?.['processing']?.properties ?? {};
    const camel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const fromSchema = Object.fromEntries(Object.entries(processing).map(([k, v]) => [camel(k), v.default]));
    expect(fromSchema).toEqual({ ...DEFAULT_RUNTIME_SETTINGS });
  });
});
