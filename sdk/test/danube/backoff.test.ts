import { describe, expect, it, vi } from 'vitest';
import { Backoff, sleep } from '../../src/danube/backoff.js';
import { DanubeError } from '../../src/danube/errors.js';
import { withRetry } from '../../src/danube/retry.js';

describe('Backoff', () => {
  it('doubles from the initial delay up to the cap, with jitter in [d/2, d)', () => {
    const low = new Backoff({ initialDelayMs: 100, maxDelayMs: 1000, random: () => 0 });
    const high = new Backoff({ initialDelayMs: 100, maxDelayMs: 1000, random: () => 0.999999 });
    expect([0, 1, 2, 3, 4, 10].map((n) => low.delayMs(n))).toEqual([50, 100, 200, 400, 500, 500]);
    expect(high.delayMs(0)).toBeCloseTo(100, 3);
    expect(high.delayMs(3)).toBeCloseTo(800, 3);
    expect(high.delayMs(20)).toBeCloseTo(1000, 3);
  });

  it('never exceeds the cap and never goes below half of it once capped', () => {
    const backoff = new Backoff({ initialDelayMs: 10, maxDelayMs: 300 });
    for (let n = 0; n < 200; n++) {
      const d = backoff.delayMs(n);
      expect(d).toBeLessThanOrEqual(300);
      if (n >= 5) expect(d).toBeGreaterThanOrEqual(150);
    }
  });

  it('rejects nonsense settings', () => {
    expect(() => new Backoff({ initialDelayMs: 10, maxDelayMs: 5 })).toThrow(RangeError);
    expect(() => new Backoff({ multiplier: 0.5 })).toThrow(RangeError);
  });
});

describe('withRetry', () => {
  const retryable = () => new DanubeError('down', { code: 'DC_ERR_UNAVAILABLE', retryable: true });

  it('retries retryable errors with the backoff delays, then succeeds', async () => {
    vi.useFakeTimers();
    try {
      const delays: number[] = [];
      let calls = 0;
      const result = withRetry(
        async () => {
          if (++calls < 4) throw retryable();
          return 'ok';
        },
        { initialDelayMs: 100, maxDelayMs: 10_000, random: () => 0 },
        { what: 'test', onRetry: (_e, _n, d) => delays.push(d) },
      );
      await vi.runAllTimersAsync();
      await expect(result).resolves.toBe('ok');
      expect(delays).toEqual([50, 100, 200]);
      expect(calls).toBe(4);
    } finally {
      vi.useRealTimers();
    }
  });

  it('gives up after maxRetries with the last error', async () => {
    vi.useFakeTimers();
    try {
      let calls = 0;
      const result = withRetry(
        async () => {
          calls++;
          throw retryable();
        },
        { maxRetries: 2, initialDelayMs: 1 },
        { what: 'test' },
      );
      const settled = expect(result).rejects.toMatchObject({ code: 'DC_ERR_UNAVAILABLE' });
      await vi.runAllTimersAsync();
      await settled;
      expect(calls).toBe(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it('retries for deadlineMs (default 120 s) and then gives up with the last error, saying so', async () => {
    vi.useFakeTimers();
    try {
      const budget = async (deadlineMs: number | undefined) => {
        const started = performance.now();
        let calls = 0;
        const result = withRetry(
          async () => {
            calls++;
            throw retryable();
          },
          deadlineMs === undefined ? {} : { deadlineMs },
          { what: 'test' },
        );
        const settled = expect(result).rejects.toMatchObject({ code: 'DC_ERR_UNAVAILABLE', retryable: true, message: /gave up after \d+ s of retries/ });
        await vi.runAllTimersAsync();
        await settled;
        return { calls, elapsedMs: performance.now() - started };
      };
      const defaults = await budget(undefined);
      // 100 ms doubling to a 5 s cap (jittered to [2.5, 5) s): dozens of attempts, never past the deadline.
      expect(defaults.elapsedMs).toBeGreaterThan(110_000);
      expect(defaults.elapsedMs).toBeLessThanOrEqual(120_000);
      expect(defaults.calls).toBeGreaterThan(25);
      const short = await budget(1_000);
      expect(short.elapsedMs).toBeLessThanOrEqual(1_000);
    } finally {
      vi.useRealTimers();
    }
  });

  it('does not retry non-retryable errors', async () => {
    let calls = 0;
    const fatal = new DanubeError('no namespace', { code: 'DC_ERR_NAMESPACE_NOT_FOUND', retryable: false });
    await expect(
      withRetry(
        async () => {
          calls++;
          throw fatal;
        },
        {},
        { what: 'test' },
      ),
    ).rejects.toBe(fatal);
    expect(calls).toBe(1);
  });

  it('stops with DC_ERR_CLOSED when aborted during a backoff sleep', async () => {
    const abort = new AbortController();
    const result = withRetry(
      async () => {
        throw retryable();
      },
      { maxRetries: Infinity, initialDelayMs: 60_000, maxDelayMs: 60_000 },
      { what: 'producer p', signal: abort.signal, onRetry: () => queueMicrotask(() => abort.abort()) },
    );
    await expect(result).rejects.toMatchObject({ code: 'DC_ERR_CLOSED', message: 'producer p is closed' });
  });

  it('sleep rejects at once on an aborted signal', async () => {
    const abort = new AbortController();
    abort.abort(new Error('stop'));
    await expect(sleep(10_000, abort.signal)).rejects.toThrow('stop');
  });
});
