import { execFile } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DanubeAdminClient } from '@danube-connect/sdk';
import { TestBroker } from '@danube-connect/testing';
// @ts-expect-error: a plain JS script without types
import { packAll as untypedPackAll } from '../scripts/pack.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CLI, connectors, runningLine, startHost, WAIT } from './host-process.js';

// What a plugin author does, with real processes from end to end: `danube-connect new-plugin` scaffolds a source
// and a sink into empty folders, each installs its dependencies (ours from the workspace tarballs, as long as they
// are not on the registry; third-party ones from the npm registry or its cache), builds, typechecks and runs its
// own tests (the conformance kit, all cases passing), and packs; the tarballs are installed next to the host and
// run by the installed `danube-connect run`: lines appended to a file reach Danube through the source, and the sink
// writes them from Danube to another file. Slow (installs and two conformance runs): one scaffold per kind.
const packAll = untypedPackAll as (destination: string) => Map<string, string>;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PLUGINS = { source: '@acme/danube-source-lines', sink: 'danube-sink-lines' } as const;
type Kind = keyof typeof PLUGINS;
/** Lines appended to the source's file once both connectors run. */
const LINES = 40;

// The parent's vitest variables would make a nested vitest believe it runs inside a worker.
const ENV = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST')));

/** Runs a command to its end; rejects with its output when it fails. */
function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env: ENV, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command} ${args.join(' ')} (in ${cwd}) failed: ${err.message}\n${stdout}\n${stderr}`.slice(-8_000)));
      else resolve(`${stdout}${stderr}`);
    });
  });
}
/** `npm <command> …args`, its own options after the command (so they stay before a `--` for the script). */
const npm = ([command, ...args]: string[], cwd: string, timeoutMs = 300_000) =>
  run('npm', [command as string, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...args], cwd, timeoutMs);

let dir: string;
/** Tarball paths by package name: the workspace's, then the scaffolded plugins'. */
const tarballs = new Map<string, string>();
const pluginDir = (kind: Kind) => join(dir, kind);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dc-new-plugin-'));
  for (const [name, file] of packAll(join(dir, 'packs'))) tarballs.set(name, file);
  for (const kind of ['source', 'sink'] as const) {
    const out = await run(process.execPath, [CLI, 'new-plugin', PLUGINS[kind], '--kind', kind, '--dir', pluginDir(kind)], dir, 30_000);
    expect(out).toContain(`created ${PLUGINS[kind]} (${kind}`);
  }
  // `--no-save`: the tarballs stand in for the registry's @danube-connect packages without changing package.json.
  const ours = [tarballs.get('@danube-connect/sdk'), tarballs.get('@danube-connect/testing')] as string[];
  await Promise.all((['source', 'sink'] as const).map((kind) => npm(['install', '--no-save', ...ours], pluginDir(kind))));
}, 600_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('danube-connect new-plugin, from scaffold to a running plugin', () => {
  it('each scaffolded plugin typechecks, builds and passes its own conformance kit', async () => {
    await Promise.all(
      (['source', 'sink'] as const).map(async (kind) => {
        await npm(['run', 'typecheck'], pluginDir(kind));
        // `npm test` = build, then `vitest run`; the JSON report says which cases ran and passed.
        await npm(['test', '--', '--reporter=json', '--outputFile=report.json'], pluginDir(kind), 480_000);
        const report = JSON.parse(readFileSync(join(pluginDir(kind), 'report.json'), 'utf8')) as { testResults: { assertionResults: { title: string; status: string }[] }[] };
        const cases = report.testResults.flatMap((file) => file.assertionResults);
        expect(cases.map((c) => c.title.split(':')[0]), kind).toEqual(['manifest', 'delivery', 'stop in flight', 'crash', 'danube outage', 'back-pressure', 'metrics']);
        expect(cases.filter((c) => c.status !== 'passed'), kind).toEqual([]);
        const schema = JSON.parse(readFileSync(join(pluginDir(kind), 'schema.json'), 'utf8')) as { title: string };
        expect(schema.title, 'schema.json written by the build from src/config-schema.ts').toBe(`${PLUGINS[kind]} config`);
      }),
    );
  }, 600_000);

  it('packs, installs next to the host from the tarballs, and runs under danube-connect run', async () => {
    for (const kind of ['source', 'sink'] as const) {
      const destination = join(dir, `packed-${kind}`);
      mkdirSync(destination);
      // A plain `npm pack`: its prepack script builds first, as it will for `npm publish`.
      await npm(['pack', '--pack-destination', destination], pluginDir(kind));
      const [file] = readdirSync(destination);
      tarballs.set(PLUGINS[kind], join(destination, file as string));
    }
    const app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
    await npm(['install', ...['@danube-connect/sdk', '@danube-connect/host', PLUGINS.source, PLUGINS.sink].map((name) => tarballs.get(name) as string)], app);

    // The installed host carries the templates: its new-plugin writes what the workspace's wrote.
    const again = join(dir, 'scaffold-again');
    await run(join(app, 'node_modules/.bin/danube-connect'), ['new-plugin', PLUGINS.sink, '--kind', 'sink', '--dir', again], dir, 30_000);
    const scaffolded = readdirSync(again, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name).slice(again.length + 1));
    expect(scaffolded.sort()).toEqual(['.gitignore', 'README.md', 'package.json', 'src/config-schema.ts', 'src/index.ts', 'test/conformance.test.ts', 'tsconfig.json', 'tsup.config.ts']);
    for (const file of scaffolded) expect(readFileSync(join(again, file), 'utf8'), file).toBe(readFileSync(join(pluginDir('sink'), file), 'utf8'));

    const broker = await TestBroker.start();
    const admin = new DanubeAdminClient({ adminUrl: broker.adminUrl });
    try {
      const topic = '/default/lines';
      broker.createTopic(topic, { dispatch: 'reliable' });
      const [input, output] = [join(app, 'in.txt'), join(app, 'out.txt')];
      const toml = join(app, 'host.toml');
      writeFileSync(
        toml,
        [
          '[host]',
          'http = "127.0.0.1:0"',
          '[danube]',
          `service_url = "${broker.serviceUrl}"`,
          '[[connectors]]',
          'name = "lines-in"',
          `plugin = "${PLUGINS.source}"`,
          '[connectors.config]',
          `path = "${input}"`,
          `topic = "${topic}"`,
          '[[connectors]]',
          'name = "lines-out"',
          `plugin = "${PLUGINS.sink}"`,
          '[connectors.config]',
          `path = "${output}"`,
          `topic = "${topic}"`,
          '',
        ].join('\n'),
      );
      const host = startHost(toml, { cli: join(app, 'node_modules/@danube-connect/host/dist/cli.js') });
      const { http } = await runningLine(host);
      await vi.waitFor(async () => expect((await connectors(http)).map((c) => `${c.name}:${c.state}`).sort(), host.output()).toEqual(['lines-in:running', 'lines-out:running']), WAIT);
      // The sink's new subscription starts at the topic's end: write only once it exists.
      await vi.waitFor(async () => expect(await admin.listSubscriptions(topic), host.output()).toContain('lines-out-file-sink'), WAIT);

      const lines = Array.from({ length: LINES }, (_, i) => `line ${i}`);
      appendFileSync(input, lines.map((line) => `${line}\n`).join(''));
      await vi.waitFor(() => expect(broker.storedMessages(topic).map((m) => m.payload.toString()), host.output()).toEqual(lines), WAIT);
      const written = () => readFileSync(output, 'utf8').split('\n').slice(0, -1);
      await vi.waitFor(() => expect(written(), host.output()).toEqual(lines), WAIT);
      // The source commits the byte offset after the last line once Danube has it (state_file: <path>.offset).
      const end = String(Buffer.byteLength(lines.map((line) => `${line}\n`).join('')));
      await vi.waitFor(() => expect(readFileSync(`${input}.offset`, 'utf8')).toBe(end), WAIT);

      host.process.kill('SIGTERM');
      expect(await host.exit, host.output()).toBe(0);
    } finally {
      admin.close();
      await broker.stop();
    }
  }, 600_000);
});
