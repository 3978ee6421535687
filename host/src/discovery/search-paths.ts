import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { packageNameProblem } from './package-name.js';

/** Where the host looks for plugin packages (docs/architecture.md §3.2). */
export interface SearchOptions {
  /** host.toml's folder: the search starts in its node_modules and goes up. */
  fromDir: string;
  /** The host's own package folder: searched (upwards) after fromDir, so `npm i -g` of host and plugins works. Default: this host's installation. */
  hostDir: string;
}

function ancestors(dir: string): string[] {
  const out: string[] = [];
  for (let current = resolve(dir); ; current = dirname(current)) {
    out.push(current);
    if (dirname(current) === current) return out;
  }
}

/**
 * The node_modules folders Node's resolution would search from `fromDir` (nearest first, skipping folders that are
 * themselves node_modules), then those above the host's installation. Each appears once.
 */
export function searchFolders(options: SearchOptions): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const start of [options.fromDir, options.hostDir]) {
    for (const dir of ancestors(start)) {
      if (basename(dir) === 'node_modules') continue;
      const folder = join(dir, 'node_modules');
      if (seen.has(folder)) continue;
      seen.add(folder);
      out.push(folder);
    }
  }
  return out;
}

/** True for a `plugin` value that names a folder rather than a package. */
export function isPathRequest(request: string): boolean {
  return request.startsWith('./') || request.startsWith('../') || request.startsWith('/') || request === '.' || /^[A-Za-z]:[\\/]/.test(request);
}

/**
 * The package folder of `request` (a package name, or a folder path relative to fromDir), with symlinks
 * resolved as Node does; undefined when no folder has its package.json or the request is no package name. Reads the file system only: never
 * require.resolve, which fails when `exports` hides package.json.
 */
export function findPackageDir(request: string, options: SearchOptions): string | undefined {
  // A request that is not a path is joined to node_modules folders: only a package name may be.
  if (!isPathRequest(request) && packageNameProblem(request) !== undefined) return undefined;
  const candidates = isPathRequest(request) ? [resolve(options.fromDir, request)] : searchFolders(options).map((folder) => join(folder, request));
  for (const dir of candidates) {
    if (existsSync(join(dir, 'package.json'))) return realpathSync(dir);
  }
  return undefined;
}
