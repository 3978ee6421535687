import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_PROBLEM_CODES, CONFIG_WARNING_CODES, SUPERVISOR_ERROR_CODES } from '../src/errors.js';

describe('README host error codes', () => {
  it('lists exactly the codes the host reports (errors and warnings), with their meaning', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
    const section = readme.slice(readme.indexOf('### Host error codes'), readme.indexOf('## The Danube client'));
    const rows = [...section.matchAll(/^\| `(DC_(?:ERR|WARN)_[A-Z_]+)` \| (.+) \|$/gm)].map((m) => [m[1], m[2]?.replace(/\\\|/g, '|')]);
    const codes = { ...CONFIG_PROBLEM_CODES, ...SUPERVISOR_ERROR_CODES, ...CONFIG_WARNING_CODES };
    expect(Object.fromEntries(rows)).toEqual(codes);
  });
});
