import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

describe("the host package's README", () => {
  it('has a host.toml that danube-connect validate accepts', () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const toml = /```toml\n([\s\S]*?)```/.exec(readFileSync(join(root, 'host/README.md'), 'utf8'))?.[1];
    expect(toml).toContain('plugin = "@danube-plugin/source-mqtt"');
    // In the repository root, where the workspace links the plugin as an install would.
    const file = join(root, `.readme-host-${process.pid}.toml`);
    writeFileSync(file, toml as string);
    try {
      expect(execFileSync(process.execPath, [join(root, 'host/dist/cli.js'), 'validate', file], { encoding: 'utf8' })).toBe('ok: 1 connector\n');
    } finally {
      rmSync(file, { force: true });
    }
  });
});
