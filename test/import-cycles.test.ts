import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importCycles, importGraph } from './import-graph.js';

// knip finds unused code, not cycles: this keeps the packages' import graphs acyclic (a lower module never
// reaches up into one that imports it, even for a type).
const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('import cycles', () => {
  it.each(['sdk/src', 'testing/src', 'host/src'])('%s has none', (dir) => {
    expect(importCycles(join(ROOT, dir))).toEqual([]);
  });

  it('sdk/src keeps its layers in order: danube imports neither runtime nor plugin, runtime does not import plugin', () => {
    const src = join(ROOT, 'sdk/src');
    const upward: string[] = [];
    for (const [from, targets] of importGraph(src)) {
      const file = relative(src, from);
      for (const target of targets.map((t) => relative(src, t))) {
        const reachesUp =
          (file.startsWith('danube/') && (target.startsWith('runtime/') || target.startsWith('plugin/'))) ||
          (file.startsWith('runtime/') && target.startsWith('plugin/'));
        if (reachesUp) upward.push(`${file} -> ${target}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('finds a cycle through a type-only import, a re-export and a dynamic import', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dc-cycles-'));
    try {
      mkdirSync(join(dir, 'lower'));
      writeFileSync(join(dir, 'errors.ts'), "import type { Problem } from './lower/problem.js';\nexport type { Problem };\n");
      writeFileSync(join(dir, 'lower/problem.ts'), "export type { Code } from '../codes.js';\nexport interface Problem { code: string }\n");
      writeFileSync(join(dir, 'codes.ts'), "export type Code = string;\nexport const load = () => import('./errors.js');\n");
      writeFileSync(join(dir, 'leaf.ts'), "import { load } from './codes.js';\nexport { load };\n");
      const cycles = importCycles(dir);
      expect(cycles).toHaveLength(1);
      // Where the walk enters the cycle depends on the directory order: compare its members and that it closes.
      expect([...new Set(cycles[0])].sort()).toEqual(['codes.ts', 'errors.ts', 'lower/problem.ts']);
      expect(cycles[0]?.at(-1)).toBe(cycles[0]?.[0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
