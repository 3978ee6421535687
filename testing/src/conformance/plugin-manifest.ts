import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';

/** The `danube-connect` manifest of the plugin under test, with absolute paths. */
export interface PluginManifest {
  name: string;
  version: string;
  kind: 'source' | 'sink';
  entry: string;
  configSchema: string | undefined;
}

export function readManifest(packageDir: string): PluginManifest {
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

/** The config schema compiled as the host compiles it: all errors, defaults applied. */
export function compileSchema(path: string): { schema: Record<string, unknown>; validate: ValidateFunction } {
  const schema = JSON.parse(readFileSync(path, 'utf8')) as { $schema?: string };
  const options = { allErrors: true, useDefaults: true, strict: false } as const;
  const ajv = schema.$schema?.includes('2020-12') ? new Ajv2020(options) : new Ajv(options);
  return { schema: schema as Record<string, unknown>, validate: ajv.compile(schema) };
}
