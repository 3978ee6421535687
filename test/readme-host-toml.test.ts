import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JS script without types
import { renderHostTomlReference } from '../scripts/host-toml-reference.js';

describe('README host.toml reference', () => {
  it('is exactly what host.schema.json says (regenerate with node scripts/host-toml-reference.js)', () => {
    const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
    const section = /<!-- host\.toml reference:[^\n]*-->\n([\s\S]*?)\n<!-- end of host\.toml reference -->/.exec(readme)?.[1];
    expect(section).toBe((renderHostTomlReference as () => string)());
  });
});
