/**
 * The conformance kit: one call in a plugin's own vitest suite runs the checks every Danube Connect plugin must
 * pass, with the plugin in a real connector child process (forked as the host forks it) against a TestBroker.
 * A separate subpath (`@danube-connect/sdk/testing/conformance`) because it needs vitest, which the TestBroker
 * alone must not (the host runs it in `dev` mode).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DanubeClient } from '../danube/danube-client.js';
import type { RuntimeSettings } from '../runtime/runtime-settings.js';
import { ConnectorProcess } from './connector-process.js';
import { TestBroker } from './test-broker.js';

/** What each case hands the plugin author's callbacks. */
export interface ConformanceEnv {
  broker: TestBroker;
  /** A fresh Danube topic for this case, `/default/<unique>`. */
  topic: string;
  /** A fresh temporary folder for this case (files of the external system). */
  workDir: string;
  /** The connector name of this case (stable across the restart of the crash case). */
  connector: string;
}

export interface ConformanceOptions {
  /** The plugin's package folder: its package.json carries the `danube-connect` manifest. */
  packageDir: string;
  /** A valid config for one case (before defaults: the kit applies the schema's defaults as the host does). */
  config(env: ConformanceEnv): Record<string, unknown> | Promise<Record<string, unknown>>;
  /** Sources: make records `from` … `from + count - 1` appear in the external system; their payloads must be the decimal numbers. */
  produce?(env: ConformanceEnv, from: number, count: number): Promise<void>;
  /** Sinks: the payload texts the connector has written to the external system so far. */
  written?(env: ConformanceEnv): Promise<string[]>;
  /**
   * Whether the plugin loses nothing when its process is killed mid-stream (sources whose upstream redelivers
   * what was not acknowledged; every sink). Default: true for sinks, false for sources.
   */
  survivesCrash?: boolean;
  /** Start → ready deadline in ms. Default 10000. */
  readyTimeoutMs?: number;
  /** Records per delivery case. Default 50. */
  records?: number;
  /** Runtime settings for the child. */
  runtime?: Partial<RuntimeSettings>;
}

interface Manifest {
  name: string;
  version: string;
  kind: 'source' | 'sink';
  entry: string;
  configSchema: string | undefined;
}

function readManifest(packageDir: string): Manifest {
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    name?: string;
    version?: string;
    'danube-connect'?: { kind?: string; entry?: string; configSchema?: string };
  };
  const manifest = pkg['danube-connect'];
  if (!manifest) throw new Error(`${packageDir}/package.json has no "danube-connect" manifest`);
  if (manifest.kind !== 'source' && manifest.kind !== 'sink') throw new Error(`manifest kind must be "source" or "sink", got ${JSON.stringify(manifest.kind)}`);
  if (typeof manifest.entry !== 'string') throw new Error('manifest has no "entry"');
  return {
    name: pkg.name ?? 'unnamed-plugin',
    version: pkg.version ?? '0.0.0',
    kind: manifest.kind,
    entry: resolve(packageDir, manifest.entry),
    configSchema: manifest.configSchema === undefined ? undefined : resolve(packageDir, manifest.configSchema),
  };
}

function compileSchema(path: string) {
  const schema = JSON.parse(readFileSync(path, 'utf8')) as { $schema?: string };
  const options = { allErrors: true, useDefaults: true, strict: false } as const;
  const ajv = schema.$schema?.includes('2020-12') ? new Ajv2020(options) : new Ajv(options);
  return { schema: schema as Record<string, unknown>, validate: ajv.compile(schema) };
}

/** Waits until `check` returns true, re-checking every 25 ms, failing with `describe()` after `timeoutMs`. */
async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, describeState: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms: ${describeState()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => String(from + i));

