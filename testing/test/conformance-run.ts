import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** The SDK's fixture plugins (the examples and the broken ones), run under the kit's file source and sink. */
const plugins = fileURLToPath(new URL('../../sdk/test/fixtures/plugins/', import.meta.url));
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** One `describeConnectorConformance` call of the generated test file: a fixture plugin and extra kit options. */
export interface KitSuite {
  plugin: string;
  kind: 'source' | 'sink';
  options?: Record<string, unknown>;
}

interface KitTest {
  name: string;
  status: string;
  failure: string;
}

export interface KitRun {
  exitCode: number | null;
  tests: KitTest[];
  /** The run's console output, for the message of a failed expectation. */
  output: string;
}

/**
 * Runs the conformance kit the way a plugin author does: a real `npx vitest run` in a fresh folder holding one
 * generated test file that imports `@danube-connect/testing/conformance` (the built dist), with no vitest
 * config, so vitest's own defaults (a 5 s test timeout) apply. Returns each test's outcome from the JSON report.
 */
export async function runConformanceKit(suites: KitSuite[], options: { testNamePattern?: string; timeoutMs: number }): Promise<KitRun> {
  const dir = mkdtempSync(join(tmpdir(), 'dc-kit-run-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  // Only the packages the test file needs, so vitest's cache stays in this folder.
  mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
  for (const name of ['@danube-connect', 'vitest', '.bin/vitest']) symlinkSync(join(repoRoot, 'node_modules', name), join(dir, 'node_modules', name));
  const calls = suites.map(
    ({ plugin, kind, options: extra }) =>
      `describeConnectorConformance(${kind === 'source' ? 'fileSource' : 'fileSink'}(${JSON.stringify(join(plugins, plugin))}, ${JSON.stringify(extra ?? {})}));`,
  );
  writeFileSync(
    join(dir, 'conformance.test.js'),
    [
      `import { describeConnectorConformance } from '@danube-connect/testing/conformance';`,
      `import { fileSink, fileSource } from ${JSON.stringify(join(fixtures, 'conformance', 'file-plugins.js'))};`,
      ...calls,
      '',
    ].join('\n'),
  );
  const args = ['vitest', 'run', '--reporter=json', '--outputFile=report.json'];
  if (options.testNamePattern) args.push('--testNamePattern', options.testNamePattern);
  // The parent's vitest variables would make the child believe it runs inside a worker.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST')));
  const child = spawn('npx', args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  onTestFinished(() => {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const exitCode = await new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  clearTimeout(timer);
  let report: { testResults?: Array<{ assertionResults?: Array<{ fullName: string; status: string; failureMessages?: string[] }> }> };
  try {
    report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
  } catch (err) {
    throw new Error(`the kit run (exit ${exitCode}) left no readable report.json; output:\n${output.slice(-4_000)}`, { cause: err });
  }
  const tests = (report.testResults ?? []).flatMap((file) =>
    (file.assertionResults ?? []).map((t) => ({ name: t.fullName, status: t.status, failure: (t.failureMessages ?? []).join('\n') })),
  );
  return { exitCode, tests, output };
}
