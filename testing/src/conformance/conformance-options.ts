import type { RuntimeSettings } from '@danube-connect/sdk';
import type { TestBroker } from '../test-broker.js';

/** What each case hands the plugin author's callbacks. */
export interface ConformanceEnv {
  /** This case's own TestBroker (each case starts a fresh one, so faults of one case never reach another). */
  broker: TestBroker;
  /** A fresh Danube topic for this case, `/default/<unique>`. */
  topic: string;
  /** A fresh temporary folder for this case (files of the external system). */
  workDir: string;
  /** The connector name of this case (stable across the restarts of the stop and crash cases). */
  connector: string;
}

export interface ConformanceOptions {
  /** The plugin's package folder: its package.json carries the `danube-connect` manifest. */
  packageDir: string;
  /**
   * A valid config for one case (before defaults: the kit applies the schema's defaults as the host does). The
   * same config is used again when a case restarts the connector, so state kept in `env.workDir` survives.
   */
  config(env: ConformanceEnv): Record<string, unknown> | Promise<Record<string, unknown>>;
  /**
   * Sources: make records `from` … `from + count - 1` appear in the external system, in that order; their
   * payloads must be the decimal numbers. Routing keys are up to the plugin: order is checked per key.
   */
  produce?(env: ConformanceEnv, from: number, count: number): Promise<void>;
  /** Sinks: the payload texts the connector has written to the external system so far, in the order written. */
  written?(env: ConformanceEnv): Promise<string[]>;
  /**
   * Whether the crash case runs: the process is SIGKILLed mid-stream and started again, and nothing may be lost.
   * Default true. Set false only for a source whose external system cannot redeliver what was never
   * acknowledged (say why in your README: such a source loses records on every crash).
   */
  survivesCrash?: boolean;
  /** Start → ready deadline per start, ms. Default 15000. */
  readyTimeoutMs?: number;
  /** Longest wait for the records of one phase of a case to arrive, ms. Default 30000. */
  deliveryTimeoutMs?: number;
  /** The drain deadline a stop gives the connector, ms. Default 10000. */
  stopTimeoutMs?: number;
  /** Records per phase of a case. Default 50. */
  records?: number;
  /** Runtime settings for the child (a case may override some, e.g. the window of the back-pressure case). */
  runtime?: Partial<RuntimeSettings>;
}
