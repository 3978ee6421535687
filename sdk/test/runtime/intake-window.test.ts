import { describe, expect, it } from 'vitest';
import { IntakeWindow, MIN_MAX_WAITERS } from '../../src/runtime/intake-window.js';

describe('IntakeWindow', () => {
  it('takes slots up to its capacity, then queues callers in FIFO order', async () => {
    const window = new IntakeWindow(2);
    expect(window.tryAcquire()).toBe(true);
    await window.acquire();
    expect(window.tryAcquire()).toBe(false);
    const order: string[] = [];
    const first = window.acquire().then(() => order.push('first'));
    const second = window.acquire().then(() => order.push('second'));
    window.release();
    await first;
    expect(order).toEqual(['first']);
    expect(window.inUse).toBe(2);
    window.release();
    await second;
    expect(order).toEqual(['first', 'second']);
  });

  it('reports full once and room once per transition (pause/resume)', async () => {
    const events: string[] = [];
    const window = new IntakeWindow(2, { onFull: () => events.push('full'), onRoom: () => events.push('room') });
    window.tryAcquire();
    window.tryAcquire();
    expect(events).toEqual(['full']);
    const waiting = window.acquire();
    // The freed slot goes straight to the waiter: still full, no resume.
    window.release();
    await waiting;
    expect(events).toEqual(['full']);
    window.release(2);
    expect(events).toEqual(['full', 'room']);
    window.tryAcquire();
    window.release();
    expect(events).toEqual(['full', 'room']);
  });

  it('whenRoom waits for a free slot without taking it', async () => {
    const window = new IntakeWindow(1);
    window.tryAcquire();
    let woke = false;
    const room = window.whenRoom().then(() => (woke = true));
    await Promise.resolve();
    expect(woke).toBe(false);
    window.release();
    await room;
    expect(window.inUse).toBe(0);
  });

  it('close refuses waiters and later acquires (false, never a rejection), wakes pull loops, and never resumes the source', async () => {
    const events: string[] = [];
    const window = new IntakeWindow(1, { onFull: () => events.push('full'), onRoom: () => events.push('room') });
    window.tryAcquire();
    const waiting = window.acquire();
    const room = window.whenRoom();
    window.close();
    expect(await waiting).toBe(false);
    expect(await window.acquire()).toBe(false);
    await room;
    expect(window.tryAcquire()).toBe(false);
    window.release();
    expect(events).toEqual(['full']);
  });

  it('caps the waiters: past max(capacity, MIN_MAX_WAITERS) an acquire is refused at once and reported', async () => {
    let overflows = 0;
    const window = new IntakeWindow(1, { onOverflow: () => overflows++ });
    window.tryAcquire();
    const waiting = Array.from({ length: MIN_MAX_WAITERS }, () => window.acquire());
    expect(await window.acquire()).toBe(false);
    expect(overflows).toBe(1);
    window.release();
    expect(await waiting[0]).toBe(true);
    window.close();
    expect(await Promise.all(waiting.slice(1))).toEqual(Array(MIN_MAX_WAITERS - 1).fill(false));
  });

  it('rejects a capacity below 1', () => {
    expect(() => new IntakeWindow(0)).toThrow(RangeError);
  });
});
