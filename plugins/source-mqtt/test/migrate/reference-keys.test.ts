import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENV_OVERRIDES, QOS_NAMES, REFERENCE_KEYS, SCHEMA_TYPES, renderMigrationTable } from '../../src/migrate/reference-keys.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const table = /<!-- migration-table:start -->\n([\s\S]*?)\n<!-- migration-table:end -->/.exec(README)?.[1];

describe('the README migration table', () => {
  it('is what the migration key map renders (regenerate it from src/migrate/reference-keys.ts)', () => {
    expect(table).toBe(renderMigrationTable());
  });

  it('has a row for every key, environment variable, QoS name and schema type the migration knows', () => {
    const rows = new Set((table ?? '').split('\n').map((row) => /^\| `([^`]+)`/.exec(row)?.[1]));
    const known = [
      ...REFERENCE_KEYS.map((k) => k.key),
      ...ENV_OVERRIDES.map((e) => e.variable),
      ...Object.keys(QOS_NAMES).map((n) => `qos = "${n}"`),
      ...Object.keys(SCHEMA_TYPES).map((t) => `schema_type = "${t}"`),
    ];
    expect(known.length).toBeGreaterThan(50);
    expect(known.filter((key) => !rows.has(key))).toEqual([]);
  });
});
