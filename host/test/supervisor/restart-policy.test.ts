import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RestartSettings } from '../../src/connector-spec.js';
import { RestartPolicy } from '../../src/supervisor/restart-policy.js';

const SETTINGS: RestartSettings = { initialDelayMs: 1_000, maxDelayMs: 60_000, stableAfterMs: 60_000, maxCrashes: 5, windowMs: 300_000 };

function policy(settings: Partial<RestartSettings> = {}, random = () => 0.5): RestartPolicy {
  return new RestartPolicy({ ...SETTINGS, ...settings }, { clock: () => Date.now(), random });
}

function delays(p: RestartPolicy, count: number): (number | string)[] {
  return Array.from({ length: count }, () => {
    const decision = p.crashed('retryable');
    return decision.action === 'restart' ? decision.delayMs : decision.reason;
  });
}

describe('RestartPolicy', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2025-01-01T00:00:00Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('doubles the delay from initialDelayMs per consecutive crash, capped at maxDelayMs', () => {
    const p = policy({ maxCrashes: 100 });
    expect(delays(p, 9)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  });

  it('applies ±20 % jitter from the injected random source', () => {
    expect(policy({}, () => 0).crashed('retryable')).toEqual({ action: 'restart', delayMs: 800, attempt: 1 });
    expect(policy({}, () => 0.999_999).crashed('retryable')).toMatchObject({ delayMs: 1_200 });
    const capped = policy({ maxCrashes: 100 }, () => 0);
    expect(delays(capped, 8).at(-1)).toBe(48_000);
  });

  it('gives up after maxCrashes within windowMs', () => {
    const p = policy({ maxCrashes: 3 });
    expect(p.crashed('retryable')).toMatchObject({ action: 'restart', attempt: 1 });
    vi.advanceTimersByTime(1_000);
    expect(p.crashed('retryable')).toMatchObject({ action: 'restart', attempt: 2 });
    vi.advanceTimersByTime(2_000);
    expect(p.crashed('retryable')).toEqual({ action: 'give_up', reason: 'crash_loop' });
  });

  it('forgets crashes older than windowMs', () => {
    const p = policy({ maxCrashes: 3, windowMs: 10_000 });
    p.crashed('retryable');
    p.crashed('retryable');
    expect(p.crashes).toBe(2);
    vi.advanceTimersByTime(10_000);
    expect(p.crashes).toBe(0);
    // Still the third consecutive crash for the delay, but not a crash loop.
    expect(p.crashed('retryable')).toEqual({ action: 'restart', delayMs: 4_000, attempt: 3 });
  });

  it('resets the crash count after stableAfterMs of running', () => {
    const p = policy({ maxCrashes: 3, stableAfterMs: 30_000 });
    p.crashed('retryable');
    p.crashed('retryable');
    p.running();
    vi.advanceTimersByTime(29_999);
    expect(p.crashes).toBe(2);
    vi.advanceTimersByTime(1);
    expect(p.crashes).toBe(0);
    expect(p.crashed('retryable')).toEqual({ action: 'restart', delayMs: 1_000, attempt: 1 });
  });

  it('a short run does not reset the count', () => {
    const p = policy({ maxCrashes: 3, stableAfterMs: 30_000 });
    p.crashed('retryable');
    p.running();
    vi.advanceTimersByTime(5_000);
    expect(p.crashed('retryable')).toMatchObject({ action: 'restart', delayMs: 2_000, attempt: 2 });
    p.running();
    vi.advanceTimersByTime(5_000);
    expect(p.crashed('retryable')).toEqual({ action: 'give_up', reason: 'crash_loop' });
  });

  it('gives up at once on a permanent failure, without counting it as a crash', () => {
    const p = policy();
    expect(p.crashed('permanent')).toEqual({ action: 'give_up', reason: 'not_retryable' });
    expect(p.crashes).toBe(0);
  });

  it('reset() forgets everything (reload)', () => {
    const p = policy({ maxCrashes: 2 });
    p.crashed('retryable');
    p.reset();
    expect(p.crashes).toBe(0);
    expect(p.crashed('retryable')).toMatchObject({ action: 'restart', delayMs: 1_000 });
  });

  it('maxCrashes 1 gives up on the first crash', () => {
    expect(policy({ maxCrashes: 1 }).crashed('retryable')).toEqual({ action: 'give_up', reason: 'crash_loop' });
  });
});
