import type { TestBroker } from '@danube-connect/sdk/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureSpec, HAS_BUILD, startBroker, SupervisorUnderTest } from './helpers.js';

// What a child writes cannot hurt the host: lines are bounded, and the host owns the envelope of every line it
// relays. Real children of the built SDK bootstrap running fixture plugins that misbehave on purpose.

const MAX_LINE_BYTES = 64 * 1024;

let broker: TestBroker;
beforeAll(async () => {
  if (HAS_BUILD) broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
});

describe.skipIf(!HAS_BUILD)('child output', () => {
  it('writes-huge-line: a 48 MiB line with no newline is cut to 64 KiB, marked and counted; the other connector keeps running', async () => {
    const t = new SupervisorUnderTest();
    t.supervisor.start([
      fixtureSpec('writes-huge-line', { name: 'huge', serviceUrl: broker.serviceUrl, config: { mib: 48 } }),
      fixtureSpec('writes-huge-line', { name: 'huge-err', serviceUrl: broker.serviceUrl, config: { mib: 8, stream: 'stderr' } }),
      fixtureSpec('writes-huge-line', { name: 'neighbour', serviceUrl: broker.serviceUrl, config: { mib: 0 } }),
    ]);
    await t.until('huge', () => t.childLogs.some((l) => l.connector === 'huge' && l.msg === 'writes-huge-line: done'));
    await t.until('huge-err', () => t.childLogs.some((l) => l.connector === 'huge-err' && l.msg === 'writes-huge-line: done'));
    const everyLine = [...t.relayed, ...t.hostLogs.map((l) => JSON.stringify(l))];
    expect(Math.max(...everyLine.map((l) => Buffer.byteLength(l)))).toBeLessThan(MAX_LINE_BYTES + 1024);
    const cut = t.childLogs.filter((l) => l.truncated === true);
    expect(cut.map((l) => [l.connector, l.stream])).toEqual([
      ['huge', 'stdout'],
      ['huge-err', 'stderr'],
    ]);
    expect(String(cut[0]?.msg)).toMatch(/^x{65536}/);
    expect(t.snapshot('huge')).toMatchObject({ state: 'running', restarts: 0, truncatedLines: 1 });
    expect(t.snapshot('huge-err')).toMatchObject({ state: 'running', restarts: 0, truncatedLines: 1 });
    expect(t.snapshot('neighbour')).toMatchObject({ state: 'running', restarts: 0, truncatedLines: 0 });
  });
});
