import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { PluginKind } from './load-plugin.js';

/**
 * The `danube-connect.kind` of the package that holds `entry`: the nearest package.json upwards with a `name`
 * (a nested `{"type": "module"}` file in dist/ is skipped). Undefined when there is none or it declares no valid
 * kind. The start message carries no kind, so the child reads the manifest the host already checked.
 */
export async function manifestKind(entry: string): Promise<PluginKind | undefined> {
  let dir = dirname(entry);
  for (;;) {
    const manifest = await readJson(join(dir, 'package.json'));
    if (manifest !== undefined && typeof manifest.name === 'string') {
      const kind = (manifest['danube-connect'] as { kind?: unknown } | undefined)?.kind;
      return kind === 'source' || kind === 'sink' ? kind : undefined;
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

async function readJson(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    const value: unknown = JSON.parse(await readFile(path, 'utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
