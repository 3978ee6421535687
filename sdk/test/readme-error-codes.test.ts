import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONNECTOR_ERROR_CODES } from '../src/errors.js';

describe('sdk/README.md error table', () => {
  it('lists exactly the connector error codes the SDK exports', () => {
    const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
    const codes = [...readme.matchAll(/^\| `(DC_ERR_[A-Z_]+)` \| ([^|]+) \|$/gm)].map((m) => m[1]);
    expect(codes.sort()).toEqual(Object.keys(CONNECTOR_ERROR_CODES).sort());
  });
});
