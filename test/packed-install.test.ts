import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBroker, unusedLoopbackUrl } from '@danube-connect/testing';
// @ts-expect-error: a plain JS script without types
import { packAll as untypedPackAll } from '../scripts/pack.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// What users get: the packed tarballs of our packages installed with `npm i` in empty folders (our packages are not
// on the registry yet), then the installed `danube-connect` binary. Proves the tarballs carry what they need at run
// time (dist, .proto files, schemas, the connector child), and that the test kit stays out of production installs.
const packAll = untypedPackAll as (destination: string) => Map<string, string>;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PLUGIN = join(ROOT, 'sdk/test/fixtures/plugins/example-file-source');
/** A plugin as published: depends on @danube-connect/sdk only (the kit and vitest are its devDependencies). */
const PUBLISHED_PLUGIN = join(ROOT, 'test/fixtures/published-plugin');
const npm = (args: string[], cwd: string) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, stdio: 'pipe', encoding: 'utf8' });

let dir: string;
/** Tarball paths by package name. */
const tarballs = new Map<string, string>();

/** A fresh folder holding a private package.json, the `tarballs` (by package name) installed with `npm i …args`. */
function install(name: string, packages: string[], args: string[] = []): string {
  const app = join(dir, name);
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  npm(['install', ...args, ...packages.map((p) => tarballs.get(p) ?? p)], app);
  return app;
}

/** Every package name in an installed node_modules tree, nested ones included. */
function installedPackages(modules: string): string[] {
  if (!existsSync(modules)) return [];
  return readdirSync(modules, { withFileTypes: true }).flatMap((entry) => {
    if (!entry.isDirectory() || entry.name.startsWith('.')) return [];
    if (entry.name.startsWith('@')) return readdirSync(join(modules, entry.name)).flatMap((sub) => [`${entry.name}/${sub}`, ...installedPackages(join(modules, entry.name, sub, 'node_modules'))]);
    return [entry.name, ...installedPackages(join(modules, entry.name, 'node_modules'))];
  });
}

