import type { TestBroker } from '@danube-connect/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureSpec, startBroker, SupervisorUnderTest, uniqueTopic } from './helpers.js';

// Operating one connector without touching the others (Kafka Connect's restart, pause and resume), and what a
// reload does with settings that need no new child.

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
});

const idle = (name: string) => fixtureSpec('counter-source', { name, serviceUrl: broker.serviceUrl, config: { topic: uniqueTopic(name), count: 0 } });

describe('operating one connector', () => {
  it('pause stops it gracefully and keeps it paused until resume; the other connector is untouched', async () => {
    const t = new SupervisorUnderTest();
    t.supervisor.start([idle('a'), idle('b')]);
    await t.state('a', 'running');
    const { pid: bPid } = await t.state('b', 'running');
    const paused = await t.supervisor.control('a', 'pause');
    expect(paused).toMatchObject({ state: 'paused', pid: undefined });
    expect(t.snapshot('a').lastExit).toMatchObject({ code: 0, reason: 'requested' });
    expect(t.statesOf('a')).toEqual(['starting', 'running', 'stopping', 'paused']);
    // Paused again, or stopped and restarted by nobody.
    expect(await t.supervisor.control('a', 'pause')).toMatchObject({ state: 'paused' });
    expect(t.snapshot('b')).toMatchObject({ state: 'running', pid: bPid });

    expect(await t.supervisor.control('a', 'resume')).toMatchObject({ state: 'starting' });
    await t.state('a', 'running');
    expect(t.statesOf('a')).toEqual(['starting', 'running', 'stopping', 'paused', 'starting', 'running']);
    expect(await t.supervisor.control('nobody', 'pause')).toBeUndefined();
  });

  it('restart clears a failed connector (its crash history forgotten) and gives a running one a new child', async () => {
    const t = new SupervisorUnderTest();
    t.supervisor.start([fixtureSpec('crash-on-start', { serviceUrl: broker.serviceUrl, restart: { maxCrashes: 1 } }), idle('a')]);
    await t.state('crash-on-start', 'failed');
    const { pid } = await t.state('a', 'running');
    expect(await t.supervisor.control('crash-on-start', 'restart')).toMatchObject({ state: 'starting', crashes: 0, restarts: 0 });
    await t.until('crash-on-start', (s) => s.state === 'failed' && t.statesOf('crash-on-start').length > 2);
    expect(t.statesOf('crash-on-start')).toEqual(['starting', 'failed', 'starting', 'failed']);

    expect(await t.supervisor.control('a', 'restart')).toMatchObject({ state: 'starting' });
    const again = await t.state('a', 'running');
    expect(again.pid).not.toBe(pid);
    expect(t.statesOf('a')).toEqual(['starting', 'running', 'stopping', 'stopped', 'starting', 'running']);
  });

  it('reload applies restart settings, timeouts and the ping interval live, names a log_level change that needs a restart, and resumes a paused connector', async () => {
    const t = new SupervisorUnderTest();
    const a = idle('a');
    const b = idle('b');
    t.supervisor.start([a, b]);
    const { pid } = await t.state('a', 'running');
    await t.state('b', 'running');
    await t.supervisor.control('b', 'pause');
    const result = await t.supervisor.replace([{ ...a, restart: { ...a.restart, maxCrashes: 9 }, pingIntervalMs: 300, shutdownTimeoutMs: 1_234, logLevel: 'debug' }, b]);
    expect(result).toEqual({
      started: [],
      restarted: ['b'],
      stopped: [],
      unchanged: [],
      updated: ['a'],
      needsRestart: ['connector "a": log_level info → debug takes effect when it restarts (danube-connect restart a)'],
    });
    expect(t.snapshot('a')).toMatchObject({ state: 'running', pid });
    expect(t.supervisor.spec('a')).toMatchObject({ pingIntervalMs: 300, shutdownTimeoutMs: 1_234, logLevel: 'debug', restart: { maxCrashes: 9 } });
    await t.state('b', 'running');
  });
});
