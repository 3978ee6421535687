import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = '@danube-connect/host';
let cachedRoot: string | undefined;

/** The folder of the @danube-connect/host package this module belongs to (works from src/, dist/ and an install). */
export function hostPackageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === PACKAGE_NAME) {
      cachedRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`${PACKAGE_NAME}: package.json not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

interface HostPackageJson {
  version: string;
  dependencies?: Record<string, string>;
}

/** The host's own package.json (version, and the SDK range it depends on). */
export function hostPackageJson(): HostPackageJson {
  return JSON.parse(readFileSync(join(hostPackageRoot(), 'package.json'), 'utf8')) as HostPackageJson;
}

/** A JSON Schema shipped in the host package's schemas/ folder. */
export function readHostSchema(name: 'host.schema.json' | 'plugin-manifest.schema.json'): Record<string, unknown> {
  return JSON.parse(readFileSync(join(hostPackageRoot(), 'schemas', name), 'utf8')) as Record<string, unknown>;
}
