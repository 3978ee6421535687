import { dirname, resolve } from 'node:path';
import { HostConfigError } from './host-config-error.js';
import { ProblemList, type ConfigProblem } from './config-problem.js';
import { connectorSettings, hostSettings, type ConnectorSettings, type HostSettings } from './connector-settings.js';
import { deepFreeze } from './deep-freeze.js';
import { applyDanubeEnvOverrides, expandEnv } from './expand-env.js';
import { validateHostToml, type HostToml } from './host-toml.js';
import { readToml } from './read-toml.js';
import { checkSemantics, reportNonFiniteNumbers } from './semantic-checks.js';

export interface LoadHostConfigOptions {
  /** Environment for `${NAME}` expansion and the DANUBE_* overrides. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Folder a relative host.toml path is resolved from. Default: process.cwd(). */
  cwd?: string;
}

/** A valid host.toml: frozen, env expanded, defaults applied. */
export interface HostConfig {
  /** host.toml as the caller named it (used in messages). */
  file: string;
  /** Its absolute path. */
  path: string;
  /** Its folder: plugins are resolved and relative TLS paths read from here. */
  dir: string;
  /** The document in host.toml's own shape (snake_case), with defaults. Contains secrets: mask before printing. */
  toml: Readonly<HostToml>;
  host: HostSettings;
  /** Each connector's settings, in host.toml order, before plugin resolution. */
  connectors: readonly ConnectorSettings[];
  /** Every value read from a `${file:…}`: secrets wherever they are used. */
  fileSecrets: readonly string[];
}

export type HostConfigResult = { ok: true; config: HostConfig } | { ok: false; problems: ConfigProblem[] };

/** What checking host.toml alone found; discovery goes on from here to report every problem at once. */
export interface HostConfigCheck {
  problems: ProblemList;
  path: string;
  dir: string;
  /** The document after expansion and defaults, even when it has problems (undefined if unreadable). */
  doc: Record<string, unknown> | undefined;
  /** The valid config when host.toml alone has no problem. */
  config: HostConfig | undefined;
  /** Key paths already reported (an unset ${VAR}): later checks skip them. */
  skip: ReadonlySet<string>;
  /** Key paths of values that were one whole ${VAR}: a number or boolean key takes the scalar they spell. */
  references: ReadonlySet<string>;
}

/**
 * Reads host.toml and checks it alone: TOML syntax, `${NAME}` and `${file:path}` expansion, DANUBE_SERVICE_URL/DANUBE_TOKEN over
 * `[danube]`, host.schema.json (all errors, defaults applied), then the semantic checks. The parsed document is
 * the clone that is expanded, validated and then frozen.
 */
export function checkHostConfig(file: string, options: LoadHostConfigOptions = {}): HostConfigCheck {
  const env = options.env ?? process.env;
  const path = resolve(options.cwd ?? process.cwd(), file);
  const dir = dirname(path);
  const empty = new ProblemList(file);
  const doc = readToml(path, empty);
  if (!doc) return { problems: empty, path, dir, doc: undefined, config: undefined, skip: new Set(), references: new Set() };
  const problems = new ProblemList(file, doc);
  const fileSecrets: string[] = [];
  const references = new Set<string>();
  const skip = expandEnv(doc, env, problems, { dir, fileSecrets, references });
  reportNonFiniteNumbers(doc, problems, skip);
  const fromEnv = applyDanubeEnvOverrides(doc, env);
  const valid = validateHostToml(doc, problems, skip, references);
  checkSemantics(doc, { problems, dir, skip, fromEnv });
  if (!valid || problems.size > 0) return { problems, path, dir, doc, config: undefined, skip, references };
  const toml = deepFreeze(doc as unknown as HostToml);
  const config: HostConfig = deepFreeze({ file, path, dir, toml, host: hostSettings(toml, dir), connectors: connectorSettings(toml, dir), fileSecrets });
  return { problems, path, dir, doc, config, skip, references };
}

/** host.toml alone (no plugin resolution): the valid config, or every problem. */
export function loadHostConfig(file: string, options: LoadHostConfigOptions = {}): HostConfigResult {
  const check = checkHostConfig(file, options);
  return check.config ? { ok: true, config: check.config } : { ok: false, problems: check.problems.problems };
}

/** As loadHostConfig, throwing a HostConfigError with every problem. */
export function loadHostConfigOrThrow(file: string, options: LoadHostConfigOptions = {}): HostConfig {
  const result = loadHostConfig(file, options);
  if (!result.ok) throw new HostConfigError(result.problems);
  return result.config;
}
