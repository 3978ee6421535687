import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { readPlugin, type PluginReport } from './read-plugin.js';
import type { SdkInfo } from './sdk-info.js';
import { searchFolders, type SearchOptions } from './search-paths.js';

export interface FoundPlugin extends PluginReport {
  /** Another copy of the same package name was found first (nearer); this one is not used. */
  shadowed: boolean;
}

const KEYWORD = 'danube-connect-plugin';

function packageDirs(folder: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(folder);
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    if (entry.startsWith('.')) return [];
    if (!entry.startsWith('@')) return [join(folder, entry)];
    try {
      return readdirSync(join(folder, entry)).map((scoped) => join(folder, entry, scoped));
    } catch {
      return [];
    }
  });
}

function looksLikePlugin(dir: string): boolean {
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    return pkg['danube-connect'] !== undefined || (Array.isArray(pkg['keywords']) && pkg['keywords'].includes(KEYWORD));
  } catch {
    return false;
  }
}

/**
 * Every plugin package (a `danube-connect` field or the `danube-connect-plugin` keyword) in the node_modules
 * folders the host searches, nearest first, each checked as validate would. A name found again further up is
 * marked shadowed.
 */
export function scanPlugins(search: SearchOptions, sdk: SdkInfo): FoundPlugin[] {
  const seenDirs = new Set<string>();
  const seenNames = new Set<string>();
  const found: FoundPlugin[] = [];
  for (const folder of searchFolders(search)) {
    for (const candidate of packageDirs(folder)) {
      if (!looksLikePlugin(candidate)) continue;
      const dir = realpathSync(candidate);
      if (seenDirs.has(dir)) continue;
      seenDirs.add(dir);
      const report = readPlugin(dir, sdk);
      const name = report.name ?? dir;
      found.push({ ...report, shadowed: seenNames.has(name) });
      seenNames.add(name);
    }
  }
  return found;
}
