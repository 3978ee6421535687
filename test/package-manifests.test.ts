import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain JS script without types
import { publishableWorkspaces as untypedPublishableWorkspaces } from '../scripts/pack.js';
import { beforeAll, describe, expect, it } from 'vitest';

// Every package `npm run pack` publishes (every workspace that is not private, so a new one cannot be forgotten)
// has what a registry install needs: its own version and changelog, the license, the repository, engines, typed
// exports, the SDK as a peer where a plugin loads it, and a tarball that carries every file its manifest points at.
const publishableWorkspaces = untypedPublishableWorkspaces as () => string[];
const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  type?: string;
  license?: string;
  repository?: { type: string; url: string; directory?: string };
  engines?: { node?: string };
  types?: string;
  exports?: Record<string, unknown>;
  bin?: Record<string, string>;
  files?: string[];
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  'danube-connect'?: { entry: string; configSchema: string; sdk: string };
}

const read = (folder: string) => JSON.parse(readFileSync(join(ROOT, folder, 'package.json'), 'utf8')) as Manifest;
const root = read('.');
const workspaces = publishableWorkspaces();
/** Packages that bring their own SDK: the host (an application that runs connector children) and the test kit. */
const OWN_SDK = new Set(['@danube-connect/sdk', '@danube-connect/host', '@danube-connect/testing']);
/** Third-party runtime dependencies pinned to one exact version in every package (issue 12: MQTT.js). */
const PINNED = ['mqtt'];

/** Every path string in a package.json exports or bin value. */
function targets(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(targets);
  return [];
}

/** What the manifest points at, as paths inside the package (`./dist/x.js` → `dist/x.js`). */
function pointedAt(manifest: Manifest): string[] {
  const plugin = manifest['danube-connect'];
  const all = [...targets(manifest.exports), ...targets(manifest.bin), ...(manifest.types ? [manifest.types] : []), ...(plugin ? [plugin.entry, plugin.configSchema] : [])];
  return [...new Set(all.map((p) => p.replace(/^\.\//, '')))];
}

describe('every publishable package manifest', () => {
  it('is found: the workspaces npm run pack publishes', () => {
    expect(root.private).toBe(true);
    expect(workspaces).toEqual(expect.arrayContaining(['sdk', 'testing', 'host', 'plugins/mqtt-common', 'plugins/sink-mqtt', 'plugins/source-mqtt']));
  });

  describe.each(workspaces)('%s', (folder) => {
    const manifest = read(folder);

    it('names its version, license, repository, engines and module type', () => {
      expect(manifest.name).toMatch(/^@danube-(connect|plugin)\/[a-z0-9-]+$/);
      expect(manifest.version).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
      expect(manifest.type).toBe('module');
      expect(manifest.license).toBe(root.license);
      expect(manifest.repository).toEqual({ ...root.repository, directory: folder });
      expect(manifest.engines?.node).toBe(root.engines?.node);
    });

    it('has its LICENSE, README and a CHANGELOG entry for its own version', () => {
      expect(readFileSync(join(ROOT, folder, 'LICENSE'), 'utf8')).toBe(readFileSync(join(ROOT, 'LICENSE'), 'utf8'));
      expect(readFileSync(join(ROOT, folder, 'LICENSE'), 'utf8')).toContain('Apache License\n                           Version 2.0');
      expect(existsSync(join(ROOT, folder, 'README.md')), 'README.md').toBe(true);
      const changelog = readFileSync(join(ROOT, folder, 'CHANGELOG.md'), 'utf8');
      expect(changelog.split('\n')[0]).toBe(`# Changelog: ${manifest.name}`);
      expect(changelog).toMatch(new RegExp(`^## ${manifest.version.replace(/\./g, '\\.')}\\b`, 'm'));
    });

    it('lists them in files, with typed exports', () => {
      for (const file of ['dist', 'README.md', 'LICENSE', 'CHANGELOG.md']) expect(manifest.files, file).toContain(file);
      expect(manifest.exports?.['./package.json']).toBe('./package.json');
      const main = manifest.exports?.['.'] as { types?: string; import?: string } | undefined;
      expect(main?.import).toMatch(/^\.\/dist\/.+\.js$/);
      expect(main?.types).toMatch(/^\.\/dist\/.+\.d\.ts$/);
      expect(manifest.types).toBe(main?.types);
      for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
        if (typeof target === 'object') expect(Object.keys(target as object), subpath).toEqual(['types', 'import']);
      }
      // A bin is built (dist/) or a plain committed file (bin/): one a workspace runs while building must exist before
      // anything is built, or npm links nothing (@danube-connect/mqtt's danube-mqtt-plugin-schema).
      for (const file of Object.values(manifest.bin ?? {})) expect(file).toMatch(/^\.\/(dist|bin)\/.+\.js$/);
    });

    it('takes the SDK as a peer dependency unless it brings its own, and pins MQTT.js', () => {
      if (!OWN_SDK.has(manifest.name)) {
        expect(manifest.peerDependencies?.['@danube-connect/sdk'], 'peerDependencies @danube-connect/sdk').toMatch(/^\^\d+\.\d+\.\d+$/);
        expect(manifest.dependencies?.['@danube-connect/sdk'], 'the SDK as a dependency: a second copy beside the host').toBeUndefined();
      }
      const plugin = manifest['danube-connect'];
      if (plugin) expect(plugin.sdk, 'the manifest sdk range').toBe(manifest.peerDependencies?.['@danube-connect/sdk']);
      for (const name of PINNED) {
        const range = manifest.dependencies?.[name];
        if (range !== undefined) expect(range, `${name} in ${manifest.name}`).toBe(root.devDependencies?.[name]);
      }
    });
  });
});

describe('npm pack --dry-run of every publishable package', () => {
  const packed = new Map<string, string[]>();

  beforeAll(() => {
    const args = ['pack', '--dry-run', '--json', '--loglevel=error', ...workspaces.flatMap((w) => ['-w', w])];
    const entries = JSON.parse(execFileSync('npm', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as { name: string; files: { path: string }[] }[];
    for (const entry of entries) packed.set(entry.name, entry.files.map((f) => f.path));
  }, 60_000);

  it.each(workspaces)('%s carries its LICENSE, CHANGELOG, README and every file its manifest points at', (folder) => {
    const manifest = read(folder);
    const files = packed.get(manifest.name) ?? [];
    expect(files.length, `${manifest.name} was packed`).toBeGreaterThan(0);
    for (const file of ['package.json', 'LICENSE', 'CHANGELOG.md', 'README.md', ...pointedAt(manifest)]) expect(files, file).toContain(file);
    for (const file of Object.values(manifest.bin ?? {})) expect(readFileSync(join(ROOT, folder, file), 'utf8').split('\n')[0], `${file} runs as a bin`).toBe('#!/usr/bin/env node');
    expect(files.filter((f) => /^(src|test|scripts)\//.test(f) || f.endsWith('.test.js')), 'sources or tests in the tarball').toEqual([]);
  });

  it('the SDK carries every .proto file its client loads, the host its schemas', () => {
    for (const proto of readdirSync(join(ROOT, 'sdk/proto'))) expect(packed.get('@danube-connect/sdk'), proto).toContain(`proto/${proto}`);
    for (const schema of ['schemas/host.schema.json', 'schemas/plugin-manifest.schema.json']) expect(packed.get('@danube-connect/host'), schema).toContain(schema);
  });
});
