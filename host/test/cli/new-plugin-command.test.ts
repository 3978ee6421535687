import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { TEMPLATE_DEV_DEPENDENCIES } from '../../src/scaffold/plugin-package-json.js';
import { tempProject } from '../temp-project.js';
import { runCli } from './run-cli.js';

// The command line of `danube-connect new-plugin` and the files it writes, in process (no install, no build: the
// scaffolded packages are built, tested, packed and run by test/new-plugin.test.ts).
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

describe('danube-connect new-plugin: bad command lines exit 64 and write nothing', () => {
  test.each([
    [[], 'new-plugin needs the package name, e.g. new-plugin @acme/danube-source-files --kind source'],
    [['danube-source-x'], 'new-plugin needs --kind source or --kind sink'],
    [['danube-source-x', '--kind', 'both'], '--kind must be source or sink, got "both"'],
    [['danube-source-x', 'extra', '--kind', 'sink'], 'unexpected argument "extra"'],
    [['Danube-Source', '--kind', 'source'], '"Danube-Source" is not a valid npm package name: the name "Danube-Source" has upper-case letters (D S); npm names are lower case'],
    [['@acme/', '--kind', 'source'], '"@acme/" is not a valid npm package name: the name after "@acme/" is empty'],
    [['@acme/my files', '--kind', 'source'], '"@acme/my files" is not a valid npm package name: the name "my files" after the scope has characters npm does not allow in a name (" "); use a-z, 0-9, "-", "." and "_"'],
  ])('%j', async (args, message) => {
    const project = tempProject();
    const result = await runCli(['new-plugin', ...args], project.dir);
    expect(result.code).toBe(64);
    expect(result.stderr.split('\n')[0]).toBe(`danube-connect new-plugin: ${message}`);
    expect(result.stderr).toContain('Usage: danube-connect new-plugin <name> --kind source|sink [--dir <folder>]');
    expect(readdirSync(project.dir)).toEqual([]);
  });

  test('--kind without a value is a usage error', async () => {
    const result = await runCli(['new-plugin', 'x', '--kind'], tempProject().dir);
    expect(result.code).toBe(64);
    expect(result.stderr).toMatch(/^danube-connect new-plugin: Option '-k, --kind <value>' argument missing/);
  });
});

describe('danube-connect new-plugin: never overwrites', () => {
  test('a folder that is not empty is refused (exit 1) and left as it was', async () => {
    const project = tempProject({ 'files/notes.txt': 'mine' });
    const result = await runCli(['new-plugin', 'danube-source-files', '--kind', 'source', '--dir', 'files'], project.dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('danube-connect new-plugin: <dir>/files is not empty (notes.txt): new-plugin never overwrites; pick an empty or new folder with --dir\n');
    expect(readdirSync(project.path('files'))).toEqual(['notes.txt']);
  });

  test('the default folder (the name without its scope) is refused too when not empty', async () => {
    const project = tempProject({ 'danube-sink-files/package.json': '{}' });
    const result = await runCli(['new-plugin', '@acme/danube-sink-files', '--kind', 'sink'], project.dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('<dir>/danube-sink-files is not empty (package.json)');
    expect(readFileSync(project.path('danube-sink-files/package.json'), 'utf8')).toBe('{}');
  });

  test('a file where the folder would go is refused', async () => {
    const project = tempProject({ plugin: 'a file' });
    const result = await runCli(['new-plugin', 'x', '--kind', 'sink', '--dir', 'plugin'], project.dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('danube-connect new-plugin: <dir>/plugin exists and is not a folder\n');
  });
});

describe('danube-connect new-plugin: the package it writes', () => {
  test.each(['source', 'sink'] as const)('a %s: the manifest, the SDK range of the running SDK, the pinned dev tools, the name filled in', async (kind) => {
    const project = tempProject();
    mkdirSync(project.path('empty')); // an existing empty folder is fine
    const name = `@acme/danube-${kind}-files`;
    const result = await runCli(['new-plugin', name, '--kind', kind, '--dir', 'empty'], project.dir);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const files = ['.gitignore', 'README.md', 'package.json', 'src/config-schema.ts', 'src/index.ts', 'test/conformance.test.ts', 'tsconfig.json', 'tsup.config.ts'];
    expect(result.stdout).toBe(
      `created ${name} (${kind}, @danube-connect/sdk ^0.1.0) in <dir>/empty:\n${files.map((f) => `  ${f}\n`).join('')}\nnext:\n  cd <dir>/empty\n` +
        '  npm install      # the SDK, the test kit, vitest, tsup, typescript (until @danube-connect/* is on the\n' +
        '                   # registry: npm install --no-save <packs>/danube-connect-{sdk,testing}-*.tgz, see README)\n' +
        '  npm test         # builds (writing schema.json) and runs the conformance kit\n' +
        '  npm pack         # the tarball to install next to danube-connect, or npm publish\n',
    );
    for (const file of files) expect(existsSync(project.path(`empty/${file}`)), file).toBe(true);

    const pkg = readJson(project.path('empty/package.json'));
    const sdk = readJson(join(ROOT, 'sdk/package.json'));
    const host = readJson(join(ROOT, 'host/package.json')) as { peerDependencies: Record<string, string> };
    expect(pkg).toMatchObject({
      name,
      type: 'module',
      'danube-connect': { kind, entry: './dist/index.js', configSchema: './schema.json', sdk: `^${sdk['version']}` },
      peerDependencies: { '@danube-connect/sdk': `^${sdk['version']}` },
      devDependencies: { '@danube-connect/testing': host.peerDependencies['@danube-connect/testing'] },
      files: ['dist', 'schema.json', 'README.md'],
    });
    expect(Object.keys(pkg['scripts'] as object).sort()).toEqual(['build', 'prepack', 'test', 'typecheck']);
    expect(readFileSync(project.path('empty/README.md'), 'utf8')).toContain(`plugin = "${name}"`);
    expect(readFileSync(project.path('empty/src/config-schema.ts'), 'utf8')).toContain(`title: '${name} config'`);
    for (const file of files) expect(readFileSync(project.path(`empty/${file}`), 'utf8'), file).not.toContain('{{');
  });

  test('the dev tools of a new plugin are the versions this repository pins', () => {
    const root = readJson(join(ROOT, 'package.json')) as { devDependencies: Record<string, string> };
    const shared = Object.keys(TEMPLATE_DEV_DEPENDENCIES).filter((name) => name in root.devDependencies);
    expect(shared.sort()).toEqual(['@types/node', 'tsup', 'typescript', 'vitest']);
    for (const name of shared) expect(TEMPLATE_DEV_DEPENDENCIES[name as keyof typeof TEMPLATE_DEV_DEPENDENCIES], name).toBe(root.devDependencies[name]);
  });

  test('the name is checked before the folder, and nothing is written for a bad one', async () => {
    const project = tempProject();
    writeFileSync(project.path('keep'), '');
    const result = await runCli(['new-plugin', 'BAD', '--kind', 'source', '--dir', '.'], project.dir);
    expect(result.code).toBe(64);
    expect(readdirSync(project.dir)).toEqual(['keep']);
  });
});