/** Runs `code` as an ES module in `app` (so bare imports resolve from its node_modules); stdout, or the failure. */
function runModule(app: string, code: string): { ok: boolean; output: string } {
  const file = join(app, `run-${Date.now()}.mjs`);
  writeFileSync(file, code);
  try {
    return { ok: true, output: execFileSync(process.execPath, [file], { cwd: app, encoding: 'utf8', stdio: 'pipe' }) };
  } catch (err) {
    const failed = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dc-packed-'));
  const packs = join(dir, 'packs');
  mkdirSync(packs);
  for (const [name, file] of packAll(packs)) tarballs.set(name, file);
  npm(['pack', '--pack-destination', packs, PLUGIN, PUBLISHED_PLUGIN], ROOT);
  for (const file of readdirSync(packs).filter((f) => f.startsWith('fixtures-'))) {
    tarballs.set(file.replace(/-\d+\.\d+\.\d+\.tgz$/, '').replace(/^fixtures-/, '@fixtures/'), join(packs, file));
  }
  expect([...tarballs.keys()].sort()).toEqual(['@danube-connect/host', '@danube-connect/mqtt', '@danube-connect/sdk', '@danube-connect/testing', '@danube-plugin/sink-mqtt', '@danube-plugin/source-mqtt', '@fixtures/example-file-source', '@fixtures/published-plugin']);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('packed tarballs installed with npm i', () => {
  let app: string;
  let bin: string;

  beforeAll(() => {
    app = install('app', ['@danube-connect/sdk', '@danube-connect/testing', '@danube-connect/host', '@fixtures/example-file-source']);
    bin = join(app, 'node_modules/.bin/danube-connect');
  }, 240_000);

  it('carries the .proto files, the schemas and the connector child', () => {
    const modules = join(app, 'node_modules/@danube-connect');
    for (const file of ['sdk/proto/DanubeApi.proto', 'sdk/proto/SchemaRegistry.proto', 'sdk/proto/DanubeAdmin.proto', 'sdk/dist/plugin/child.js', 'testing/dist/conformance.js', 'testing/dist/cli.js', 'host/schemas/host.schema.json', 'host/schemas/plugin-manifest.schema.json', 'host/dist/cli.js']) {
      expect(existsSync(join(modules, file)), file).toBe(true);
    }
  });

  it('the installed danube-connect validates, lists plugins and runs a connector into Danube', async () => {
    const broker = await TestBroker.start();
    try {
      const toml = join(app, 'host.toml');
      writeFileSync(
        toml,
        `[host]\nhttp = "127.0.0.1:0"\n[danube]\nservice_url = "${broker.serviceUrl}"\n[[connectors]]\nname = "files"\nplugin = "@fixtures/example-file-source"\n[connectors.config]\npath = "${join(app, 'in.txt')}"\ntopic = "/default/packed"\nstate_file = "${join(app, 'offset')}"\n`,
      );
      expect(execFileSync(bin, ['validate', toml], { encoding: 'utf8' })).toContain('ok: 1 connector');
      expect(execFileSync(bin, ['plugins', toml], { encoding: 'utf8' })).toContain('@fixtures/example-file-source');
      const host = spawn(bin, ['run', toml], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      host.stdout.on('data', (c: Buffer) => (out += c.toString()));
      host.stderr.on('data', (c: Buffer) => (out += c.toString()));
      const exit = new Promise<number | null>((resolve) => host.once('exit', resolve));
      try {
        appendFileSync(join(app, 'in.txt'), 'one\ntwo\n');
        await vi.waitFor(() => expect(broker.storedMessages('/default/packed').map((m) => m.payload.toString()), out).toEqual(['one', 'two']), { timeout: 30_000, interval: 100 });
        // What a service manager does: SIGTERM to the installed bin's process (node itself, unlike `npx`, which does
        // not forward signals) stops the host and every child.
        const http = (out.split('\n').find((l) => l.includes('"danube-connect running"')) ?? '').match(/"http":"([^"]+)"/)?.[1];
        const { connectors } = (await (await fetch(`http://${http}/connectors`)).json()) as { connectors: { pid: number }[] };
        host.kill('SIGTERM');
        expect(await exit).toBe(0);
        for (const { pid } of connectors) expect(() => process.kill(pid, 0), `child ${pid} outlived the host`).toThrow();
      } finally {
        if (host.exitCode === null) host.kill('SIGKILL');
      }
    } finally {
      await broker.stop();
    }
  });

  it('the host loads the installed test kit lazily (what `danube-connect dev` runs against)', () => {
    const run = runModule(app, `import { loadTestingKit } from '@danube-connect/host';
const { TestBroker } = await loadTestingKit();
const broker = await TestBroker.start();
console.log(broker.serviceUrl);
await broker.stop();
`);
    expect(run.output).toMatch(/^http:\/\/127\.0\.0\.1:\d+\n$/);
    expect(run.ok).toBe(true);
    expect(existsSync(join(app, 'node_modules/.bin/danube-test-broker')), 'the TestBroker CLI bin').toBe(true);
  });
});

describe('production installs', () => {
  it('a host installed without the test kit says how to install it when the kit is needed', async () => {
    const app = install('host-only', ['@danube-connect/sdk', '@danube-connect/host']);
    expect(installedPackages(join(app, 'node_modules'))).not.toContain('@danube-connect/testing');
    const run = runModule(app, `import { loadTestingKit } from '@danube-connect/host';
await loadTestingKit().then(() => console.log('loaded'), (err) => console.log(err.message));
`);
    expect(run.output).toBe('install @danube-connect/testing (npm i -D @danube-connect/testing) to use danube-connect dev\n');

    // `danube-connect dev` with neither broker running: it would embed both, and names both packages to install.
    mkdirSync(join(app, 'mqtt-plugin'));
    writeFileSync(join(app, 'mqtt-plugin/package.json'), JSON.stringify({ name: 'mqtt-plugin', version: '1.0.0', type: 'module', 'danube-connect': { kind: 'source', entry: './index.js', sdk: '^0.1.0' } }));
    writeFileSync(join(app, 'mqtt-plugin/index.js'), 'export default {};\n');
    const toml = join(app, 'host.toml');
    writeFileSync(toml, `[host]\nhttp = "127.0.0.1:0"\n[danube]\nservice_url = "${await unusedLoopbackUrl()}"\n[[connectors]]\nname = "m"\nplugin = "./mqtt-plugin"\n[connectors.config]\nurl = "${(await unusedLoopbackUrl()).replace('http:', 'mqtt:')}"\n`);
    const dev = spawnSync(join(app, 'node_modules/.bin/danube-connect'), ['dev', toml], { encoding: 'utf8', env: { ...process.env, DANUBE_SERVICE_URL: '' } });
    expect(dev.stderr).toBe(
      'danube-connect dev: install @danube-connect/testing (npm i -D @danube-connect/testing) to use danube-connect dev\n' +
        'danube-connect dev: install aedes (npm i -D aedes@1) to use the MQTT broker danube-connect dev embeds\n',
    );
    expect(dev.status).toBe(1);
  }, 240_000);

  it('npm i --omit=dev of a packed plugin carries no test-kit dependency', () => {
    const app = install('plugin-prod', ['@danube-connect/sdk', '@fixtures/published-plugin'], ['--omit=dev']);
    const installed = installedPackages(join(app, 'node_modules'));
    expect(installed).toContain('@fixtures/published-plugin');
    expect(installed).toContain('@danube-connect/sdk');
    expect(installed).toContain('@grpc/grpc-js');
    for (const kit of ['@danube-connect/testing', 'jose', 'ajv', 'vitest']) expect(installed, `${kit} in a plugin's production install`).not.toContain(kit);
  }, 240_000);

  it("source-mqtt's bin danube-source-mqtt-migrate is installed and runs from a production install", () => {
    const app = install('migrate-prod', ['@danube-connect/sdk', '@danube-connect/mqtt', '@danube-plugin/source-mqtt'], ['--omit=dev']);
    writeFileSync(join(app, 'connector.toml'), 'danube_service_url = "http://danube:6650"\nconnector_name = "plant"\n[mqtt]\nbroker_host = "broker"\nclient_id = "c1"\n[[mqtt.routes]]\nfrom = "a/#"\nto = "/iot/a"\n');
    const printed = execFileSync(join(app, 'node_modules/.bin/danube-source-mqtt-migrate'), ['connector.toml'], { cwd: app, encoding: 'utf8', stdio: 'pipe' });
    expect(printed).toContain('[connectors.config]\nurl = "mqtt://broker:1883"\nclient_id = "c1"\n');
  }, 240_000);
});

describe("the README's install from this repository", () => {
  it('npm run pack && npm i --prefix <project> "$PWD"/packs/*.tgz installs every package into another project', () => {
    // The README's one line; `npm ci && npm run build` before it are what this run already did (and a test must not
    // rebuild the dist/ other tests are running). It writes ./packs of this repository, as it does for a user.
    const line = readFileSync(join(ROOT, 'README.md'), 'utf8')
      .split('\n')
      .find((l) => l.includes('npm run pack && npm i --prefix'));
    const command = line?.match(/^npm ci && npm run build && (npm run pack && npm i --prefix \.\.\/my-app "\$PWD"\/packs\/\*\.tgz)$/)?.[1];
    expect(command, `the README's install line: ${line}`).toBeDefined();
    const app = join(dir, 'my-app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'my-app', private: true }));
    execFileSync('sh', ['-c', (command as string).replace('../my-app', app)], { cwd: ROOT, stdio: 'pipe', env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } });

    const { dependencies } = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(dependencies).sort()).toEqual(['@danube-connect/host', '@danube-connect/mqtt', '@danube-connect/sdk', '@danube-connect/testing', '@danube-plugin/sink-mqtt', '@danube-plugin/source-mqtt']);
    for (const spec of Object.values(dependencies)) expect(spec).toMatch(/^file:.*\/packs\/[a-z-]+-\d+\.\d+\.\d+\.tgz$/);
    const toml = join(app, 'host.toml');
    writeFileSync(toml, `[[connectors]]\nname = "sensors"\nplugin = "@danube-plugin/source-mqtt"\n[connectors.config]\nurl = "mqtt://127.0.0.1:1883"\n[[connectors.config.routes]]\nfrom = "sensors/#"\nto = "/default/sensors"\n`);
    expect(execFileSync(join(app, 'node_modules/.bin/danube-connect'), ['validate', toml], { encoding: 'utf8' })).toContain('ok: 1 connector');
  }, 240_000);
});
