import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * Relative imports of a TypeScript module: static (`import … from`, `export … from`, side-effect `import '…'`,
 * type-only included: a type import is as much a layering cycle) and dynamic (`import('…')`). A regex over the
 * source, not a parser: a commented-out import counts too, which errs on the side of reporting.
 */
const RELATIVE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The import graph of every .ts file below `dir`: absolute path → the absolute paths it imports (`.js` → `.ts`). */
export function importGraph(dir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of tsFiles(resolve(dir))) {
    const imports = [...readFileSync(file, 'utf8').matchAll(RELATIVE_IMPORT)].map((m) => resolve(dirname(file), m[1] ?? '').replace(/\.js$/, '.ts'));
    graph.set(file, imports);
  }
  return graph;
}

/** Every cycle a depth-first walk meets below `dir`, each as paths relative to `dir`, first file repeated last. */
export function importCycles(dir: string): string[][] {
  const graph = importGraph(dir);
  const done = new Set<string>();
  const path: string[] = [];
  const cycles: string[][] = [];
  const visit = (file: string): void => {
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      const at = path.indexOf(next);
      if (at >= 0) cycles.push([...path.slice(at), next].map((p) => relative(dir, p)));
      else if (!done.has(next) && graph.has(next)) visit(next);
    }
    path.pop();
    done.add(file);
  };
  for (const file of graph.keys()) if (!done.has(file)) visit(file);
  return cycles;
}
