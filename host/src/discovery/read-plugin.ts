import { readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import semver from 'semver';
import type { PluginEndpoint } from '../config/endpoint-loops.js';
import type { ResolvedPlugin } from '../connector-spec.js';
import { describeAjvError } from '../config/config-problem.js';
import type { ConfigProblemCode } from '../errors.js';
import { readHostSchema } from '../host-package.js';
import { compilePluginSchema } from './plugin-config-schema.js';
import { SDK_PACKAGE, type SdkInfo } from './sdk-info.js';

/** Something wrong with a plugin package; `message` starts with the package (`@x/y@1.0.0 requires …`). */
export interface PluginIssue {
  code: ConfigProblemCode;
  message: string;
}

/** What reading one plugin package found: the plugin when it is usable, and every issue otherwise. */
export interface PluginReport {
  dir: string;
  name: string | undefined;
  version: string | undefined;
  kind: 'source' | 'sink' | undefined;
  sdkRange: string | undefined;
  /** Whether the running SDK satisfies the plugin's range (undefined when the range is missing or invalid). */
  sdkCompatible: boolean | undefined;
  /** Set when there is no issue. */
  plugin: ResolvedPlugin | undefined;
  /** The compiled configSchema (undefined when the manifest has none: any config is accepted). */
  validateConfig: ValidateFunction | undefined;
  issues: PluginIssue[];
}

interface Manifest {
  kind: 'source' | 'sink';
  entry: string;
  configSchema?: string;
  sdk: string;
  endpoints?: PluginEndpoint[];
}

let manifestValidator: ValidateFunction | undefined;

function validateManifest(manifest: unknown): string[] {
  manifestValidator ??= new Ajv({ allErrors: true, strict: false, verbose: true, logger: false }).compile(readHostSchema('plugin-manifest.schema.json'));
  if (manifestValidator(manifest)) return [];
  return (manifestValidator.errors ?? []).flatMap((e) => {
    const d = describeAjvError(e);
    return d ? [`${d.path.length > 0 ? `${d.path.join('/')} ` : ''}${d.message}`] : [];
  });
}

function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return !(rel === '' || rel.startsWith('..') || isAbsolute(rel));
}

/** A path from the manifest, resolved inside the package folder; undefined when it points outside. */
function inside(dir: string, file: string): string | undefined {
  const path = resolve(dir, file);
  return isInside(dir, path) ? path : undefined;
}

/**
 * Where `path` really is when that is outside the package's real folder (a symbolic link out of it), else
 * undefined (also when it does not exist: that is reported on its own). Workspaces and `npm link` link the
 * package folder itself, which `dir` already resolves.
 */
function realPathOutside(dir: string, path: string): string | undefined {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return undefined;
  }
  return isInside(realpathSync(dir), real) ? undefined : real;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Reads and checks the plugin package in `dir`: package.json (read directly), the `danube-connect` manifest
 * against plugin-manifest.schema.json, the entry file, the `sdk` range against the running SDK (prereleases
 * considered), and the configSchema (read and compiled). Every issue is collected.
 */
