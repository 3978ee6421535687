import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { childEntryPath } from '../src/connector-process.js';
import { runConformanceKit, type KitRun, type KitSuite } from './conformance-run.js';

// The kit as plugin authors run it (a vitest subprocess with vitest's defaults, against the built dist): the
// SDK's example plugins pass it, and each broken fixture fails it in the case of the guarantee it breaks.

/**
 * Deadlines of one kit run (vitest's start, its child processes, the kit's own case deadlines): a single case, and
 * the 14 cases of the examples, which took 90 s with both cores kept busy by two other processes.
 */
const RUN_MS = 240_000;
const EXAMPLES_RUN_MS = 420_000;

const describeRun = (run: KitRun) =>
  `exit ${run.exitCode}; tests:\n${run.tests.map((t) => `  ${t.status} ${t.name}${t.failure ? `\n    ${t.failure.split('\n')[0]}` : ''}`).join('\n')}\noutput:\n${run.output.slice(-3_000)}`;

describe('conformance kit', () => {
  beforeAll(() => {
    if (!existsSync(childEntryPath())) throw new Error(`${childEntryPath()} is missing: run \`npm run build\` first (the kit runs the built SDK)`);
  });

  it('passes the example file source and sink with every case on, under vitest defaults', async () => {
    const run = await runConformanceKit(
      [
        { plugin: 'example-file-source', kind: 'source' },
        { plugin: 'example-file-sink', kind: 'sink' },
      ],
      { timeoutMs: EXAMPLES_RUN_MS },
    );
    expect(run.tests.filter((t) => t.status !== 'passed'), describeRun(run)).toEqual([]);
    // 7 cases each: manifest, delivery, stop in flight, crash, danube outage, back-pressure, metrics.
    expect(run.tests, describeRun(run)).toHaveLength(14);
    expect(run.exitCode).toBe(0);
  }, EXAMPLES_RUN_MS + 10_000);

  // Lost records stay lost: a shorter wait for them keeps these runs short without weakening the verdict.
  const broken: Array<KitSuite & { case: string; guarantee: string }> = [
    // 200 records stream for 10 s at the kit's 50 ms per ack: the kill lands with most of them unsent however
    // slow the kit's looks are on a loaded machine.
    { plugin: 'acks-before-danube', kind: 'source', options: { records: 200 }, case: 'crash', guarantee: '[at-least-once]' },
    { plugin: 'reorders-key', kind: 'source', case: 'delivery', guarantee: '[per-key order]' },
    { plugin: 'bypasses-window', kind: 'source', case: 'back-pressure', guarantee: '[back-pressure]' },
    { plugin: 'acks-before-write', kind: 'sink', case: 'delivery', guarantee: '[ack after write]' },
    // It acknowledges the batch it failed to write: Danube is told the record is done while it is not written.
    { plugin: 'drops-on-error', kind: 'sink', case: 'delivery', guarantee: '[ack after write]' },
    { plugin: 'exits-in-close', kind: 'sink', case: 'delivery', guarantee: '[stop report]' },
  ];
  it.each(broken)('fails $plugin in its $case case, naming $guarantee', async ({ plugin, kind, options, case: name, guarantee }) => {
    const run = await runConformanceKit([{ plugin, kind, options: { deliveryTimeoutMs: 8_000, ...options } }], { testNamePattern: `conformance \\(${kind}\\) ${name}:`, timeoutMs: RUN_MS });
    const ran = run.tests.filter((t) => t.status !== 'skipped' && t.status !== 'pending');
    expect(ran.map((t) => t.name), describeRun(run)).toEqual([expect.stringContaining(` ${name}: `)]);
    expect(ran[0]?.status, describeRun(run)).toBe('failed');
    expect(ran[0]?.failure, describeRun(run)).toContain(guarantee);
    expect(run.exitCode).toBe(1);
  }, RUN_MS + 10_000);
});
