import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBroker, unusedLoopbackPort } from '@danube-connect/testing';
import mqtt from 'mqtt';
// @ts-expect-error: a plain JS script without types
import { packAll as untypedPackAll } from '../scripts/pack.js';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { execForm, mountOf, pairsOf, parseDockerfile, splitFlags, substitute, type Instruction } from './support/dockerfile.js';
import { startMosquitto } from './support/plugin-harness.js';

// The Docker image without Docker (no base image can be pulled where the tests run): the Dockerfile's own RUN,
// ENV, USER, WORKDIR, HEALTHCHECK, ENTRYPOINT and CMD lines, read from the file and run as written, with the
// container's paths mapped into a temporary folder (bind mounts to what they mount, every other absolute path
// under a fake root). So the image's install step (docker/install.mjs) and health check (docker/healthcheck.mjs)
// are what this test runs, and a Dockerfile that stops calling them, or calls them differently, fails here.
const packAll = untypedPackAll as (destination: string) => Map<string, string>;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOCKERFILE = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
/** Where host.toml is mounted in the container (README "Containers and Kubernetes"). */
const CONFIG = '/config/host.toml';

const only = (keyword: string, stage: number): Instruction => {
  const found = DOCKERFILE.filter((i) => i.keyword === keyword && i.stage === stage);
  expect(found, `${keyword} lines in stage ${stage}`).toHaveLength(1);
  return found[0] as Instruction;
};

let dir: string;
/** The build stage's output folder (its `npm run pack -- <folder>`), packed here with the same function. */
let packs: string;
/** Container path → local path, longest first: the runtime RUN's bind mounts. */
let mounts: [string, string][] = [];
/** The container's file system for every path no mount covers. */
let rootfs: string;

/** A container path as a local one. */
function local(path: string): string {
  for (const [target, source] of mounts) if (path === target || path.startsWith(`${target}/`)) return `${source}${path.slice(target.length)}`;
  return join(rootfs, path);
}
/** Every absolute path in a shell command line or a PATH-like value, mapped. */
const mapText = (text: string) => text.replace(/(^|[\s:=])(\/[^\s:]*)/g, (_m, lead: string, path: string) => `${lead}${local(path)}`);
const mapArgv = (argv: string[]) => argv.map((arg) => (arg.startsWith('/') ? local(arg) : arg));

