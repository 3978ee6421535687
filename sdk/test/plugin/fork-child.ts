import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';
import type { StartMessage } from '../../src/plugin/protocol.js';
import { childEntryPath, ConnectorProcess, type ConnectorProcessOptions } from '@danube-connect/testing';

/** The child bootstrap runs from dist/ (`npm test` builds first; test/require-build.ts fails the run without a build). */
export const CHILD_ENTRY = childEntryPath();

/** Absolute path of a fixture plugin's entry (sdk/test/fixtures/plugins/<name>/index.js). */
function fixtureEntry(name: string): string {
  return fileURLToPath(new URL(`../fixtures/plugins/${name}/index.js`, import.meta.url));
}

/** The fixture's manifest kind, as the host reads it from package.json; 'source' for a fixture that does not exist. */
function fixtureKind(name: string): 'source' | 'sink' {
  const path = fileURLToPath(new URL(`../fixtures/plugins/${name}/package.json`, import.meta.url));
  if (!existsSync(path)) return 'source';
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as { 'danube-connect'?: { kind?: 'source' | 'sink' } };
  return manifest['danube-connect']?.kind ?? 'source';
}

interface FixtureStart {
  /** Fixture plugin name; the connector is named `c-<plugin>`. */
  plugin: string;
  config?: Record<string, unknown>;
  serviceUrl: string;
  runtime?: StartMessage['runtime'];
  entry?: string;
  kind?: 'source' | 'sink';
}

/** A ConnectorProcess that starts fixture plugins and is killed when the test ends if still alive. */
export class ForkedChild extends ConnectorProcess {
  constructor(options: ConnectorProcessOptions = {}) {
    super(options);
    onTestFinished(async () => {
      await this.kill();
    });
  }

  /** Sends a start message for a fixture plugin and returns it. */
  startFixture(options: FixtureStart): StartMessage {
    return this.start({
      entry: options.entry ?? fixtureEntry(options.plugin),
      connector: `c-${options.plugin}`,
      kind: options.kind ?? fixtureKind(options.plugin),
      plugin: { name: `@fixtures/${options.plugin}`, version: '1.0.0' },
      config: options.config ?? {},
      danube: { serviceUrl: options.serviceUrl },
      runtime: { pollIntervalMs: 20, ...options.runtime },
      logLevel: 'info',
    });
  }
}

/** Forks the built child with an IPC channel (JSON serialization, as the host does). */
export function forkChild(options: ConnectorProcessOptions = {}): ForkedChild {
  return new ForkedChild(options);
}
