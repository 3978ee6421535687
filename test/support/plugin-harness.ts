import { randomBytes } from 'node:crypto';
import { DanubeClient } from '@danube-connect/sdk';
import { ConnectorProcess, TestBroker, type TestBrokerOptions } from '@danube-connect/testing';
import { Mosquitto, type MosquittoOptions } from '@danube-connect/mqtt/testing';
import { expect, it, onTestFinished } from 'vitest';

// What the MQTT plugins' tests share: where Danube runs, a mosquitto per case, waits re-checked on every arrival,
// and the plugin started in a real connector child as the host does.

/**
 * Where Danube runs: the in-process TestBroker by default, or the broker at DANUBE_SERVICE_URL (as the SDK's
 * contract suite does, sdk/test/contract/target.ts).
 */
const EXTERNAL_URL = process.env.DANUBE_SERVICE_URL || undefined;
const TOKEN = process.env.DANUBE_TOKEN || undefined;
/** For cases that need TestBroker fault injection (held or failing acknowledgements): skipped against a real broker. */
export const itWithTestBroker = it.skipIf(EXTERNAL_URL !== undefined);

export interface Danube {
  serviceUrl: string;
  /** Present only for the in-process TestBroker. */
  broker: TestBroker | undefined;
  client: DanubeClient;
}

export async function startDanube(options: TestBrokerOptions = {}): Promise<Danube> {
  let broker: TestBroker | undefined;
  let serviceUrl = EXTERNAL_URL;
  if (!serviceUrl) {
    broker = await TestBroker.start(options);
    onTestFinished(() => broker?.stop());
    serviceUrl = broker.serviceUrl;
  }
  const client = new DanubeClient({ serviceUrl, ...(TOKEN ? { token: TOKEN } : {}), retry: { initialDelayMs: 20, maxDelayMs: 500 } });
  onTestFinished(() => client.close(1_000));
  return { serviceUrl, broker, client };
}

/** A Danube topic no other case or earlier run uses (a real broker keeps its topics). */
export const uniqueTopic = (prefix: string) => `/default/${prefix}-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

/**
 * The message of the config error `parse` throws for `raw`, after checking it is the MQTT plugins' fatal
 * DC_ERR_MQTT_CONFIG; fails the test when `raw` is accepted.
 */
export function configProblems(parse: (raw: unknown) => unknown, raw: unknown): string {
  try {
    parse(raw);
  } catch (err) {
    expect((err as { code?: string }).code).toBe('DC_ERR_MQTT_CONFIG');
    expect((err as { kind?: string }).kind).toBe('fatal');
    return (err as Error).message;
  }
  throw new Error('the config was accepted');
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const broker = await Mosquitto.start(options);
  onTestFinished(() => broker.dispose());
  return broker;
}

/** What a tap received, in arrival order, with waits re-checked on every arrival (never on a timer). */
export class Arrivals<T> {
  protected readonly arrived: T[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(private readonly text: (item: T) => string) {}

  protected arrive(item: T): void {
    this.arrived.push(item);
    for (const wake of [...this.waiters]) wake();
  }

  /** The payloads as text. */
  texts(): string[] {
    return this.arrived.map(this.text);
  }

  /** Resolves once `check()` holds, re-checked on every arrival; fails after `timeoutMs` saying what arrived. */
  until(check: () => boolean, timeoutMs = 30_000, what = 'the expected messages'): Promise<void> {
    return new Promise((resolve, reject) => {
      const test = () => {
        if (!check()) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${what} did not arrive within ${timeoutMs} ms; ${this.arrived.length} messages arrived`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(test);
      };
      this.waiters.add(test);
      test();
    });
  }

  /** Waits until every sequence number from..from+count-1 (payload text) arrived at least once. */
  untilSequence(from: number, count: number, timeoutMs = 30_000): Promise<void> {
    const seen = new Set<number>();
    let scanned = 0;
    return this.until(
      () => {
        for (; scanned < this.arrived.length; scanned++) seen.add(Number(this.text(this.arrived[scanned] as T)));
        for (let i = from; i < from + count; i++) if (!seen.has(i)) return false;
        return true;
      },
      timeoutMs,
      `sequence numbers ${from}..${from + count - 1}`,
    );
  }
}

export interface PluginChild {
  entry: string;
  kind: 'source' | 'sink';
  plugin: { name: string; version: string };
  connector: string;
  config: Record<string, unknown>;
  runtime?: Record<string, unknown> | undefined;
  logLevel?: 'info' | 'warn' | 'debug' | undefined;
  /** Default true: resolves once the child sent `ready`. */
  waitReady?: boolean | undefined;
}

/** Forks a built plugin in a real connector child, as the host does, killed at the end of the case. */
export async function startPluginChild(danube: Danube, spec: PluginChild): Promise<ConnectorProcess> {
  const child = new ConnectorProcess();
  onTestFinished(async () => {
    await child.kill();
  });
  child.start({
    entry: spec.entry,
    connector: spec.connector,
    kind: spec.kind,
    plugin: spec.plugin,
    config: spec.config,
    danube: { serviceUrl: danube.serviceUrl, ...(TOKEN ? { token: TOKEN } : {}) },
    runtime: spec.runtime ?? {},
    logLevel: spec.logLevel ?? 'info',
  });
  if (spec.waitReady !== false) await child.next('ready', 20_000);
  return child;
}