export function readPlugin(dir: string, sdk: SdkInfo): PluginReport {
  const report: PluginReport = {
    dir,
    name: undefined,
    version: undefined,
    kind: undefined,
    sdkRange: undefined,
    sdkCompatible: undefined,
    plugin: undefined,
    validateConfig: undefined,
    issues: [],
  };
  const packageJson = join(dir, 'package.json');
  let pkg: Record<string, unknown>;
  try {
    pkg = JSON.parse(readFileSync(packageJson, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    report.issues.push({ code: 'DC_ERR_PLUGIN_PACKAGE', message: `package.json in ${dir} cannot be read: ${(err as Error).message}` });
    return report;
  }
  const name = typeof pkg['name'] === 'string' ? pkg['name'] : undefined;
  const version = typeof pkg['version'] === 'string' ? pkg['version'] : undefined;
  report.name = name;
  report.version = version;
  const label = `${name ?? dir}@${version ?? '?'}`;
  if (name === undefined || version === undefined || semver.valid(version) === null) {
    report.issues.push({ code: 'DC_ERR_PLUGIN_PACKAGE', message: `${label}: ${packageJson} needs a "name" and a semver "version"` });
  }
  const manifest = pkg['danube-connect'];
  if (manifest === undefined) {
    report.issues.push({ code: 'DC_ERR_PLUGIN_MANIFEST', message: `${label} is not a danube-connect plugin: its package.json (${packageJson}) has no "danube-connect" field` });
    return report;
  }
  const manifestErrors = validateManifest(manifest);
  if (manifestErrors.length > 0) {
    report.issues.push({ code: 'DC_ERR_PLUGIN_MANIFEST', message: `${label} has an invalid "danube-connect" manifest in ${packageJson}: ${manifestErrors.join('; ')}` });
    return report;
  }
  const { kind, entry, configSchema, sdk: range, endpoints } = manifest as Manifest;
  report.kind = kind;
  report.sdkRange = range;

  const entryPath = inside(dir, entry);
  const entryReal = entryPath === undefined ? undefined : realPathOutside(dir, entryPath);
  if (entryPath === undefined) {
    report.issues.push({ code: 'DC_ERR_PLUGIN_MANIFEST', message: `${label}: entry "${entry}" points outside the package folder ${dir}` });
  } else if (entryReal !== undefined) {
    report.issues.push({ code: 'DC_ERR_PLUGIN_MANIFEST', message: `${label}: entry "${entry}" resolves to ${entryReal}, outside the package folder ${dir} (a symbolic link?)` });
  } else if (!isFile(entryPath)) {
    report.issues.push({ code: 'DC_ERR_PLUGIN_ENTRY', message: `${label}: entry "${entry}" does not exist (${entryPath}); is the package built?` });
  }

  // semver reads a blank range as "*" (any version): a blank is a mistake, not a choice.
  if (range.trim() === '' || semver.validRange(range) === null) {
    report.issues.push({ code: 'DC_ERR_PLUGIN_MANIFEST', message: `${label}: sdk "${range}" is not a semver range` });
  } else {
    report.sdkCompatible = semver.satisfies(sdk.version, range, { includePrerelease: true });
    if (!report.sdkCompatible) {
      report.issues.push({
        code: 'DC_ERR_PLUGIN_SDK',
        message: `${label} requires ${SDK_PACKAGE} ${range}, but this host runs ${SDK_PACKAGE}@${sdk.version} (the host's range: ${sdk.hostRange}); install a plugin version built for it`,
      });
    }
  }

  if (configSchema !== undefined) {
    const schemaPath = inside(dir, configSchema);
    const schemaReal = schemaPath === undefined ? undefined : realPathOutside(dir, schemaPath);
    if (schemaPath === undefined) {
      report.issues.push({ code: 'DC_ERR_PLUGIN_MANIFEST', message: `${label}: configSchema "${configSchema}" points outside the package folder ${dir}` });
    } else if (schemaReal !== undefined) {
      report.issues.push({ code: 'DC_ERR_PLUGIN_MANIFEST', message: `${label}: configSchema "${configSchema}" resolves to ${schemaReal}, outside the package folder ${dir} (a symbolic link?)` });
    } else {
      report.validateConfig = compileConfigSchema(label, configSchema, schemaPath, report.issues);
    }
  }

  if (report.issues.length === 0 && name !== undefined && version !== undefined && entryPath !== undefined) {
    report.plugin = { name, version, kind, entry: entryPath, dir, sdkRange: range, ...(endpoints ? { endpoints } : {}) };
  }
  return report;
}

function compileConfigSchema(label: string, configSchema: string, path: string, issues: PluginIssue[]): ValidateFunction | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    issues.push({ code: 'DC_ERR_PLUGIN_SCHEMA', message: `${label}: configSchema "${configSchema}" cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}: ${path})` });
    return undefined;
  }
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (err) {
    issues.push({ code: 'DC_ERR_PLUGIN_SCHEMA', message: `${label}: configSchema "${configSchema}" is not valid JSON: ${(err as Error).message}` });
    return undefined;
  }
  try {
    return compilePluginSchema(schema);
  } catch (err) {
    issues.push({ code: 'DC_ERR_PLUGIN_SCHEMA', message: `${label}: configSchema "${configSchema}" does not compile: ${(err as Error).message}` });
    return undefined;
  }
}
