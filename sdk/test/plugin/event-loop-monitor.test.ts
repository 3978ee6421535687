import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it, onTestFinished } from 'vitest';
import { EventLoopMonitor } from '../../src/plugin/event-loop-monitor.js';

describe('EventLoopMonitor', () => {
  it('reports a blocked loop in the p99 of the interval, in ms', async () => {
    const monitor = new EventLoopMonitor(5);
    onTestFinished(() => monitor.stop());
    monitor.takeP99Ms();
    // After a reset Node drops the first sample (it has no previous tick to measure from): let one be taken.
    await delay(20);
    const until = Date.now() + 100;
    while (Date.now() < until) {
      // block the loop
    }
    // One turn of the loop lets the histogram's timer record the delay it just suffered.
    await delay(20);
    expect(monitor.takeP99Ms()).toBeGreaterThan(20);
  });
});
