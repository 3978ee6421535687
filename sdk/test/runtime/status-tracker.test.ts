import { describe, expect, it } from 'vitest';
import type { RuntimeStatus } from '../../src/runtime/connector-runtime.js';
import { StatusTracker } from '../../src/runtime/status-tracker.js';

describe('StatusTracker', () => {
  it('is degraded while any problem is open and tells listeners about each change only', () => {
    const status = new StatusTracker();
    const seen: RuntimeStatus[] = [];
    status.onChange((s) => seen.push(s));
    expect(status.status).toEqual({ state: 'connected' });
    status.degrade('a', 'topic missing');
    status.degrade('a', 'topic missing');
    status.degrade('b', 'writes blocked');
    status.recover('a');
    status.recover('a');
    status.recover('b');
    expect(seen).toEqual([
      { state: 'degraded', detail: 'topic missing' },
      { state: 'degraded', detail: 'topic missing; writes blocked' },
      { state: 'degraded', detail: 'writes blocked' },
      { state: 'connected' },
    ]);
  });

  it('keeps the detail short when many problems are open', () => {
    const status = new StatusTracker();
    for (let i = 0; i < 5; i++) status.degrade(String(i), `p${i}`);
    expect(status.status.detail).toBe('p0; p1; p2; and 2 more');
  });
});
