import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

export const FIXTURE_PLUGINS = resolve(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'plugins');

export interface TempProject {
  dir: string;
  /** Absolute path of a file in the project. */
  path(name: string): string;
  write(name: string, text: string): string;
  /** Links a committed fixture plugin as node_modules/@fixtures/<name> under `below` (default: the project). */
  link(fixture: string, below?: string): void;
}

/** A temporary folder (removed when the test finishes) with files and fixture plugins in node_modules. */
export function tempProject(files: Record<string, string> = {}, fixtures: string[] = []): TempProject {
  const dir = mkdtempSync(join(tmpdir(), 'dc-host-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const project: TempProject = {
    dir,
    path: (name) => join(dir, name),
    write(name, text) {
      const path = join(dir, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      return path;
    },
    link(fixture, below = '.') {
      const target = join(dir, below, 'node_modules', '@fixtures', fixture);
      mkdirSync(dirname(target), { recursive: true });
      symlinkSync(join(FIXTURE_PLUGINS, fixture), target, 'dir');
    },
  };
  for (const [name, text] of Object.entries(files)) project.write(name, text);
  for (const fixture of fixtures) project.link(fixture);
  return project;
}

/** A plugin package written from scratch: node_modules/<name>/package.json (+ entry, + schema). */
export function writePlugin(project: TempProject, under: string, name: string, manifest: Record<string, unknown>, extra: Record<string, string> = {}): string {
  const dir = join(under, 'node_modules', name);
  project.write(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', 'danube-connect': manifest }, null, 2));
  project.write(join(dir, 'index.js'), 'export default {};\n');
  for (const [file, text] of Object.entries(extra)) project.write(join(dir, file), text);
  return join(project.dir, dir);
}
