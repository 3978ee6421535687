import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

/**
 * Global setup of every vitest project. Child processes, the TestBroker CLI, the host CLI and the packed install
 * run the built dist/, and the tests import the SDK and the test kit through their package exports: a missing or stale build
 * fails the run here, saying what to do, where tests used to skip themselves (or would run yesterday's code).
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The workspaces whose dist/ each project's tests run. */
const NEEDS: Record<string, string[]> = { sdk: ['sdk', 'testing'], testing: ['sdk', 'testing'], host: ['sdk', 'testing', 'host'], e2e: ['sdk', 'testing', 'host', 'plugins/mqtt-common', 'plugins/source-mqtt', 'plugins/sink-mqtt'] };

/** Outputs of a workspace's build beyond dist/, and the repository files they are built from. */
const BUILT_OUTPUTS: Record<string, string[]> = { host: ['schemas/host.schema.json', 'schemas/plugin-manifest.schema.json'] };
const BUILT_FROM: Record<string, string[]> = { host: ['schemas/host.schema.json', 'schemas/plugin-manifest.schema.json', 'schemas/defs.schema.json', 'scripts/inline-schema.js'] };

export default function setup(project: TestProject): void {
  const problems = (NEEDS[project.name] ?? ['sdk', 'testing', 'host']).flatMap(buildProblems);
  if (problems.length > 0) {
    throw new Error(`the ${project.name} tests need a fresh build:\n  ${problems.join('\n  ')}\nrun \`npm run build\` first (\`npm test\` builds for you)`);
  }
}

/** What is wrong with `<workspace>/dist`: a missing entry (package.json exports and bin), or a source newer than it. */
function buildProblems(workspace: string): string[] {
  const dir = join(ROOT, workspace);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { exports?: unknown; bin?: unknown };
  const entries = [...new Set([...targets(manifest.exports), ...targets(manifest.bin)])].filter((t) => t.startsWith('./dist/')).map((t) => join(dir, t));
  entries.push(...(BUILT_OUTPUTS[workspace] ?? []).map((p) => join(dir, p)));
  const missing = entries.filter((file) => !existsSync(file));
  if (missing.length > 0) return missing.map((file) => `${relative(ROOT, file)} is missing`);
  const built = Math.min(...entries.map((file) => statSync(file).mtimeMs));
  const newer = [...sources(join(dir, 'src')), ...(BUILT_FROM[workspace] ?? []).flatMap((p) => sources(join(ROOT, p)))].find((file) => statSync(file).mtimeMs > built);
  return newer ? [`${relative(ROOT, newer)} changed after ${workspace}/dist was built`] : [];
}

/** Every path string in a package.json exports or bin value. */
function targets(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(targets);
  return [];
}

function sources(dir: string): string[] {
  if (statSync(dir).isFile()) return [dir];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sources(path) : [path];
  });
}
