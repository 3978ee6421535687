import { readFileSync } from 'node:fs';
import { renderConfigTable } from '@danube-connect/mqtt';
import { describe, expect, it } from 'vitest';
import { SINK_ERROR_CODES } from '../src/errors.js';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README.md', () => {
  it('has the config table of schema.json', () => {
    const schema = JSON.parse(readFileSync(new URL('../schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    const match = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(README);
    expect(match?.[1]).toBe(renderConfigTable(schema));
  });

  it('lists every error code of the sink', () => {
    for (const code of Object.keys(SINK_ERROR_CODES)) expect(README).toContain(`| \`${code}\` |`);
  });
});
