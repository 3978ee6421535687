import { describe, expect, it, vi } from 'vitest';
import { retry, RetryBudget, type RetryLoopOptions } from '../../src/danube/retry.js';
import { ConnectorError } from '../../src/errors.js';
import { retriesExhaustedError } from '../../src/runtime/retry-settings.js';

// random() = 1 - ε gives the top of each jitter range: d/2 + d/2 ≈ d.
const top = () => 0.999999;
const transient = () => ConnectorError.retryable('db busy', { code: 'DB_BUSY' });

/** Zero delays: these cases are about decisions, not timing. */
const options = (overrides: Partial<RetryLoopOptions> = {}): RetryLoopOptions => ({
  budget: { maxRetries: 2, initialDelayMs: 0, maxDelayMs: 0 },
  classify: (err) => (err instanceof ConnectorError && err.kind === 'retryable' ? 'retry' : 'stop'),
  whenExhausted: 'stop',
  ...overrides,
});

/** An operation that fails with each given error in turn, then returns 'ok'. */
function failing(...errors: unknown[]) {
  const calls = { count: 0 };
  const attempt = async () => {
    const error = errors[calls.count++];
    if (error !== undefined) throw error;
    return 'ok';
  };
  return { attempt, calls };
}

describe('RetryBudget: attempts and retries are counted the same way everywhere', () => {
  it('maxRetries = 2 allows 3 attempts: failures 1 and 2 are retried, failure 3 spends the budget', () => {
    const budget = new RetryBudget({ maxRetries: 2, initialDelayMs: 100, maxDelayMs: 300, random: top });
    const steps = [1, 2, 3, 4].map(() => budget.fail());
    expect(steps.map((s) => s.exhausted)).toEqual([undefined, undefined, 'retries', 'retries']);
    // Retry r waits backoff(r - 1), doubling to the cap; past the budget the delay stays capped (for 'block').
    expect(steps.map((s) => Math.round(s.delayMs))).toEqual([100, 200, 300, 300]);
    expect(budget.failures).toBe(4);
  });

  it('a success starts the count over', () => {
    const budget = new RetryBudget({ maxRetries: 1, initialDelayMs: 0, maxDelayMs: 0 });
    budget.fail();
    expect(budget.fail().exhausted).toBe('retries');
    budget.succeeded();
    expect(budget.failures).toBe(0);
    expect(budget.fail().exhausted).toBeUndefined();
  });

  it('the deadline spends the budget when the next wait would end past it', () => {
    vi.useFakeTimers();
    try {
      const budget = new RetryBudget({ deadlineMs: 1_000, initialDelayMs: 400, maxDelayMs: 400, random: top });
      expect(budget.fail().exhausted).toBeUndefined();
      vi.advanceTimersByTime(700);
      expect(budget.fail().exhausted).toBe('deadline');
    } finally {
      vi.useRealTimers();
    }
  });

  it('rejects nonsense budgets', () => {
    expect(() => new RetryBudget({ maxRetries: -1 })).toThrow(RangeError);
  });
});

describe('retry', () => {
  it('retries what classify says to retry and reports each failure (1-based) and retry', async () => {
    const { attempt, calls } = failing(transient(), transient());
    const failures: number[] = [];
    const retries: number[] = [];
    const outcome = await retry(attempt, options({ onFailure: (_e, n) => failures.push(n), onRetry: (_e, n) => retries.push(n) }));
    expect(outcome).toEqual({ kind: 'done', value: 'ok', attempts: 3 });
    expect(calls.count).toBe(3);
    expect(failures).toEqual([1, 2]);
    expect(retries).toEqual([1, 2]);
  });

  it("stops at once on what classify says to stop, with that error", async () => {
    const bad = ConnectorError.invalidData('bad row');
    const { attempt, calls } = failing(bad);
    expect(await retry(attempt, options())).toEqual({ kind: 'stopped', error: bad, attempts: 1 });
    expect(calls.count).toBe(1);
  });

  it("whenExhausted 'stop': ends with exhausted after maxRetries retries, the last failure kept", async () => {
    const last = transient();
    const { attempt, calls } = failing(transient(), transient(), last, transient());
    expect(await retry(attempt, options())).toEqual({ kind: 'exhausted', error: last, attempts: 3, by: 'retries' });
    expect(calls.count).toBe(3);
  });

  it("whenExhausted 'block': keeps retrying past maxRetries, tells once when it blocks and when it recovers", async () => {
    const { attempt, calls } = failing(transient(), transient(), transient(), transient(), transient());
    const events: string[] = [];
    const outcome = await retry(
      attempt,
      options({ whenExhausted: 'block', onBlocked: (e) => events.push(`blocked ${(e as ConnectorError).code}`), onRecovered: () => events.push('recovered') }),
    );
    expect(outcome).toEqual({ kind: 'done', value: 'ok', attempts: 6 });
    expect(calls.count).toBe(6);
    expect(events).toEqual(['blocked DB_BUSY', 'recovered']);
  });

  it('ends the wait when the signal aborts: aborted, with the last failure', async () => {
    const abort = new AbortController();
    const first = transient();
    const { attempt, calls } = failing(first, transient());
    const outcome = await retry(attempt, options({ budget: { initialDelayMs: 60_000, maxDelayMs: 60_000 }, signal: abort.signal, onRetry: () => abort.abort() }));
    expect(outcome).toEqual({ kind: 'aborted', error: first, attempts: 1 });
    expect(calls.count).toBe(1);
  });

  it('treats a synchronous throw like a rejection', async () => {
    let first = true;
    const outcome = await retry(() => {
      if (first) {
        first = false;
        throw transient();
      }
      return 1;
    }, options());
    expect(outcome).toEqual({ kind: 'done', value: 1, attempts: 2 });
  });
});

describe('retriesExhaustedError (on_retry_exhausted = "fail")', () => {
  it('is a fatal DC_ERR_RETRIES_EXHAUSTED naming the operation and its attempts, the last failure as cause', () => {
    const cause = ConnectorError.retryable('external system down');
    const error = retriesExhaustedError('ack', 3, cause);
    expect(error).toMatchObject({ kind: 'fatal', code: 'DC_ERR_RETRIES_EXHAUSTED', message: 'ack failed 3 times (on_retry_exhausted = "fail"): external system down' });
    expect(error.cause).toBe(cause);
  });
});
