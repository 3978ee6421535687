import type { TestBroker } from '@danube-connect/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorSnapshot } from '../../src/supervisor/connector-state.js';
import { fixtureSpec, startBroker, SupervisorUnderTest, uniqueTopic } from './helpers.js';
import { unusedLoopbackUrl } from '@danube-connect/testing';

// One connector at a time under the Supervisor: real children of the built SDK bootstrap running fixture plugins
// named after what they provoke, against an in-process TestBroker. Every wait is for an event, with a deadline.

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
});


describe('ConnectorSupervisor', () => {
  it('crash-after-n: restarts after each crash with a doubling backoff, keeping the crash record', async () => {
    const t = new SupervisorUnderTest({ random: () => 0.5 });
    const backoffs: ConnectorSnapshot[] = [];
    t.supervisor.on('state', (e) => {
      if (e.state === 'backoff') backoffs.push(t.snapshot(e.connector));
    });
    t.supervisor.start([fixtureSpec('crash-after-n', { serviceUrl: broker.serviceUrl, config: { topic: uniqueTopic('crash'), after: 3 }, restart: { initialDelayMs: 50, maxCrashes: 10 } })]);

    const running = await t.until('crash-after-n', (s) => s.restarts === 2 && s.state === 'running');
    expect(t.statesOf('crash-after-n').slice(0, 8)).toEqual(['starting', 'running', 'backoff', 'starting', 'running', 'backoff', 'starting', 'running']);
    // Delays 50 then 100 ms (random 0.5 = no jitter), counted from the exit.
    expect(backoffs.map((s) => (s.nextAttemptAt as number) - (s.lastExit?.at as number))).toEqual([50, 100]);
    expect(backoffs[0]?.pid).toBeUndefined();
    expect(running.pid).toBeGreaterThan(0);
    expect(running.lastExit).toMatchObject({
      code: 70,
      signal: null,
      reason: 'uncaught',
      errorCode: 'DC_ERR_UNCAUGHT',
      message: expect.stringContaining('crash-after-n: crashing after 3 records'),
    });
    expect(running.crashes).toBe(2);
    expect(t.hostLogs.some((l) => l.connector === 'crash-after-n' && /connector crashed .*restarting in 50 ms/.test(String(l.msg)))).toBe(true);
  });

  it('crash-on-start: retried, then failed after maxCrashes within the window', async () => {
    const t = new SupervisorUnderTest();
    t.supervisor.start([fixtureSpec('crash-on-start', { serviceUrl: broker.serviceUrl, restart: { initialDelayMs: 20, maxCrashes: 3 } })]);
    const failed = await t.state('crash-on-start', 'failed');
    expect(t.statesOf('crash-on-start')).toEqual(['starting', 'backoff', 'starting', 'backoff', 'starting', 'failed']);
    expect(failed).toMatchObject({ restarts: 2, pid: undefined, nextAttemptAt: undefined, detail: expect.stringMatching(/^crash loop: 3 crashes within 60000 ms; last: .*create throws on purpose/) });
    expect(failed.lastExit).toMatchObject({ code: 72, reason: 'start_failed', errorCode: 'create_threw' });
  });

  it('wrong-default-export: failed at once, no pointless retry', async () => {
    const t = new SupervisorUnderTest();
    t.supervisor.start([fixtureSpec('wrong-default-export', { serviceUrl: broker.serviceUrl })]);
    const failed = await t.state('wrong-default-export', 'failed');
    expect(t.statesOf('wrong-default-export')).toEqual(['starting', 'failed']);
    expect(failed).toMatchObject({ restarts: 0, crashes: 0, detail: expect.stringMatching(/^not restarted: /) });
    expect(failed.lastExit).toMatchObject({ code: 72, reason: 'plugin_unusable', errorCode: 'wrong_default_export' });
  });

  it('never-ready: killed at the ready deadline with DC_ERR_READY_TIMEOUT, then restarted', async () => {
    const t = new SupervisorUnderTest();
    t.supervisor.start([fixtureSpec('never-ready', { serviceUrl: broker.serviceUrl, readyTimeoutMs: 1_500 })]);
    const again = await t.until('never-ready', (s) => s.restarts === 1 && s.state === 'starting');
    expect(t.statesOf('never-ready')).toEqual(['starting', 'backoff', 'starting']);
    expect(again.lastExit).toMatchObject({ signal: 'SIGKILL', reason: 'ready_timeout', errorCode: 'DC_ERR_READY_TIMEOUT', message: 'not ready within 1500 ms: killed' });
  });

  it('hangs: a busy child stops answering pings, is SIGKILLed as hung and restarted', async () => {
    const t = new SupervisorUnderTest();
    t.supervisor.start([fixtureSpec('hangs', { serviceUrl: broker.serviceUrl, pingIntervalMs: 200, config: { afterMs: 50 } })]);
    const again = await t.until('hangs', (s) => s.restarts === 1 && s.state === 'running');
    expect(t.statesOf('hangs').slice(0, 4)).toEqual(['starting', 'running', 'backoff', 'starting']);
    expect(again.lastExit).toMatchObject({ signal: 'SIGKILL', reason: 'hung', errorCode: 'DC_ERR_HUNG', message: 'no answer to pings for 600 ms (hung): killed' });
  });

  it('leaks-memory under memoryMb 32: the exit is attributed to the heap cap ("out of memory")', async () => {
    const t = new SupervisorUnderTest();
    t.supervisor.start([fixtureSpec('leaks-memory', { serviceUrl: broker.serviceUrl, memoryMb: 32, restart: { maxCrashes: 1 } })]);
    const failed = await t.state('leaks-memory', 'failed', 60_000);
    expect(failed.lastExit).toMatchObject({ reason: 'out_of_memory', errorCode: 'DC_ERR_OUT_OF_MEMORY', message: expect.stringMatching(/^out of memory: the heap limit \(memory_mb = 32\) was reached/) });
    expect(failed.lastExit?.stderr.join('\n')).toMatch(/heap/i);
    expect(failed.lastExit?.stderr.length).toBeLessThanOrEqual(20);
    // Raw stderr lines are relayed, wrapped in the connector's envelope.
    expect(t.childLogs.some((l) => l.connector === 'leaks-memory' && l.stream === 'stderr' && /heap/i.test(String(l.msg)))).toBe(true);
  }, 90_000);

  it("bounds each child's young generation (2 MB semi-spaces): V8's default grows it to 8 MB and more under churn", async () => {
    const t = new SupervisorUnderTest();
    t.supervisor.start([fixtureSpec('reports-heap-spaces', { serviceUrl: broker.serviceUrl })]);
    await t.until('reports-heap-spaces', () => t.childLogs.some((l) => l.msg === 'heap spaces'));
    const line = t.childLogs.find((l) => l.msg === 'heap spaces');
    expect(line?.newSpaceMb).toBeGreaterThan(0);
    expect(line?.newSpaceMb).toBeLessThanOrEqual(4);
  });

  it('follows the connection: running → degraded while Danube is unreachable, with the detail; pongs recorded', async () => {
    const t = new SupervisorUnderTest();
    // The default 1 s ping interval: at 200 ms, three pings a starved child missed (600 ms) got it killed as hung.
    t.supervisor.start([fixtureSpec('counter-source', { serviceUrl: await unusedLoopbackUrl(), shutdownTimeoutMs: 300, config: { topic: uniqueTopic('down') } })]);
    const degraded = await t.state('counter-source', 'degraded');
    expect(degraded.detail).toMatch(/Danube unavailable/);
    const ponged = await t.until('counter-source', (s) => s.lastPong?.state === 'degraded');
    expect(ponged.lastPong).toMatchObject({ detail: expect.any(String), memory: { rssBytes: expect.any(Number) }, stats: { received: expect.any(Number) } });
    expect(t.statesOf('counter-source').slice(0, 3)).toEqual(['starting', 'running', 'degraded']);
  });

  it('relays the child NDJSON log lines, each carrying the connector name', async () => {
    const t = new SupervisorUnderTest();
    t.supervisor.start([fixtureSpec('counter-source', { name: 'relay', serviceUrl: broker.serviceUrl, config: { topic: uniqueTopic('relay'), count: 5 } })]);
    await t.state('relay', 'running');
    // The log line and the ready message travel on different pipes: wait for the line.
    await t.until('relay', () => t.childLogs.some((l) => l.msg === 'connector ready'));
    expect(t.childLogs.every((l) => l.connector === 'relay')).toBe(true);
    const result = await t.supervisor.stop();
    expect(result).toMatchObject({ clean: true, connectors: [{ connector: 'relay', outcome: 'stopped', exit: { code: 0, signal: null } }] });
    expect(t.snapshot('relay')).toMatchObject({ state: 'stopped', pid: undefined, lastExit: { reason: 'requested' } });
  });
});
