import { describe, expect, it } from 'vitest';
import { drainTimeoutFor } from '../../src/plugin/protocol.js';

describe('drainTimeoutFor', () => {
  it('keeps 10 % of a stop timeout, at most 1 s, for the stop report and the exit', () => {
    expect(drainTimeoutFor(10_000)).toBe(9_000);
    expect(drainTimeoutFor(30_000)).toBe(29_000);
    expect(drainTimeoutFor(500)).toBe(450);
    expect(drainTimeoutFor(0)).toBe(0);
    expect(drainTimeoutFor(Number.NaN)).toBe(0);
  });
});
