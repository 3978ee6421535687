import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Consumer, DanubeMessage } from '@danube-connect/sdk';
import mqtt from 'mqtt';
import { runServer } from 'verdaccio';
// @ts-expect-error: a plain JS script without types
import { packAll as untypedPackAll } from '../scripts/pack.js';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { Arrivals, startDanube, startMosquitto, uniqueTopic, type Danube } from './support/plugin-harness.js';

// The registry story, end to end: a real npm registry (verdaccio) on a loopback port serves our two scopes and
// nothing else; every package of ours is published to it; an empty project whose .npmrc points only our scopes at
// it runs the README's `npm i` (third-party packages come from the usual registry), and the installed
// `danube-connect` moves MQTT messages into Danube, then stops on SIGTERM with exit 0.
const packAll = untypedPackAll as (destination: string) => Map<string, string>;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCOPES = ['@danube-connect', '@danube-plugin'];
/** The README's install line, run as written. */
const README_INSTALL = 'npm i @danube-connect/host @danube-plugin/source-mqtt';
const MESSAGES = 50;
const exec = promisify(execFile);

let dir: string;
let registry: Server;
let registryUrl: string;
const published: string[] = [];

/** Verdaccio in this process (so no port has to be guessed: it listens on port 0), storage and users in `folder`. */
async function startRegistry(folder: string): Promise<Server> {
  const server = (await runServer({
    self_path: join(folder, 'config.yaml'),
    storage: join(folder, 'storage'),
    auth: { htpasswd: { file: join(folder, 'htpasswd'), max_users: 1 } },
    // No uplinks: our scopes are served from this registry's storage only, and any other name is refused here.
    uplinks: {},
    packages: Object.fromEntries(SCOPES.map((scope) => [`${scope}/*`, { access: '$all', publish: '$authenticated' }])),
    log: { type: 'stdout', format: 'json', level: 'error' },
    web: { enable: false },
  } satisfies Parameters<typeof runServer>[0])) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return server;
}

/** `npm publish` of every tarball, as a user created through the registry's API; its token only in a temp userconfig. */
async function publishAll(tarballs: Map<string, string>): Promise<void> {
  const user = `publisher-${process.pid}`;
  const created = await fetch(`${registryUrl}-/user/org.couchdb.user:${user}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: user, password: `pw-${Math.random().toString(36).slice(2)}` }),
  });
  expect(created.status).toBe(201);
  const { token } = (await created.json()) as { token: string };
  const userconfig = join(dir, 'publisher.npmrc');
  writeFileSync(userconfig, [...SCOPES.map((s) => `${s}:registry=${registryUrl}`), `${registryUrl.replace(/^http:/, '')}:_authToken=${token}`, ''].join('\n'));
  // Asynchronously: the registry answers from this very process.
  await Promise.all(
    [...tarballs].map(async ([name, file]) => {
      await exec('npm', ['publish', file, '--userconfig', userconfig, '--loglevel=error'], { cwd: dir });
      published.push(name);
    }),
  );
}

/** What reached a Danube topic, in arrival order (a reliable exclusive subscription made before the host starts). */
class DanubeTap extends Arrivals<DanubeMessage> {
  private constructor(private readonly consumer: Consumer) {
    super((m) => m.payload.toString('utf8'));
  }

  static async open(danube: Danube, topic: string): Promise<DanubeTap> {
    // Create the topic as source-mqtt will (QoS 1 → reliable), so the subscription exists before the first message.
    const producer = await danube.client.createProducer({ topic, name: 'registry-tap', dispatch: 'reliable' });
    await producer.close();
    const tap = new DanubeTap(await danube.client.subscribe({ topic, name: 'registry-tap', subscription: 'registry-tap', type: 'exclusive' }));
    void tap.drain();
    return tap;
  }

  private async drain(): Promise<void> {
    for (;;) {
      let message: DanubeMessage;
      try {
        message = await this.consumer.receive();
      } catch {
        return; // the client closed at the end of the case
      }
      this.arrive(message);
      this.consumer.ack(message).catch(() => {});
    }
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dc-registry-'));
  const tarballs = packAll(join(dir, 'packs'));
  mkdirSync(join(dir, 'registry'));
  registry = await startRegistry(join(dir, 'registry'));
  registryUrl = `http://127.0.0.1:${(registry.address() as AddressInfo).port}/`;
  await publishAll(tarballs);
}, 120_000);

afterAll(async () => {
  await new Promise((resolve) => (registry ? registry.close(resolve) : resolve(undefined)));
  rmSync(dir, { recursive: true, force: true });
});

