import { once } from 'node:events';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { MAX_LOG_BUFFER_BYTES } from '../../src/logging.js';
import { CHILD_EXIT_CODES } from '../../src/plugin/protocol.js';
import { TestBroker } from '@danube-connect/testing';
import { forkChild, type ForkedChild } from './fork-child.js';

// A plugin that logs faster than the host relays its stdout: the child keeps a bounded log buffer, drops and
// counts what does not fit, and a stop does not wait for the backlog (real child, real pipe, not read).

const WAIT = { timeout: 20_000, interval: 50 };

async function sample(child: ForkedChild, name: string): Promise<number | undefined> {
  const metric = (await child.metrics()).find((m) => m.name === name);
  return metric?.values.find((v) => v.labels['connector'] === 'c-floods-logs')?.value;
}

describe('connector child: a log flood with a stalled stdout reader', () => {
  it('buffers at most MAX_LOG_BUFFER_BYTES, counts the dropped lines (metric and pong), and stops promptly with the pipe still full', async () => {
    const broker = await TestBroker.start();
    onTestFinished(() => broker.stop());
    const child = forkChild();
    child.pauseStdout();
    child.startFixture({ plugin: 'floods-logs', serviceUrl: broker.serviceUrl });
    await child.next('ready');

    // Far more than the buffer holds has been logged once lines are dropped; the buffer never grew past its cap.
    await vi.waitFor(async () => expect(await sample(child, 'danube_connector_log_lines_dropped_total')).toBeGreaterThan(10_000), WAIT);
    const buffered = await sample(child, 'danube_connector_log_buffered_bytes');
    expect(buffered).toBeGreaterThan(0);
    expect(buffered).toBeLessThanOrEqual(MAX_LOG_BUFFER_BYTES);
    const pong = await child.ping();
    expect(pong.logLinesDropped).toBeGreaterThan(10_000);

    // The stop is not held up by the backlog nobody reads: the child exits within its stop timeout plus the
    // bounded log flush, while stdout is still not read.
    const exited = once(child.process, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    child.send({ type: 'stop', timeoutMs: 2_000 });
    const [code] = await Promise.race([
      exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no exit within 10 s of the stop; stderr: ${child.stderr()}`)), 10_000)),
    ]);
    expect(code, child.stderr()).toBe(CHILD_EXIT_CODES.ok);

    // Lines are dropped whole: what did reach the pipe is valid NDJSON (logs() parses every line).
    child.resumeStdout();
    await child.exit();
    expect(child.logs().filter((line) => line['msg'] === 'flood').length).toBeGreaterThan(0);
  });
});
