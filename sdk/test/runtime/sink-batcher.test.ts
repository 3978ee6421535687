import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SinkBatcher, type SinkBatcherOptions } from '../../src/runtime/sink-batcher.js';

const batcher = (options: Partial<SinkBatcherOptions> = {}) =>
  new SinkBatcher<number>({ batchSize: 5, batchTimeoutMs: 1_000, maxUnacked: 10, now: () => Date.now(), ...options }, String);

/** The batch next() hands out, or 'pending' when it has not resolved after all due timers and microtasks ran. */
async function settled<T>(promise: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([promise, Promise.resolve().then(() => Promise.resolve('pending' as const))]);
}

describe('SinkBatcher', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('hands out a batch as soon as batchSize records are buffered', async () => {
    const b = batcher();
    for (let i = 0; i < 7; i++) b.push(i);
    expect(await b.next(new AbortController().signal)).toEqual([0, 1, 2, 3, 4]);
    expect(b.buffered).toBe(2);
    expect(b.pending).toBe(7);
  });

  it('waits batchTimeoutMs from the batch\'s first record, then hands out what is there', async () => {
    const b = batcher();
    const next = b.next(new AbortController().signal);
    b.push(1);
    await vi.advanceTimersByTimeAsync(600);
    b.push(2);
    expect(await settled(next)).toBe('pending');
    await vi.advanceTimersByTimeAsync(399);
    expect(await settled(next)).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(await next).toEqual([1, 2]);
  });

  it('flushes at once when the pending records fill the unacked window, however large the batch may be', async () => {
    const b = batcher({ batchSize: 1_000, batchTimeoutMs: 60_000, maxUnacked: 10 });
    const next = b.next(new AbortController().signal);
    for (let i = 0; i < 9; i++) b.push(i);
    expect(await settled(next)).toBe('pending');
    b.push(9);
    expect(await next).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('counts records handed out but not settled toward the window', async () => {
    const b = batcher({ batchSize: 4, batchTimeoutMs: 60_000, maxUnacked: 6 });
    for (let i = 0; i < 4; i++) b.push(i);
    const first = (await b.next(new AbortController().signal)) as number[];
    b.push(4);
    const next = b.next(new AbortController().signal);
    expect(await settled(next)).toBe('pending');
    b.push(5); // 4 handed out + 2 buffered = the window of 6
    expect(await next).toEqual([4, 5]);
    for (const n of first) b.settle(n);
    expect(b.pending).toBe(2);
  });

  it('refuses a redelivered copy of a pending record, and takes it again once settled', async () => {
    const b = batcher({ batchSize: 1 });
    expect(b.push(1)).toBe(true);
    expect(b.push(1)).toBe(false);
    const [one] = (await b.next(new AbortController().signal)) as number[];
    expect(b.push(1)).toBe(false);
    b.settle(one!);
    expect(b.push(1)).toBe(true);
  });

  it('next() resolves undefined when its signal aborts, taking nothing', async () => {
    const b = batcher();
    const abort = new AbortController();
    const next = b.next(abort.signal);
    b.push(1);
    abort.abort();
    expect(await next).toBeUndefined();
    expect(b.buffered).toBe(1);
  });

  it('room() waits while a full batch (at least the window) is buffered', async () => {
    const b = batcher({ batchSize: 3, maxUnacked: 4, batchTimeoutMs: 60_000 });
    const signal = new AbortController().signal;
    for (let i = 0; i < 4; i++) b.push(i);
    expect(b.capacity).toBe(4);
    const room = b.room(signal);
    expect(await settled(room)).toBe('pending');
    await b.next(signal);
    expect(await settled(room)).toBeUndefined();
  });

  it('rejects settings that would never flush', () => {
    expect(() => batcher({ batchSize: 0 })).toThrow(RangeError);
    expect(() => batcher({ maxUnacked: 0 })).toThrow(/maxUnacked >= 1/);
  });
});
