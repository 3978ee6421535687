import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { TestBroker } from '@danube-connect/testing';
import { onTestFinished } from 'vitest';
import type { ConnectorSpec, RestartSettings } from '../../src/connector-spec.js';
import type { ConnectorSnapshot, ConnectorState } from '../../src/supervisor/connector-state.js';
import type { StateChangeEvent } from '../../src/supervisor/supervisor-events.js';
import { Supervisor, type SupervisorOptions } from '../../src/supervisor/supervisor.js';

/** Deadline of a wait for an event, ms: generous, for loaded 2-core machines. */
export const WAIT_MS = 20_000;

const SDK_FIXTURES = ['collect-sink', 'counter-source', 'crash-on-start', 'ignores-stop', 'leaks-memory', 'never-ready', 'throws-in-poll', 'uncaught-error', 'wrong-default-export'];

/** A fixture plugin's folder: the host's own (host/test/fixtures/plugins) or the SDK's. */
function fixtureDir(plugin: string): string {
  const base = SDK_FIXTURES.includes(plugin) ? '../../../sdk/test/fixtures/plugins/' : '../fixtures/plugins/';
  return fileURLToPath(new URL(`${base}${plugin}`, import.meta.url));
}

const FAST_RESTART: RestartSettings = { initialDelayMs: 50, maxDelayMs: 400, stableAfterMs: 60_000, maxCrashes: 5, windowMs: 60_000 };

export interface FixtureSpecOptions {
  name?: string;
  config?: Record<string, unknown>;
  serviceUrl: string;
  restart?: Partial<RestartSettings>;
  memoryMb?: number;
  readyTimeoutMs?: number;
  pingIntervalMs?: number;
  shutdownTimeoutMs?: number;
  fingerprint?: string;
}

/** A ConnectorSpec for a fixture plugin, as config loading and discovery would produce it, with short deadlines. */
export function fixtureSpec(plugin: string, options: FixtureSpecOptions): ConnectorSpec {
  const dir = fixtureDir(plugin);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
    'danube-connect': { kind: 'source' | 'sink'; entry: string; sdk: string };
  };
  const config = options.config ?? {};
  return {
    name: options.name ?? plugin,
    plugin: {
      name: manifest.name,
      version: manifest.version,
      kind: manifest['danube-connect'].kind,
      entry: join(dir, manifest['danube-connect'].entry),
      dir,
      sdkRange: manifest['danube-connect'].sdk,
    },
    config,
    danube: { serviceUrl: options.serviceUrl },
    runtime: { pollIntervalMs: 20 },
    restart: { ...FAST_RESTART, ...options.restart },
    memoryMb: options.memoryMb,
    readyTimeoutMs: options.readyTimeoutMs ?? 15_000,
    pingIntervalMs: options.pingIntervalMs ?? 1_000,
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? 5_000,
    logLevel: 'info',
    secrets: [],
    env: {},
    workDir: dir,
    fingerprint: options.fingerprint ?? JSON.stringify({ plugin, config }),
  };
}

export async function startBroker(): Promise<TestBroker> {
  return TestBroker.start();
}

export function uniqueTopic(prefix: string): string {
  return `/default/${prefix}-${randomBytes(4).toString('hex')}`;
}

export function tempFile(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'dc-supervisor-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, name);
}

export function fileLines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

export function stored(broker: TestBroker, topic: string): string[] {
  try {
    return broker.storedMessages(topic).map((m) => m.payload.toString());
  } catch {
    return []; // the topic does not exist yet
  }
}

/** A Supervisor with its logs, relayed child lines and state events captured; stopped when the test ends. */
export class SupervisorUnderTest {
  readonly supervisor: Supervisor;
  /** The host logger's lines, parsed. */
  readonly hostLogs: Record<string, unknown>[] = [];
  /** The host logger's lines as written. */
  readonly hostLines: string[] = [];
  /** Relayed child lines as written to the host's log stream. */
  readonly relayed: string[] = [];
  /** Relayed child lines, parsed (a line that is not JSON is kept in `relayed` only). */
  readonly childLogs: Record<string, unknown>[] = [];
  readonly states: StateChangeEvent[] = [];

  constructor(options: Partial<SupervisorOptions> = {}) {
    const logger = pino({ level: 'debug' }, {
      write: (line: string) => {
        this.hostLines.push(line);
        this.hostLogs.push(JSON.parse(line) as Record<string, unknown>);
      },
    });
    this.supervisor = new Supervisor({
      logger,
      relay: (line) => {
        this.relayed.push(line);
        try {
          this.childLogs.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // Only in `relayed`: a test asserts on it.
        }
      },
      stopGraceMs: 1_000,
      ...options,
    });
    this.supervisor.on('state', (event) => this.states.push(event));
    onTestFinished(async () => {
      await this.supervisor.stop();
    });
  }

  /** The state sequence of one connector, starting with its first state. */
  statesOf(name: string): ConnectorState[] {
    return this.states.filter((e) => e.connector === name).map((e) => e.state);
  }

  snapshot(name: string): ConnectorSnapshot {
    const snapshot = this.supervisor.connector(name);
    if (!snapshot) throw new Error(`no connector "${name}"`);
    return snapshot;
  }

  /**
   * Resolves with the snapshot once `predicate` holds for connector `name` (checked now and on each of the
   * supervisor's events); rejects after `timeoutMs` with the states seen.
   */
  until(name: string, predicate: (snapshot: ConnectorSnapshot) => boolean, timeoutMs = WAIT_MS): Promise<ConnectorSnapshot> {
    return new Promise((resolve, reject) => {
      const unsubscribe: (() => void)[] = [];
      const done = () => {
        clearTimeout(timer);
        clearInterval(poll);
        for (const off of unsubscribe) off();
      };
      const check = () => {
        const snapshot = this.supervisor.connector(name);
        if (snapshot && predicate(snapshot)) {
          done();
          resolve(snapshot);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`connector "${name}": condition not met within ${timeoutMs} ms; states ${this.statesOf(name).join(' → ')}; now ${JSON.stringify(this.supervisor.connector(name))}`));
      }, timeoutMs);
      unsubscribe.push(this.supervisor.on('state', check), this.supervisor.on('exit', check), this.supervisor.on('log', check));
      // Pongs arrive without an event.
      const poll = setInterval(check, 50);
      check();
    });
  }

  /** Waits for connector `name` to reach `state`. */
  state(name: string, state: ConnectorState, timeoutMs = WAIT_MS): Promise<ConnectorSnapshot> {
    return this.until(name, (s) => s.state === state, timeoutMs);
  }
}
