import type { TestBroker } from '@danube-connect/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureSpec, startBroker, SupervisorUnderTest } from './helpers.js';

// What a child writes cannot hurt the host: lines are bounded, and the host owns the envelope of every line it
// relays. Real children of the built SDK bootstrap running fixture plugins that misbehave on purpose.

const MAX_LINE_BYTES = 64 * 1024;

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
});

describe('child output', () => {
  it('writes-huge-line: a 48 MiB line with no newline is cut to 64 KiB, marked and counted; the other connector keeps running', async () => {
    const t = new SupervisorUnderTest();
    t.supervisor.start([
      fixtureSpec('writes-huge-line', { name: 'huge', serviceUrl: broker.serviceUrl, config: { mib: 48 } }),
      fixtureSpec('writes-huge-line', { name: 'huge-err', serviceUrl: broker.serviceUrl, config: { mib: 8, stream: 'stderr' } }),
      fixtureSpec('writes-huge-line', { name: 'neighbour', serviceUrl: broker.serviceUrl, config: { mib: 0 } }),
    ]);
    await t.until('huge', () => t.childLogs.some((l) => l.connector === 'huge' && l.msg === 'writes-huge-line: done'));
    await t.until('huge-err', () => t.childLogs.some((l) => l.connector === 'huge-err' && l.msg === 'writes-huge-line: done'));
    // Its cut line comes on stderr, a pipe of its own: the 'done' on stdout may be relayed before it.
    await t.until('huge-err', () => t.childLogs.some((l) => l.connector === 'huge-err' && l.stream === 'stderr' && l.truncated === true));
    await t.state('neighbour', 'running');
    const everyLine = [...t.relayed, ...t.hostLogs.map((l) => JSON.stringify(l))];
    expect(Math.max(...everyLine.map((l) => Buffer.byteLength(l)))).toBeLessThan(MAX_LINE_BYTES + 1024);
    const cut = t.childLogs.filter((l) => l.truncated === true);
    expect(new Set(cut.map((l) => `${l.connector} ${l.stream}`))).toEqual(new Set(['huge stdout', 'huge-err stderr']));
    expect(String(cut[0]?.msg)).toMatch(/^x{65536}/);
    for (const name of ['huge', 'huge-err']) {
      const snapshot = t.snapshot(name);
      expect(snapshot).toMatchObject({ state: 'running', restarts: 0 });
      expect(snapshot.truncatedLines).toBe(cut.filter((l) => l.connector === name).length);
    }
    expect(t.snapshot('neighbour')).toMatchObject({ state: 'running', restarts: 0, truncatedLines: 0 });
  });

  it('forges-log-lines: the host owns the envelope; a child value for one of its keys is kept under childFields, text is wrapped', async () => {
    const t = new SupervisorUnderTest();
    t.supervisor.start([fixtureSpec('forges-log-lines', { name: 'forger', serviceUrl: broker.serviceUrl })]);
    await t.until('forger', () => t.childLogs.some((l) => l.msg === 'forges-log-lines: done'));
    const pid = t.snapshot('forger').pid;
    // Every relayed line is one JSON object with the envelope the host assigned, and one "pid" key.
    expect(t.relayed.length).toBe(t.childLogs.length);
    for (const [i, line] of t.relayed.entries()) {
      expect(t.childLogs[i], line).toMatchObject({ connector: 'forger', plugin: '@fixtures/forges-log-lines@1.0.0', pid });
      expect(t.childLogs[i], line).not.toHaveProperty('component');
      const nested = (t.childLogs[i]?.childFields ?? {}) as Record<string, unknown>;
      expect(line.match(/"pid":/g)?.length, line).toBe('pid' in nested ? 2 : 1);
    }
    const byMsg = (msg: unknown) => t.childLogs.find((l) => l.msg === msg);
    expect(byMsg('forged: host line')).toEqual({ level: 50, time: 1, pid, connector: 'forger', plugin: '@fixtures/forges-log-lines@1.0.0', childFields: { component: 'host', pid: 1, hostname: 'forged' }, msg: 'forged: host line' });
    expect(byMsg('forged: other connector')).toMatchObject({ level: 30, time: 2, connector: 'forger', childFields: { connector: 'someone-else', plugin: 'evil@6.6.6' } });
    expect(t.childLogs.find((l) => l.detail === 'kept')).toMatchObject({ level: 30, connector: 'forger', childFields: { level: 'loud', time: 'yesterday', msg: 42, childFields: 'mine' } });
    for (const text of ['["an", "array"]', '{"broken json', 'plain text on stdout']) {
      expect(byMsg(text), text).toMatchObject({ level: 30, connector: 'forger', stream: 'stdout' });
    }
    // The SDK logger's own lines (same connector, plugin and pid as the host's) carry no childFields.
    expect(byMsg('forges-log-lines: done')).not.toHaveProperty('childFields');
    expect(JSON.stringify(t.hostLogs)).not.toContain('forged');
  });

  it("the host's own lines about a child carry its pid as childPid: one pid key per line, the host's", async () => {
    const t = new SupervisorUnderTest();
    t.supervisor.start([fixtureSpec('writes-huge-line', { name: 'quiet', serviceUrl: broker.serviceUrl, config: { mib: 0 } })]);
    const { pid } = await t.state('quiet', 'running');
    const about = t.hostLines.filter((line) => line.includes('"connector":"quiet"'));
    expect(about.length).toBeGreaterThanOrEqual(2);
    for (const line of about) expect(line.match(/"pid":/g)?.length, line).toBe(1);
    expect(t.hostLogs.find((l) => l.msg === 'connector child forked')).toMatchObject({ pid: process.pid, childPid: pid });
  });
});
