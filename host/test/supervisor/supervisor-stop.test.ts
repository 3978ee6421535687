import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestBroker } from '@danube-connect/testing';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { fileLines, fixtureSpec, startBroker, stored, SupervisorUnderTest, tempFile, uniqueTopic, WAIT_MS } from './helpers.js';

/** The built host (`npm test` builds every workspace first); the host-exit case needs a separate host process. */
const HOST_DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

// Supervisor.stop(): `stop` to every child, wait up to shutdownTimeoutMs (+ grace), SIGKILL what is left, and
// report whether everything stopped cleanly.

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('Supervisor.stop', () => {
  it('graceful stop with zero loss: every committed number is in Danube, exit 0, clean', async () => {
    const t = new SupervisorUnderTest();
    const topic = uniqueTopic('drain');
    const commitFile = tempFile('committed.txt');
    t.supervisor.start([fixtureSpec('counter-source', { name: 'counter', serviceUrl: broker.serviceUrl, config: { topic, commitFile } })]);
    const { pid } = await t.state('counter', 'running');
    await t.until('counter', () => fileLines(commitFile).length >= 100);

    const result = await t.supervisor.stop();
    expect(result).toEqual({ clean: true, connectors: [{ connector: 'counter', outcome: 'stopped', exit: { code: 0, signal: null }, report: { drained: expect.any(Number), abandoned: 0 } }] });
    expect(t.statesOf('counter').slice(-2)).toEqual(['stopping', 'stopped']);
    const committed = fileLines(commitFile);
    const inDanube = new Set(stored(broker, topic));
    expect(committed.length).toBeGreaterThanOrEqual(100);
    expect(committed.filter((n) => !inDanube.has(n))).toEqual([]);
    expect(isAlive(pid as number)).toBe(false);
  });

  it('ignores-stop: the drain gives up at the shutdown timeout; stop() reports unclean', async () => {
    const t = new SupervisorUnderTest();
    t.supervisor.start([fixtureSpec('ignores-stop', { serviceUrl: broker.serviceUrl, shutdownTimeoutMs: 300, config: { topic: uniqueTopic('ignores') } })]);
    await t.state('ignores-stop', 'running');
    const result = await t.supervisor.stop();
    expect(result.clean).toBe(false);
    // The child gives up by itself at the deadline (exit 73); on a slow machine the host's SIGKILL may come first.
    expect(['unclean_exit', 'killed']).toContain(result.connectors[0]?.outcome);
    expect(t.snapshot('ignores-stop').state).toBe('stopped');
  });

  it('hangs-on-stop: a child that cannot even give up is SIGKILLed after the timeout; unclean', async () => {
    const t = new SupervisorUnderTest({ stopGraceMs: 200 });
    t.supervisor.start([
      fixtureSpec('hangs-on-stop', { serviceUrl: broker.serviceUrl, shutdownTimeoutMs: 300 }),
      fixtureSpec('counter-source', { name: 'counter', serviceUrl: broker.serviceUrl, config: { topic: uniqueTopic('beside') } }),
    ]);
    const { pid } = await t.state('hangs-on-stop', 'running');
    await t.state('counter', 'running');
    const result = await t.supervisor.stop();
    expect(result.clean).toBe(false);
    expect(result.connectors).toEqual([
      { connector: 'hangs-on-stop', outcome: 'killed', exit: { code: null, signal: 'SIGKILL' }, report: undefined },
      expect.objectContaining({ connector: 'counter', outcome: 'stopped' }),
    ]);
    expect(isAlive(pid as number)).toBe(false);
    expect(t.snapshot('hangs-on-stop')).toMatchObject({ state: 'stopped', lastExit: { reason: 'requested', signal: 'SIGKILL' } });
    expect(t.hostLogs.some((l) => l.connector === 'hangs-on-stop' && l.msg === 'did not exit within the shutdown timeout: SIGKILL')).toBe(true);
  });

  it('a connector in backoff is just cancelled; a failed one stays failed; both count as clean', async () => {
    const t = new SupervisorUnderTest();
    t.supervisor.start([
      // maxDelayMs too: the fixtures' fast restarts cap delays at 400 ms, which a loaded machine outlasts before stop().
      fixtureSpec('crash-on-start', { serviceUrl: broker.serviceUrl, restart: { initialDelayMs: 60_000, maxDelayMs: 60_000 } }),
      fixtureSpec('wrong-default-export', { serviceUrl: broker.serviceUrl }),
    ]);
    const backoff = await t.state('crash-on-start', 'backoff');
    expect(backoff.nextAttemptAt).toBeGreaterThan(Date.now());
    await t.state('wrong-default-export', 'failed');
    const result = await t.supervisor.stop();
    expect(result).toEqual({
      clean: true,
      connectors: [
        { connector: 'crash-on-start', outcome: 'not_running', exit: undefined, report: undefined },
        { connector: 'wrong-default-export', outcome: 'not_running', exit: undefined, report: undefined },
      ],
    });
    expect(t.snapshot('crash-on-start')).toMatchObject({ state: 'stopped', nextAttemptAt: undefined });
    expect(t.snapshot('wrong-default-export').state).toBe('failed');
  });

  it('a stop during the start: the starting child gets stop and the connector ends stopped', async () => {
    const t = new SupervisorUnderTest();
    t.supervisor.start([fixtureSpec('never-ready', { serviceUrl: broker.serviceUrl, shutdownTimeoutMs: 300 })]);
    await t.until('never-ready', () => t.childLogs.some((l) => l.msg === 'never-ready: start called, it never resolves'));
    const result = await t.supervisor.stop();
    // never-ready's start never settles, so the child gives up draining (exit 73).
    expect(result.clean).toBe(false);
    expect(t.statesOf('never-ready')).toEqual(['starting', 'stopping', 'stopped']);
    expect(() => t.supervisor.start([])).toThrow('the supervisor was stopped');
  });

  it('a host that exits without stopping takes its children with it, even one that ignores the disconnect', async () => {
    // A host process runs `hangs` (a busy loop: it can notice neither the IPC disconnect nor a stop), prints the
    // child's pid once running, then exits without stopping anything: the exit hook must SIGKILL the child.
    const spec = fixtureSpec('hangs', { serviceUrl: broker.serviceUrl, pingIntervalMs: 60_000 });
    const script = `
      import { Supervisor } from ${JSON.stringify(HOST_DIST)};
      import { pino } from 'pino';
      const supervisor = new Supervisor({ logger: pino({ level: 'silent' }), relay: () => {} });
      supervisor.on('state', (event) => {
        if (event.state !== 'running') return;
        process.stdout.write(JSON.stringify({ pid: supervisor.connector(event.connector).pid }) + '\\n');
        setTimeout(() => process.exit(0), 200);
      });
      supervisor.start([JSON.parse(process.argv[1])]);
    `;
    const host = spawn(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(spec)], { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    host.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => host.once('exit', resolve));
    expect(code).toBe(0);
    const { pid } = JSON.parse(output) as { pid: number };
    onTestFinished(() => {
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    });
    const deadline = Date.now() + WAIT_MS;
    while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(isAlive(pid)).toBe(false);
  });
});