/** What `docker run` gives the container's processes: the image's ENV (over the base image's PATH), USER, WORKDIR. */
interface Runtime {
  env: NodeJS.ProcessEnv;
  uid: number;
  gid: number;
  cwd: string;
}
let runtime: Runtime;
let entrypoint: string[];
let healthcheck: string[];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dc-container-'));
  chmodSync(dir, 0o755); // mkdtemp makes it 0700: the image's user must reach what is installed inside
  rootfs = join(dir, 'rootfs');
  mkdirSync(rootfs);

  const stages = DOCKERFILE.filter((i) => i.keyword === 'FROM').map((i) => i.args);
  expect(stages, 'a build stage and the runtime stage').toEqual(['${NODE_IMAGE} AS build', '${NODE_IMAGE}']);
  const args = (stage: number) => Object.assign({}, ...DOCKERFILE.filter((i) => i.keyword === 'ARG' && (i.stage === -1 || i.stage === stage)).map((i) => pairsOf(i.args))) as Record<string, string>;
  expect(args(0).NODE_IMAGE).toMatch(/^node:20-slim$/);

  // Build stage: its one RUN ends with the packed tarballs in a folder, as `npm run pack -- <folder>` writes them.
  const build = only('RUN', 0).args;
  expect(build).toBe('npm ci --no-audit --no-fund && npm run build && npm run pack -- /packs');
  expect((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.pack).toBe('node scripts/pack.js');
  packs = join(dir, 'packs');
  packAll(packs);

  // Runtime stage: the install RUN, with its bind mounts mapped to what they mount.
  const { flags, rest } = splitFlags(only('RUN', 1).args);
  for (const mount of flags.map(mountOf)) {
    if (!mount || mount.type === 'cache') continue;
    expect(mount.type).toBe('bind');
    if (mount.from === 'build') {
      expect(mount.source, 'the build stage\'s pack folder').toBe('/packs');
      mounts.push([mount.target as string, packs]);
    } else {
      mounts.push([mount.target as string, join(ROOT, mount.source as string)]);
    }
  }
  mounts = mounts.sort((a, b) => b[0].length - a[0].length);
  const install = mapText(substitute(rest, args(1)));
  expect(install.split(/\s+/).slice(0, 2), 'the RUN calls docker/install.mjs').toEqual(['node', join(ROOT, 'docker/install.mjs')]);
  execFileSync('sh', ['-c', install], { cwd: dir, stdio: 'pipe', encoding: 'utf8' }); // as root, like a build step

  const image = Object.assign({}, ...DOCKERFILE.filter((i) => i.keyword === 'ENV' && i.stage === 1).map((i) => pairsOf(i.args))) as Record<string, string>;
  const env: NodeJS.ProcessEnv = { HOME: '/', HOSTNAME: 'danube-connect-0' }; // HOME: what Docker sets for a uid without a passwd entry
  for (const [name, value] of Object.entries(image)) env[name] = substitute(mapText(value), { PATH: process.env.PATH });
  const user = /^(\d+):(\d+)$/.exec(only('USER', 1).args);
  expect(user, 'USER by number (uid:gid), so runAsNonRoot can check it').not.toBeNull();
  runtime = { env, uid: Number(user?.[1]), gid: Number(user?.[2]), cwd: local(only('WORKDIR', 1).args) };
  expect(runtime.uid).toBeGreaterThan(0);
  mkdirSync(runtime.cwd, { recursive: true });

  entrypoint = mapArgv([...execForm(only('ENTRYPOINT', 1).args), ...execForm(only('CMD', 1).args)]);
  const health = splitFlags(only('HEALTHCHECK', 1).args);
  expect(health.rest.startsWith('CMD ')).toBe(true);
  expect(health.flags).toContain('--timeout=5s'); // docker/healthcheck.mjs gives up after 4 s, saying why
  healthcheck = mapArgv(execForm(health.rest.slice('CMD '.length)));
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a command as the image's user, in its environment and working folder (asynchronously: the case's own servers must answer meanwhile). */
function asImageUser(argv: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { ...runtime, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** The real uid of a running process (the first of /proc/<pid>/status's four Uid fields). */
const uidOf = (pid: number) => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

describe('the Dockerfile', () => {
  it('runs `danube-connect run /config/host.toml` and its HEALTHCHECK on the installed healthcheck.mjs', () => {
    expect(entrypoint).toEqual([local('/opt/danube-connect/node_modules/.bin/danube-connect'), 'run', local(CONFIG)]);
    expect(healthcheck).toEqual(['node', local('/opt/danube-connect/healthcheck.mjs'), local(CONFIG)]);
    expect(runtime.env.PATH?.split(':')[0]).toBe(local('/opt/danube-connect/node_modules/.bin'));
  });

  it('installs the host and the MQTT plugins for production: no test kit, no dev tools, the health check beside them', () => {
    const prefix = local('/opt/danube-connect');
    expect(existsSync(join(prefix, 'healthcheck.mjs'))).toBe(true);
    const ours = [...readdirSync(join(prefix, 'node_modules/@danube-connect')).map((n) => `@danube-connect/${n}`), ...readdirSync(join(prefix, 'node_modules/@danube-plugin')).map((n) => `@danube-plugin/${n}`)];
    expect(ours.sort()).toEqual(['@danube-connect/host', '@danube-connect/mqtt', '@danube-connect/sdk', '@danube-plugin/sink-mqtt', '@danube-plugin/source-mqtt']);
    for (const dev of ['vitest', 'typescript', 'aedes', 'pino-pretty']) expect(existsSync(join(prefix, 'node_modules', dev)), `${dev} in the image`).toBe(false);
  });

  it('install.mjs refuses a folder that is not empty, and a plugin it has no tarball of', () => {
    const used = local('/opt/danube-connect');
    const refused = spawnSync(process.execPath, [join(ROOT, 'docker/install.mjs'), packs, used], { encoding: 'utf8' });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe(`install.mjs: ${used} is not empty: install into a clean folder\n`);
    const missing = spawnSync(process.execPath, [join(ROOT, 'docker/install.mjs'), packs, join(dir, 'other'), '@danube-plugin/nope'], { encoding: 'utf8' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^install\.mjs: no tarball of @danube-plugin\/nope in .*; found: @danube-connect\/host, /);
  });
});

describe('the installed image, run as its non-root user', () => {
  it('moves MQTT messages into Danube with a client id from HOSTNAME; the HEALTHCHECK passes while it runs and fails once it stopped', async () => {
    expect((await asImageUser(['id', '-u'])).stdout.trim()).toBe(String(runtime.uid));
    const [broker, mosquitto, httpPort] = await Promise.all([TestBroker.start(), startMosquitto(), unusedLoopbackPort()]);
    onTestFinished(() => broker.stop());
    const config = local(CONFIG);
    writeFileSync(
      config,
      [
        '[host]',
        `http = "127.0.0.1:${httpPort}"`,
        '[danube]',
        `service_url = "${broker.serviceUrl}"`,
        '[[connectors]]',
        'name = "iot-sensors"',
        'plugin = "@danube-plugin/source-mqtt"',
        '[connectors.config]',
        `url = "${mosquitto.url}"`,
        'client_id = "iot-${HOSTNAME}"',
        '[[connectors.config.routes]]',
        'from = "sensors/+/temperature"',
        'to = "/default/temperature"',
        '',
      ].join('\n'),
    );
    chmodSync(config, 0o644);

    const host = spawn(entrypoint[0] as string, entrypoint.slice(1), { ...runtime, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const waiters = new Set<() => void>();
    const onOutput = (chunk: Buffer) => {
      out += chunk.toString();
      for (const wake of [...waiters]) wake();
    };
    host.stdout.on('data', onOutput);
    host.stderr.on('data', onOutput);
    const exit = new Promise<number | null>((resolve) => host.once('exit', resolve));
    onTestFinished(() => {
      if (host.exitCode === null && host.signalCode === null) host.kill('SIGKILL');
    });
    /** Resolves once the host's output contains `text` (checked on every chunk); fails if the host exits first. */
    const logged = (text: string) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (out.includes(text)) {
            waiters.delete(check);
            resolve();
          }
        };
        waiters.add(check);
        check();
        void exit.then((code) => reject(new Error(`the host exited (${code}) before it logged ${text}:\n${out}`)));
      });

    await logged('"msg":"MQTT subscribed"');
    expect(mosquitto.log).toContain(' as iot-danube-connect-0 ');
    const publisher = await mqtt.connectAsync(mosquitto.url, { clientId: `publisher-${Date.now()}` });
    onTestFinished(() => publisher.endAsync());
    for (const reading of ['21.5', '21.7', '22.0']) await publisher.publishAsync('sensors/s1/temperature', reading, { qos: 1 });
    await vi.waitFor(() => expect(broker.storedMessages('/default/temperature').map((m) => m.payload.toString()), out).toEqual(['21.5', '21.7', '22.0']), { timeout: 30_000, interval: 100 });

    const { connectors } = (await (await fetch(`http://127.0.0.1:${httpPort}/connectors`)).json()) as { connectors: { pid: number }[] };
    for (const pid of [host.pid as number, ...connectors.map((c) => c.pid)]) expect(uidOf(pid), `uid of process ${pid}`).toBe(runtime.uid);

    const healthy = await asImageUser(healthcheck);
    expect(healthy.stderr).toBe('');
    expect(healthy.status).toBe(0);

    host.kill('SIGTERM'); // docker stop
    expect(await exit, out).toBe(0);
    const down = await asImageUser(healthcheck);
    expect(down.status).toBe(1);
    expect(down.stderr).toBe(`unhealthy: http://127.0.0.1:${httpPort}/healthz: ECONNREFUSED connect ECONNREFUSED 127.0.0.1:${httpPort}\n`);
  });

  it('the HEALTHCHECK dials an unspecified bind address (0.0.0.0) on loopback, and fails on an answer other than 200', async () => {
    const { createServer } = await import('node:http');
    let status = 200;
    const paths: string[] = [];
    const server = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(status).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as { port: number }).port;
    const config = local(CONFIG);
    writeFileSync(config, `[host]\nhttp = "0.0.0.0:${port}"\n`);
    chmodSync(config, 0o644);
    expect((await asImageUser(healthcheck)).status).toBe(0);
    status = 503;
    const failing = await asImageUser(healthcheck);
    expect(failing.status).toBe(1);
    expect(failing.stderr).toBe(`unhealthy: http://127.0.0.1:${port}/healthz answered 503\n`);
    expect(paths).toEqual(['/healthz', '/healthz']);
  });
});

describe('an image built FROM this one', () => {
  it('adds a plugin with `npm i` in /opt/danube-connect, without the build\'s tarballs, and keeps what was installed', async () => {
    const prefix = local('/opt/danube-connect');
    const manifest = JSON.parse(readFileSync(join(prefix, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const [name, spec] of Object.entries(manifest.dependencies)) expect(spec, name).toMatch(/^file:packs\/[\w.-]+\.tgz$/);
    const plugin = join(dir, 'extra');
    mkdirSync(plugin);
    execFileSync('npm', ['pack', '--pack-destination', plugin, join(ROOT, 'test/fixtures/published-plugin'), '--loglevel=error'], { stdio: 'pipe' });
    const tarball = join(plugin, readdirSync(plugin)[0] as string);
    // The README's recipe (`USER root`, then `RUN cd /opt/danube-connect && npm i --omit=dev <plugin>`), with the
    // build stage's tarballs gone as they are in the image.
    const moved = `${packs}.gone`;
    renameSync(packs, moved);
    try {
      execFileSync('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: prefix, stdio: 'pipe' });
    } finally {
      renameSync(moved, packs);
    }
    const listed = await asImageUser([entrypoint[0] as string, 'plugins', '--json']);
    expect(listed.status, listed.stderr).toBe(0);
    const { plugins } = JSON.parse(listed.stdout) as { plugins: { name: string; compatible: boolean }[] };
    expect(plugins.filter((p) => p.compatible).map((p) => p.name).sort()).toEqual(['@danube-plugin/sink-mqtt', '@danube-plugin/source-mqtt', '@fixtures/published-plugin']);
  });
});
