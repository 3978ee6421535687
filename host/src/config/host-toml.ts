import { Ajv, type ValidateFunction } from 'ajv';
import type { LogLevel } from '@danube-connect/sdk/core';
import { readHostSchema } from '../host-package.js';
import { validateWithReferencedScalars } from './referenced-scalars.js';
import { addAjvErrors, type ProblemList } from './config-problem.js';

/** `[host.restart]` / `[connectors.restart]` as written in host.toml. */
export interface RestartToml {
  initial_delay_ms: number;
  max_delay_ms: number;
  stable_after_ms: number;
  max_crashes: number;
  window_ms: number;
}

export interface TlsToml {
  ca?: string;
  cert?: string;
  key?: string;
  server_name?: string;
}

/** `[danube]`; a connector's `[connectors.danube]` has the same keys except admin_url and create_namespaces. */
export interface DanubeToml {
  service_url: string;
  token?: string;
  tls?: TlsToml;
  request_timeout_ms: number;
  transport?: 'grpc-js' | 'http2';
  admin_url?: string;
  create_namespaces: boolean;
}

/** `[connectors.processing]`: snake_case mirror of the SDK's RuntimeSettings. */
export interface ProcessingToml {
  max_in_flight: number;
  max_retries: number;
  retry_initial_delay_ms: number;
  retry_max_delay_ms: number;
  on_retry_exhausted: 'block' | 'dead_letter' | 'fail';
  dead_letter_topic?: string;
  poll_interval_ms: number;
  batch_size: number;
  batch_timeout_ms: number;
  max_unacked: number;
  drain_timeout_ms: number;
}

export interface ConnectorToml {
  name: string;
  plugin: string;
  memory_mb?: number;
  log_level?: LogLevel;
  danube?: Partial<Omit<DanubeToml, 'admin_url' | 'create_namespaces'>>;
  env?: Record<string, string>;
  restart?: Partial<RestartToml>;
  processing: ProcessingToml;
  config: Record<string, unknown>;
}

/** host.toml after expansion, env overrides and schema validation with defaults applied. */
export interface HostToml {
  $schema?: string;
  host: {
    http: string;
    allowed_hosts: string[];
    log_level: LogLevel;
    shutdown_timeout_ms: number;
    ready_timeout_ms: number;
    ping_interval_ms: number;
    restart: RestartToml;
  };
  danube: DanubeToml;
  connectors: ConnectorToml[];
}

let validator: ValidateFunction | undefined;

/** The one Ajv instance for operator config (all errors, defaults on, formats off, never for network input). */
function hostValidator(): ValidateFunction {
  validator ??= new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true, validateFormats: false, logger: false }).compile(
    readHostSchema('host.schema.json'),
  );
  return validator;
}

/** Validates `doc` in place against host.schema.json (defaults applied), adding every error as a problem. */
export function validateHostToml(doc: Record<string, unknown>, problems: ProblemList, skip: ReadonlySet<string>, references: ReadonlySet<string>): doc is Record<string, unknown> & HostToml {
  const validate = hostValidator();
  if (validateWithReferencedScalars(validate, doc, [], references)) return true;
  addAjvErrors(problems, 'DC_ERR_CONFIG_SCHEMA', validate.errors, [], skip);
  return false;
}
