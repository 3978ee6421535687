import { describe, expect, it } from 'vitest';
import { InFlightWindow } from '../../src/danube/in-flight-window.js';
import { DanubeError } from '../../src/danube/errors.js';

// The one FIFO semaphore: the producer's and the consumer's ack windows and the source runtime's intake window.
describe('InFlightWindow', () => {
  it('takes slots up to its capacity, then queues callers in FIFO order', async () => {
    const window = new InFlightWindow(2);
    expect(window.tryAcquire()).toBe(true);
    // A free slot is taken without a promise.
    expect(window.acquire()).toBeUndefined();
    expect(window.tryAcquire()).toBe(false);
    const order: string[] = [];
    const first = (window.acquire() as Promise<void>).then(() => order.push('first'));
    const second = (window.acquire() as Promise<void>).then(() => order.push('second'));
    window.release();
    await first;
    expect(order).toEqual(['first']);
    expect(window.inFlight).toBe(2);
    window.release();
    await second;
    expect(order).toEqual(['first', 'second']);
  });

  it('reports full once and room once per transition (pause/resume)', async () => {
    const events: string[] = [];
    const window = new InFlightWindow(2, { onFull: () => events.push('full'), onRoom: () => events.push('room') });
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
    const window = new InFlightWindow(1);
    window.tryAcquire();
    let woke = false;
    const room = window.whenRoom().then(() => (woke = true));
    await Promise.resolve();
    expect(woke).toBe(false);
    window.release();
    await room;
    expect(window.inFlight).toBe(0);
  });

  it('close rejects waiters and later acquires with DC_ERR_CLOSED, wakes pull loops, and never resumes the source', async () => {
    const events: string[] = [];
    const window = new InFlightWindow(1, { onFull: () => events.push('full'), onRoom: () => events.push('room') });
    window.tryAcquire();
    const waiting = window.acquire();
    const room = window.whenRoom();
    window.close('producer p');
    await expect(waiting).rejects.toSatisfy((err) => err instanceof DanubeError && err.code === 'DC_ERR_CLOSED' && /producer p/.test(err.message));
    await expect(window.acquire()).rejects.toMatchObject({ code: 'DC_ERR_CLOSED' });
    await room;
    expect(window.closed).toBe(true);
    expect(window.tryAcquire()).toBe(false);
    window.release();
    expect(window.inFlight).toBe(0);
    expect(events).toEqual(['full']);
  });

  it('caps the waiters when asked: past maxWaiters an acquire is refused at once and reported', async () => {
    let overflows = 0;
    const window = new InFlightWindow(1, { maxWaiters: 3, onOverflow: () => overflows++ });
    window.tryAcquire();
    const waiting = Array.from({ length: 3 }, () => window.acquire());
    expect(window.waiting).toBe(3);
    await expect(window.acquire()).rejects.toThrow(RangeError);
    expect(overflows).toBe(1);
    window.release();
    await waiting[0];
    expect(window.waiting).toBe(2);
    window.close();
    const rest = await Promise.allSettled(waiting.slice(1));
    expect(rest.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('without maxWaiters, any number may wait', async () => {
    const window = new InFlightWindow(1);
    window.tryAcquire();
    const waiting = Array.from({ length: 5000 }, () => window.acquire());
    expect(window.waiting).toBe(5000);
    window.release(5000);
    await Promise.all(waiting);
    expect(window.inFlight).toBe(1);
  });

  it('rejects a capacity below 1', () => {
    expect(() => new InFlightWindow(0)).toThrow(RangeError);
  });
});
