import { describe, expect, it } from 'vitest';
import { ConnectorError } from '../../src/errors.js';
import { RetrySchedule, type RetryScheduleSettings } from '../../src/runtime/retry-schedule.js';

const settings = (onRetryExhausted: RetryScheduleSettings['onRetryExhausted']): RetryScheduleSettings => ({
  maxRetries: 2,
  retryInitialDelayMs: 100,
  retryMaxDelayMs: 300,
  onRetryExhausted,
});
const error = ConnectorError.retryable('external system down');
// random() = 1 - ε gives the top of each jitter range: d/2 + d/2 ≈ d.
const top = () => 0.999999;

describe('RetrySchedule', () => {
  it('doubles the delay from the initial one up to the cap', () => {
    const schedule = new RetrySchedule(settings('block'), 'poll', top);
    const delays = [1, 2, 3, 4].map(() => {
      const verdict = schedule.failed(error);
      return verdict.action === 'retry' ? Math.round(verdict.delayMs) : verdict.action;
    });
    expect(delays).toEqual([100, 200, 300, 300]);
  });

  it("'block' keeps retrying past maxRetries and says it is blocked; a success resets", () => {
    const schedule = new RetrySchedule(settings('block'), 'poll');
    expect(schedule.failed(error)).toMatchObject({ action: 'retry', blocked: false });
    expect(schedule.failed(error)).toMatchObject({ action: 'retry', blocked: false });
    expect(schedule.failed(error)).toMatchObject({ action: 'retry', blocked: true });
    schedule.succeeded();
    expect(schedule.failures).toBe(0);
    expect(schedule.failed(error)).toMatchObject({ action: 'retry', blocked: false });
  });

  it("'fail' turns the failure after maxRetries into a fatal DC_ERR_RETRIES_EXHAUSTED", () => {
    const schedule = new RetrySchedule(settings('fail'), 'ack');
    schedule.failed(error);
    schedule.failed(error);
    const verdict = schedule.failed(error);
    expect(verdict.action).toBe('fail');
    if (verdict.action !== 'fail') return;
    expect(verdict.error.kind).toBe('fatal');
    expect(verdict.error.code).toBe('DC_ERR_RETRIES_EXHAUSTED');
    expect(verdict.error.message).toBe('ack failed 3 times (on_retry_exhausted = "fail"): external system down');
    expect(verdict.error.cause).toBe(error);
  });

  it("'dead_letter' gives the item up after maxRetries and starts over for the next", () => {
    const schedule = new RetrySchedule(settings('dead_letter'), 'ack');
    schedule.failed(error);
    schedule.failed(error);
    expect(schedule.failed(error)).toEqual({ action: 'give_up' });
    expect(schedule.failed(error)).toMatchObject({ action: 'retry', blocked: false });
  });

  it('forever ignores maxRetries and the policy (Danube unavailable)', () => {
    const schedule = RetrySchedule.forever(settings('fail'), 'publishing');
    for (let i = 0; i < 20; i++) expect(schedule.failed(error)).toMatchObject({ action: 'retry', blocked: false });
  });

  it('tolerates a cap below the initial delay', () => {
    const schedule = new RetrySchedule({ ...settings('block'), retryMaxDelayMs: 10 }, 'poll', top);
    expect(schedule.failed(error)).toMatchObject({ action: 'retry' });
  });
});
