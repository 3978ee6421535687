import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { hostPackageRoot } from '../host-package.js';
import { pluginPackageJson, type PluginPackageOptions } from './plugin-package-json.js';

export interface ScaffoldOptions extends PluginPackageOptions {
  /** The folder to create the package in (absolute); must be absent or empty. */
  dir: string;
}

/**
 * Files shipped under these names and renamed when written: npm pack leaves out (or renames) a `.gitignore` of
 * the host's own package, so the template carries it without the dot.
 */
const RENAMED: Readonly<Record<string, string>> = { gitignore: '.gitignore' };

/** Why `dir` cannot take a new package (it is a file, or not empty), or undefined. */
export function targetProblem(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  if (!statSync(dir).isDirectory()) return `${dir} exists and is not a folder`;
  const entries = readdirSync(dir);
  if (entries.length > 0) return `${dir} is not empty (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}): new-plugin never overwrites; pick an empty or new folder with --dir`;
  return undefined;
}

/**
 * Writes a new plugin package into `options.dir` from the host's templates (`templates/common` and
 * `templates/<kind>`, `{{name}}` replaced by the package name) plus its package.json. Returns the files written,
 * relative to the folder. Throws when the folder is a file or not empty: nothing is ever overwritten.
 */
export function scaffoldPlugin(options: ScaffoldOptions): string[] {
  const problem = targetProblem(options.dir);
  if (problem) throw new Error(problem);
  const templates = join(hostPackageRoot(), 'templates');
  const files = new Map<string, string>();
  for (const layer of ['common', options.kind]) {
    const root = join(templates, layer);
    for (const file of walk(root)) {
      const parts = relative(root, file).split('/');
      const name = parts.pop() as string;
      files.set([...parts, RENAMED[name] ?? name].join('/'), readFileSync(file, 'utf8').split('{{name}}').join(options.name));
    }
  }
  files.set('package.json', `${JSON.stringify(pluginPackageJson(options), null, 2)}\n`);
  for (const [path, text] of files) {
    const target = join(options.dir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text, { flag: 'wx' });
  }
  return [...files.keys()].sort();
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? walk(path) : [path];
  });
}
