import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DANUBE_ERROR_CODES, RETIRED_DANUBE_ERROR_CODES } from '../../src/danube/errors.js';

describe('README error table', () => {
  it('lists exactly the DC_ERR_* codes the client exports, each with a fix', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
    const rows = [...readme.matchAll(/^\| `(DC_ERR_[A-Z_]+)` \| ([^|]+) \| ([^|]+) \|$/gm)];
    expect(rows.map((r) => r[1]).sort()).toEqual(Object.keys(DANUBE_ERROR_CODES).sort());
    for (const row of rows) expect(row[3]?.trim().length).toBeGreaterThan(3);
  });

  it('lists every retired code as retired, and none is in use again', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
    const retired = [...readme.matchAll(/^\| `(DC_ERR_[A-Z_]+)` \| retired: ([^|]+) \|$/gm)].map((r) => r[1]);
    expect(retired.sort()).toEqual(Object.keys(RETIRED_DANUBE_ERROR_CODES).sort());
    for (const code of retired) expect(Object.keys(DANUBE_ERROR_CODES)).not.toContain(code);
  });
});
