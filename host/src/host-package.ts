import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findPackageRoot } from '@danube-connect/sdk/core';

let cachedRoot: string | undefined;

/** The folder of the @danube-connect/host package this module belongs to (works from src/, dist/ and an install). */
export function hostPackageRoot(): string {
  cachedRoot ??= findPackageRoot('@danube-connect/host', import.meta.url);
  return cachedRoot;
}

interface HostPackageJson {
  version: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** The host's own package.json (version, the SDK range it depends on, the test kit's range). */
export function hostPackageJson(): HostPackageJson {
  return JSON.parse(readFileSync(join(hostPackageRoot(), 'package.json'), 'utf8')) as HostPackageJson;
}

/** A JSON Schema shipped in the host package's schemas/ folder. */
export function readHostSchema(name: 'host.schema.json' | 'plugin-manifest.schema.json'): Record<string, unknown> {
  return JSON.parse(readFileSync(join(hostPackageRoot(), 'schemas', name), 'utf8')) as Record<string, unknown>;
}
