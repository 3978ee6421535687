import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder of the package named `packageName` that holds the module at `moduleUrl` (pass `import.meta.url`),
 * found by walking up to its package.json. Works from src/ (tests), dist/ (bundled chunks at any depth) and an
 * installed tarball alike.
 */
export function findPackageRoot(packageName: string, moduleUrl: string): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === packageName) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`${packageName}: package.json not found above ${fileURLToPath(moduleUrl)}`);
    dir = parent;
  }
}

let cached: string | undefined;

/** The folder of the @danube-connect/sdk package this module belongs to. */
export function sdkPackageRoot(): string {
  cached ??= findPackageRoot('@danube-connect/sdk', import.meta.url);
  return cached;
}
