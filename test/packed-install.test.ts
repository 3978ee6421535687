import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBroker } from '@danube-connect/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// What users get: the packed tarballs of the sdk, the host and a plugin installed together in one `npm i` in an
// empty folder (our packages are not on the registry yet), then the installed `danube-connect` binary. Proves the
// tarballs carry what they need at run time (dist, .proto files, schemas, the connector child).
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PLUGIN = join(ROOT, 'sdk/test/fixtures/plugins/example-file-source');
const npm = (args: string[], cwd: string) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, stdio: 'pipe', encoding: 'utf8' });

describe('packed tarballs installed with npm i', () => {
  let dir: string;
  let bin: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dc-packed-'));
    const packs = join(dir, 'packs');
    mkdirSync(packs);
    npm(['pack', '--pack-destination', packs, '-w', 'sdk', '-w', 'host'], ROOT);
    npm(['pack', '--pack-destination', packs, PLUGIN], ROOT);
    const tarballs = readdirSync(packs).map((f) => join(packs, f));
    expect(tarballs).toHaveLength(3);
    const app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    npm(['install', ...tarballs], app);
    bin = join(app, 'node_modules/.bin/danube-connect');
  }, 240_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('carries the .proto files, the schemas and the connector child', () => {
    const modules = join(dir, 'app/node_modules/@danube-connect');
    for (const file of ['sdk/proto/DanubeApi.proto', 'sdk/proto/SchemaRegistry.proto', 'sdk/proto/DanubeAdmin.proto', 'sdk/dist/plugin/child.js', 'sdk/dist/testing/conformance.js', 'host/schemas/host.schema.json', 'host/schemas/plugin-manifest.schema.json', 'host/dist/cli.js']) {
      expect(existsSync(join(modules, file)), file).toBe(true);
    }
  });

  it('the installed danube-connect validates, lists plugins and runs a connector into Danube', async () => {
    const broker = await TestBroker.start();
    try {
      const app = join(dir, 'app');
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
});