describe('npm i from a registry that serves our scopes', () => {
  it("is the README's route: its install line and the project .npmrc lines this test writes", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(`\n${README_INSTALL}\n`);
    for (const scope of SCOPES) expect(readme).toMatch(new RegExp(`^${scope}:registry=https://npm\\.example\\.internal/$`, 'm'));
  });

  it('publishes every package of ours; the registry serves nothing else', async () => {
    expect(published.sort()).toEqual(['@danube-connect/host', '@danube-connect/mqtt', '@danube-connect/sdk', '@danube-connect/testing', '@danube-plugin/sink-mqtt', '@danube-plugin/source-mqtt']);
    const sdk = (await (await fetch(`${registryUrl}@danube-connect%2fsdk`)).json()) as { 'dist-tags': Record<string, string> };
    expect(sdk['dist-tags'].latest).toBe(JSON.parse(readFileSync(join(ROOT, 'sdk/package.json'), 'utf8')).version);
    expect((await fetch(`${registryUrl}mqtt`)).status, 'a third-party package from our registry').not.toBe(200);
  });

  it(`\`${README_INSTALL}\` in an empty project, then the installed danube-connect moves MQTT messages into Danube`, async () => {
    const app = join(dir, 'my-app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'my-app', private: true }));
    // What a user with a private registry writes: only our scopes go there, everything else to the usual registry.
    writeFileSync(join(app, '.npmrc'), SCOPES.map((scope) => `${scope}:registry=${registryUrl}\n`).join(''));
    const [command, ...args] = README_INSTALL.split(' ') as [string, ...string[]];
    // The command as the README has it; through the environment, no audit or funding requests, and `resolved` kept
    // in the lockfile (a user config may omit it) to show where each package came from.
    const env = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_loglevel: 'error', npm_config_omit_lockfile_registry_resolved: 'false' };
    await exec(command, args, { cwd: app, env });

    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as { packages: Record<string, { resolved?: string; link?: boolean }> };
    const resolved = Object.entries(lock.packages).filter(([path]) => path !== '');
    const ours = resolved.filter(([path]) => SCOPES.some((scope) => path.includes(`node_modules/${scope}/`)));
    expect(ours.map(([path]) => path.replace(/^node_modules\//, '')).sort()).toEqual(['@danube-connect/host', '@danube-connect/mqtt', '@danube-connect/sdk', '@danube-plugin/source-mqtt']);
    for (const [path, entry] of ours) expect(entry.resolved, path).toMatch(new RegExp(`^${registryUrl}`));
    for (const [path, entry] of resolved.filter((r) => !ours.includes(r))) expect(entry.resolved, path).not.toContain(registryUrl);

    const danube = await startDanube();
    const mosquitto = await startMosquitto();
    const topic = uniqueTopic('registry');
    const tap = await DanubeTap.open(danube, topic);
    const toml = join(app, 'host.toml');
    writeFileSync(
      toml,
      [
        '[host]',
        'http = "127.0.0.1:0"',
        '[danube]',
        `service_url = "${danube.serviceUrl}"`,
        '[[connectors]]',
        'name = "sensors"',
        'plugin = "@danube-plugin/source-mqtt"',
        '[connectors.config]',
        `url = "${mosquitto.url}"`,
        '[[connectors.config.routes]]',
        'from = "sensors/+/temperature"',
        `to = "${topic}"`,
        '',
      ].join('\n'),
    );

    const host = spawn(join(app, 'node_modules/.bin/danube-connect'), ['run', toml], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
    const exit = new Promise<number | null>((resolve) => host.once('exit', resolve));
    onTestFinished(async () => {
      if (host.exitCode === null && host.signalCode === null) host.kill('SIGKILL');
      await exit;
    });
    const output = new HostOutput(host);
    await output.until((line) => line.includes('"MQTT subscribed"'), 30_000, 'the connector subscribed');

    const client = await mqtt.connectAsync(mosquitto.url, { clientId: `registry-test-${process.pid}` });
    onTestFinished(async () => {
      await client.endAsync(true);
    });
    const sent = Array.from({ length: MESSAGES }, (_, i) => `${20 + (i % 10)}.${i}`);
    for (const [i, payload] of sent.entries()) await client.publishAsync(`sensors/s${i % 5}/temperature`, payload, { qos: 1 });
    await tap.until(() => new Set(tap.texts()).size === MESSAGES, 30_000, `${MESSAGES} readings in Danube`);
    expect([...new Set(tap.texts())].sort()).toEqual([...sent].sort());

    host.kill('SIGTERM');
    expect(await exit, output.text()).toBe(0);
  }, 180_000); // an install that finds third-party packages missing from the npm cache downloads them
});

/** A child's stdout and stderr, with waits re-checked on every chunk (never on a timer). */
class HostOutput {
  private out = '';
  private readonly waiters = new Set<() => void>();

  constructor(child: ReturnType<typeof spawn>) {
    const take = (chunk: Buffer) => {
      this.out += chunk.toString();
      for (const wake of [...this.waiters]) wake();
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
  }

  text(): string {
    return this.out;
  }

  until(match: (line: string) => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!this.out.split('\n').some(match)) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${what}: not within ${timeoutMs} ms; the host wrote:\n${this.out}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }
}