/**
 * Registers the conformance suite for the plugin in `options.packageDir`:
 * the manifest and config schema are valid and the schema's defaults apply; the plugin starts and reports ready
 * within the deadline; it moves records (sources into Danube, sinks out of Danube) and drains on stop with zero
 * loss; its metrics are present and labelled; and, when it claims so, nothing is lost when its process is killed
 * mid-stream and started again.
 */
export function describeConnectorConformance(options: ConformanceOptions): void {
  const manifest = readManifest(options.packageDir);
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  const count = options.records ?? 50;
  const survivesCrash = options.survivesCrash ?? manifest.kind === 'sink';
  if (manifest.kind === 'source' && !options.produce) throw new Error('conformance of a source needs options.produce');
  if (manifest.kind === 'sink' && !options.written) throw new Error('conformance of a sink needs options.written');

  describe(`${manifest.name} conformance (${manifest.kind})`, () => {
    let broker: TestBroker;
    const dirs: string[] = [];
    const children: ConnectorProcess[] = [];

    beforeAll(async () => {
      broker = await TestBroker.start({ failurePolicy: { ackTimeoutMs: 2_000, baseRedeliveryDelayMs: 50, maxRedeliveryDelayMs: 500 } });
    });
    afterAll(async () => {
      await Promise.all(children.map((c) => c.kill()));
      await broker?.stop();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });

    const newEnv = (): ConformanceEnv => {
      const workDir = mkdtempSync(join(tmpdir(), 'dc-conformance-'));
      dirs.push(workDir);
      const id = randomBytes(4).toString('hex');
      return { broker, topic: `/default/conformance-${id}`, workDir, connector: `conformance-${id}` };
    };

    const configFor = async (env: ConformanceEnv) => {
      const config = structuredClone(await options.config(env));
      if (manifest.configSchema) {
        const { validate } = compileSchema(manifest.configSchema);
        if (!validate(config)) throw new Error(`options.config() is not valid for ${manifest.name}: ${JSON.stringify(validate.errors)}`);
      }
      return config;
    };

    const startChild = async (env: ConformanceEnv, config: Record<string, unknown>) => {
      const child = new ConnectorProcess();
      children.push(child);
      child.start({
        entry: manifest.entry,
        connector: env.connector,
        kind: manifest.kind,
        plugin: { name: manifest.name, version: manifest.version },
        config,
        danube: { serviceUrl: broker.serviceUrl },
        runtime: { pollIntervalMs: 20, ...options.runtime },
        logLevel: 'warn',
      });
      await child.next('ready', readyTimeoutMs);
      return child;
    };

    /** Sinks subscribe at the topic's end (Danube starts new subscriptions there): wait until connected. */
    const connected = (child: ConnectorProcess) =>
      until(async () => (await child.ping()).state === 'connected', readyTimeoutMs, () => 'the connector never reported connected');

    const stored = (env: ConformanceEnv) => new Set(broker.storedMessages(env.topic).map((m) => m.payload.toString('utf8')));

    const sendToDanube = async (env: ConformanceEnv, from: number, n: number) => {
      const client = new DanubeClient({ serviceUrl: broker.serviceUrl });
      try {
        const producer = await client.createProducer({ topic: env.topic, name: `${env.connector}-feeder` });
        for (const text of range(from, n)) await producer.send(text);
      } finally {
        await client.close();
      }
    };

    const deliveredTexts = async (env: ConformanceEnv): Promise<Set<string>> =>
      manifest.kind === 'source' ? stored(env) : new Set(await options.written!(env));

    /** Makes records from … from+n-1 flow: into the external system (sources) or into Danube (sinks). */
    const feed = async (env: ConformanceEnv, from: number, n: number) => {
      if (manifest.kind === 'source') await options.produce!(env, from, n);
      else await sendToDanube(env, from, n);
    };

    const prepareTopic = (env: ConformanceEnv) => {
      if (manifest.kind === 'sink') broker.createTopic(env.topic, { dispatch: 'reliable' });
    };

    it('has a valid manifest, entry and config schema whose defaults apply', async () => {
      expect(existsSync(manifest.entry), `entry ${manifest.entry} exists (is the plugin built?)`).toBe(true);
      if (!manifest.configSchema) return;
      expect(existsSync(manifest.configSchema), `config schema ${manifest.configSchema} exists`).toBe(true);
      const { schema, validate } = compileSchema(manifest.configSchema);
      const config = structuredClone(await options.config(newEnv()));
      expect(validate(config), JSON.stringify(validate.errors)).toBe(true);
      const properties = (schema.properties ?? {}) as Record<string, { default?: unknown }>;
      for (const [key, property] of Object.entries(properties)) {
        if (property.default !== undefined) expect(config, `default of "${key}" applied`).toHaveProperty(key);
      }
    });

    it(`starts, reports ready within ${readyTimeoutMs} ms, delivers every record, and drains on stop with zero loss`, async () => {
      const env = newEnv();
      prepareTopic(env);
      const child = await startChild(env, await configFor(env));
      if (manifest.kind === 'sink') await connected(child);
      await feed(env, 0, count);
      const expected = range(0, count);
      const allDelivered = async () => {
        const delivered = await deliveredTexts(env);
        return expected.every((t) => delivered.has(t));
      };
      await until(allDelivered, 30_000, () => `not every one of ${count} records was delivered`);
      const { stopped, exit } = await child.stop(10_000);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(stopped?.abandoned ?? 0).toBe(0);
      const delivered = await deliveredTexts(env);
      for (const text of expected) expect(delivered.has(text), `record ${text} delivered`).toBe(true);
    });

    it('reports metrics with the reference names, labelled with its connector and real topic', async () => {
      const env = newEnv();
      prepareTopic(env);
      const child = await startChild(env, await configFor(env));
      if (manifest.kind === 'sink') await connected(child);
      await feed(env, 0, 5);
      await until(async () => (await deliveredTexts(env)).size >= 5, 30_000, () => 'records not delivered');
      const metrics = await child.metrics();
      const names = metrics.map((m) => m.name);
      for (const name of ['danube_connector_messages_received_total', 'danube_connector_messages_processed_total', 'danube_connector_health']) {
        expect(names).toContain(name);
      }
      const received = metrics.find((m) => m.name === 'danube_connector_messages_received_total');
      expect(received?.values.some((v) => v.labels.connector === env.connector && v.labels.topic === env.topic && v.value >= 5)).toBe(true);
      const pong = await child.ping();
      expect(pong.stats.received).toBe(pong.stats.processed + pong.stats.deadLettered + pong.stats.dropped + pong.stats.inFlight);
      await child.stop(10_000);
    });

    it.skipIf(!survivesCrash)('loses nothing when its process is killed mid-stream and started again', async () => {
      const env = newEnv();
      prepareTopic(env);
      const config = await configFor(env);
      const first = await startChild(env, config);
      if (manifest.kind === 'sink') await connected(first);
      // Slow Danube's acknowledgements so records trickle (sources publish, the sink's feeder produces one at a
      // time): the kill then lands with most records still on their way.
      broker.delayAcks(20);
      const feeding = feed(env, 0, count);
      await until(async () => (await deliveredTexts(env)).size >= Math.min(5, count), 30_000, () => 'nothing delivered before the kill');
      await first.kill('SIGKILL');
      const deliveredAtKill = (await deliveredTexts(env)).size;
      broker.delayAcks(0);
      await feeding;
      expect(deliveredAtKill, 'the kill happened mid-stream').toBeLessThan(count);
      const second = await startChild(env, config);
      await feed(env, count, count);
      const expected = range(0, 2 * count);
      await until(async () => {
        const delivered = await deliveredTexts(env);
        return expected.every((t) => delivered.has(t));
      }, 30_000, () => 'not every record was delivered after the restart');
      await second.stop(10_000);
    });
  });
}
