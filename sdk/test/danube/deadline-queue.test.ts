import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineQueue } from '../../src/danube/deadline-queue.js';

describe('DeadlineQueue', () => {
  let clock = 0;
  const queue = () => new DeadlineQueue(() => clock);
  const advance = (ms: number) => {
    clock += ms;
    vi.advanceTimersByTime(ms);
  };
  beforeEach(() => {
    vi.useFakeTimers();
    clock = 0;
  });
  afterEach(() => vi.useRealTimers());

  it('expires each call at its own deadline, per timeout, in order; a cancelled call never expires', () => {
    const q = queue();
    const expired: string[] = [];
    const call = (name: string) => ({ expired: () => expired.push(name) });
    q.add(100, call('a'));
    advance(10);
    const b = q.add(100, call('b'));
    q.add(30, call('short'));
    advance(30);
    expect(expired).toEqual(['short']);
    q.cancel(b);
    advance(59);
    expect(expired).toEqual(['short']);
    advance(1);
    expect(expired).toEqual(['short', 'a']);
    advance(1_000);
    expect(expired).toEqual(['short', 'a']);
    expect(q.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('one timer per timeout however many calls wait, re-armed for the next deadline', () => {
    const q = queue();
    let expired = 0;
    for (let i = 0; i < 500; i++) {
      q.add(1_000, { expired: () => expired++ });
      advance(1);
    }
    expect(vi.getTimerCount()).toBe(1);
    // Deadlines 1000..1499 ms; the clock is at 500.
    advance(500);
    expect(expired).toBe(1);
    advance(250);
    expect(expired).toBe(251);
    expect(vi.getTimerCount()).toBe(1);
    advance(249);
    expect(expired).toBe(500);
  });

  it('finished calls behind a slow one do not pile up: memory stays proportional to the calls in flight', () => {
    const q = queue();
    q.add(60_000, { expired: () => {} }); // the slow head
    for (let i = 0; i < 100_000; i++) {
      const entry = q.add(60_000, { expired: () => {} });
      q.cancel(entry);
    }
    expect(q.size).toBe(1);
    expect(q.held).toBeLessThanOrEqual(2 + 1024);
  });
});
