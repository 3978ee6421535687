import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { findPackageDir, searchFolders } from '../../src/discovery/search-paths.js';
import { validateHost } from '../../src/validate-host.js';
import { tempProject, writePlugin } from '../temp-project.js';

const MANIFEST = { kind: 'source', entry: './index.js', sdk: '^0.1.0' };

describe('plugin resolution', () => {
  test('searches node_modules from the start folder upwards (skipping node_modules/node_modules), then above the host', () => {
    expect(searchFolders({ fromDir: '/a/b', hostDir: '/usr/lib/node_modules/@danube-connect/host' })).toEqual([
      '/a/b/node_modules',
      '/a/node_modules',
      '/node_modules',
      '/usr/lib/node_modules/@danube-connect/host/node_modules',
      '/usr/lib/node_modules/@danube-connect/node_modules',
      '/usr/lib/node_modules',
      '/usr/node_modules',
    ]);
  });

  test("finds a plugin in a parent folder's node_modules", () => {
    const p = tempProject({ 'deploy/site/host.toml': '[[connectors]]\nname = "up"\nplugin = "@acme/source-up"\n' });
    const dir = writePlugin(p, '.', '@acme/source-up', MANIFEST);
    const result = validateHost(p.path('deploy/site/host.toml'), { env: {}, hostDir: p.path('elsewhere') });
    expect(result.ok && result.connectors[0]?.plugin).toMatchObject({ name: '@acme/source-up', dir, entry: join(dir, 'index.js') });
  });

  test("finds a plugin next to the host's own installation (npm i -g of host and plugins)", () => {
    const p = tempProject({ 'etc/host.toml': '[[connectors]]\nname = "g"\nplugin = "source-global"\n' });
    const dir = writePlugin(p, 'prefix/lib', 'source-global', MANIFEST);
    const hostDir = p.path('prefix/lib/node_modules/@danube-connect/host');
    expect(validateHost(p.path('etc/host.toml'), { env: {} }).ok).toBe(false); // not found without the host's path
    const result = validateHost(p.path('etc/host.toml'), { env: {}, hostDir });
    expect(result.ok && result.connectors[0]?.plugin.dir).toBe(dir);
  });

  test('the nearest copy wins, as in Node', () => {
    const p = tempProject({ 'app/host.toml': '' });
    writePlugin(p, '.', 'p', MANIFEST);
    const near = writePlugin(p, 'app', 'p', MANIFEST);
    expect(findPackageDir('p', { fromDir: p.path('app'), hostDir: p.path('x') })).toBe(near);
  });

  test('package.json is read even when "exports" hides it (require.resolve would fail)', () => {
    const p = tempProject({ 'host.toml': '[[connectors]]\nname = "e"\nplugin = "hidden"\n' });
    p.write(
      'node_modules/hidden/package.json',
      JSON.stringify({ name: 'hidden', version: '1.0.0', type: 'module', exports: { '.': { import: './index.js' } }, 'danube-connect': MANIFEST }),
    );
    p.write('node_modules/hidden/index.js', 'export default {};\n');
    expect(validateHost(p.path('host.toml'), { env: {}, hostDir: p.path('x') }).ok).toBe(true);
  });

  test('an entry or configSchema outside the package folder is refused', () => {
    const p = tempProject({ 'host.toml': '[[connectors]]\nname = "o"\nplugin = "outside"\n' });
    writePlugin(p, '.', 'outside', { ...MANIFEST, entry: '../../etc/passwd', configSchema: '../schema.json' });
    const result = validateHost(p.path('host.toml'), { env: {}, hostDir: p.path('x') });
    expect(result.ok ? [] : result.problems.map((x) => x.message.replace(p.dir, '<dir>'))).toEqual([
      'outside@1.0.0: entry "../../etc/passwd" points outside the package folder <dir>/node_modules/outside',
      'outside@1.0.0: configSchema "../schema.json" points outside the package folder <dir>/node_modules/outside',
    ]);
  });

  test('a 2020-12 config schema compiles with its draft; a schema file that is not JSON is an error naming the plugin', () => {
    const schema = { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { n: { type: 'integer', default: 3 } }, $defs: { pair: { type: 'array', prefixItems: [{ type: 'string' }] } } };
    const p = tempProject({ 'host.toml': '[[connectors]]\nname = "a"\nplugin = "modern"\n[[connectors]]\nname = "b"\nplugin = "garbled"\n' });
    writePlugin(p, '.', 'modern', { ...MANIFEST, configSchema: './schema.json' }, { 'schema.json': JSON.stringify(schema) });
    writePlugin(p, '.', 'garbled', { ...MANIFEST, configSchema: './schema.json' }, { 'schema.json': '{ nope' });
    const result = validateHost(p.path('host.toml'), { env: {}, hostDir: p.path('x') });
    expect(result.ok ? [] : result.problems.map((x) => `${x.connector}: ${x.message}`)).toEqual([
      `b: garbled@1.0.0: configSchema "./schema.json" is not valid JSON: Expected property name or '}' in JSON at position 2`,
    ]);
    p.write('host.toml', '[[connectors]]\nname = "a"\nplugin = "modern"\n');
    const ok = validateHost(p.path('host.toml'), { env: {}, hostDir: p.path('x') });
    expect(ok.ok && ok.connectors[0]?.config).toEqual({ n: 3 });
  });
});
