import { describe, expect, test } from 'vitest';
import { tempProject, writePlugin } from '../temp-project.js';
import { runBuiltCli, runCli } from './run-cli.js';

const FIXTURES = ['mqtt-like-source', 'plain-sink', 'incompatible-sdk', 'missing-entry', 'bad-manifest', 'broken-schema', 'not-a-plugin'];

describe('danube-connect plugins', () => {
  test('lists the plugins found with version, kind, sdk range and whether they are usable', async () => {
    const p = tempProject({ 'host.toml': '' }, FIXTURES);
    const result = await runCli(['plugins', 'host.toml'], p.dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatchInlineSnapshot(`
      "NAME                        VERSION       KIND    SDK      COMPATIBLE  PATH
      @fixtures/bad-manifest      1.0.0         ?       ?        no          <fixtures>/bad-manifest
      @fixtures/broken-schema     1.0.0         sink    ^0.1.0   no          <fixtures>/broken-schema
      @fixtures/incompatible-sdk  2.0.0         source  ^9.0.0   no (sdk)    <fixtures>/incompatible-sdk
      @fixtures/missing-entry     1.0.0         source  ^0.1.0   no          <fixtures>/missing-entry
      @fixtures/mqtt-like-source  1.2.0         source  ^0.1.0   yes         <fixtures>/mqtt-like-source
      @fixtures/plain-sink        0.3.0-beta.1  sink    >=0.1.0  yes         <fixtures>/plain-sink

      problems (this host runs @danube-connect/sdk@0.1.0):
        @fixtures/bad-manifest@1.0.0 has an invalid "danube-connect" manifest in <fixtures>/bad-manifest/package.json: sdk is required; schema is not a known key; expected one of: kind, entry, configSchema, sdk, endpoints; kind must be one of "source", "sink"
        @fixtures/broken-schema@1.0.0: configSchema "./schema.json" does not compile: schema is invalid: data/properties/port/type must be equal to one of the allowed values, data/properties/port/type must be array, data/properties/port/type must match a schema in anyOf
        @fixtures/incompatible-sdk@2.0.0 requires @danube-connect/sdk ^9.0.0, but this host runs @danube-connect/sdk@0.1.0 (the host's range: ^0.1.0); install a plugin version built for it
        @fixtures/missing-entry@1.0.0: entry "./dist/index.js" does not exist (<fixtures>/missing-entry/dist/index.js); is the package built?
      "
    `);
  });

  test('--dir searches from a folder; a nearer copy shadows one further up; --json', async () => {
    const p = tempProject();
    writePlugin(p, '.', 'dup', { kind: 'sink', entry: './index.js', sdk: '*' });
    writePlugin(p, 'app', 'dup', { kind: 'sink', entry: './index.js', sdk: '*' });
    const result = await runCli(['plugins', '--dir', 'app', '--json'], p.dir);
    expect(result.code).toBe(0);
    const listed = (JSON.parse(result.stdout) as { plugins: { name: string; dir: string; shadowed: boolean; compatible: boolean }[] }).plugins.filter(
      (x) => x.name === 'dup',
    );
    expect(listed.map(({ dir, shadowed, compatible }) => ({ dir, shadowed, compatible }))).toEqual([
      { dir: '<dir>/app/node_modules/dup', shadowed: false, compatible: true },
      { dir: '<dir>/node_modules/dup', shadowed: true, compatible: false },
    ]);
  });

  test('the built CLI lists the fixtures too', () => {
    const p = tempProject({}, ['mqtt-like-source']);
    const result = runBuiltCli(['plugins', '--dir', '.'], p.dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('@fixtures/mqtt-like-source  1.2.0    source  ^0.1.0  yes         <fixtures>/mqtt-like-source');
  });

  test('plugins host.toml lists the plugins host.toml gives as folder paths too', async () => {
    const p = tempProject({ 'host.toml': `[[connectors]]\nname = "local"\nplugin = "./plugins/local-source"\n` });
    p.write('plugins/local-source/package.json', JSON.stringify({ name: 'local-source', version: '0.0.1', type: 'module', 'danube-connect': { kind: 'source', entry: './index.js', sdk: '*' } }));
    p.write('plugins/local-source/index.js', 'export default {};\n');
    const result = await runCli(['plugins', 'host.toml'], p.dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('NAME          VERSION  KIND    SDK  COMPATIBLE  PATH\nlocal-source  0.0.1    source  *    yes         <dir>/plugins/local-source\n');
  });

  test('bad usage exits 64', async () => {
    const p = tempProject();
    expect((await runCli(['plugins', 'a.toml', '--dir', 'x'], p.dir)).code).toBe(64);
    expect((await runCli(['plugins', '--nope'], p.dir)).code).toBe(64);
  });
});
