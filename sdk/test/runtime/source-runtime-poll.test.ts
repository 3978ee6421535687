import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SourceConnector } from '../../src/connector.js';
import { ConnectorError } from '../../src/errors.js';
import type { SourceRecord } from '../../src/record.js';
import type { ConnectorMetrics } from '../../src/runtime/connector-metrics.js';
import { sourceRuntime } from './source-fixtures.js';

// No record reaches Danube in these cases, so the client never dials this address.
const NO_BROKER = 'http://127.0.0.1:1';

async function total(metrics: ConnectorMetrics, name: string): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  return (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);
}

/** A pull source whose polls fail with the given errors, in turn, then return nothing. */
function failingSource(errors: unknown[]): SourceConnector & { polls: number } {
  const source = {
    polls: 0,
    async poll(): Promise<SourceRecord[]> {
      const error = errors[source.polls++];
      if (error !== undefined) throw error;
      return [];
    },
  };
  return source;
}

describe('SourceRuntime: poll errors (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    // Jitter pinned at the top of its range: a delay of d is just under d.
    vi.spyOn(Math, 'random').mockReturnValue(0.999);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('retries a retryable poll error with doubling backoff, counting failures and retries', async () => {
    const down = ConnectorError.retryable('upstream down');
    const source = failingSource([down, down, down]);
    // Each delay is just under d = 100, 200, 400 ms (jitter pinned at the top of its range).
    const { runtime, metrics, statuses } = sourceRuntime(source, NO_BROKER, { maxRetries: 5, retryInitialDelayMs: 100, retryMaxDelayMs: 1_000, pollIntervalMs: 50 });
    await runtime.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(source.polls).toBe(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(source.polls).toBe(2);
    await vi.advanceTimersByTimeAsync(200);
    expect(source.polls).toBe(3);
    await vi.advanceTimersByTimeAsync(400);
    expect(source.polls).toBe(4);
    // The fourth poll worked (nothing to read): from now on it polls every pollIntervalMs.
    await vi.advanceTimersByTimeAsync(100);
    expect(source.polls).toBe(6);
    expect(await total(metrics, 'danube_connector_messages_failed_total')).toBe(3);
    expect(await total(metrics, 'danube_connector_messages_retried_total')).toBe(3);
    // Within maxRetries the runtime does not report degraded.
    expect(statuses).toEqual([]);
  });

  it("'block': degraded once the retries run out, connected again after a poll works", async () => {
    const down = ConnectorError.retryable('upstream down', { code: 'UPSTREAM_DOWN' });
    const source = failingSource([down, down, down]);
    const { runtime, statuses } = sourceRuntime(source, NO_BROKER, { maxRetries: 1, retryInitialDelayMs: 100, retryMaxDelayMs: 100, onRetryExhausted: 'block', pollIntervalMs: 1_000 });
    await runtime.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(statuses).toEqual([]);
    await vi.advanceTimersByTimeAsync(100);
    expect(statuses).toEqual([{ state: 'degraded', detail: 'poll keeps failing (UPSTREAM_DOWN); retrying' }]);
    await vi.advanceTimersByTimeAsync(200);
    expect(source.polls).toBe(4);
    expect(statuses.at(-1)).toEqual({ state: 'connected' });
  });

  it("'fail': a fatal DC_ERR_RETRIES_EXHAUSTED after maxRetries, and no poll after it", async () => {
    const down = ConnectorError.retryable('upstream down');
    const source = failingSource([down, down, down, down]);
    const { runtime, fatal } = sourceRuntime(source, NO_BROKER, { maxRetries: 2, retryInitialDelayMs: 10, retryMaxDelayMs: 10, onRetryExhausted: 'fail' });
    await runtime.start();
    await vi.advanceTimersByTimeAsync(100);
    const error = await fatal;
    expect(error).toMatchObject({ kind: 'fatal', code: 'DC_ERR_RETRIES_EXHAUSTED', message: 'poll failed 3 times (on_retry_exhausted = "fail"): upstream down' });
    expect(source.polls).toBe(3);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(source.polls).toBe(3);
  });

  it("'dead_letter' has no record to dead-letter for a poll: it blocks", async () => {
    const down = ConnectorError.retryable('upstream down');
    const source = failingSource([down, down, down]);
    const { runtime, statuses } = sourceRuntime(source, NO_BROKER, { maxRetries: 1, retryInitialDelayMs: 10, retryMaxDelayMs: 10, onRetryExhausted: 'dead_letter' });
    const onFatal = vi.fn();
    runtime.onFatal(onFatal);
    await runtime.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(source.polls).toBeGreaterThan(3);
    expect(statuses.map((s) => s.state)).toEqual(['degraded', 'connected']);
    expect(onFatal).not.toHaveBeenCalled();
  });

  it('a fatal poll error stops intake at once and reaches onFatal', async () => {
    const source = failingSource([ConnectorError.fatal('bad credentials', { code: 'UPSTREAM_AUTH' })]);
    const { runtime, fatal } = sourceRuntime(source, NO_BROKER);
    await runtime.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(await fatal).toMatchObject({ kind: 'fatal', code: 'UPSTREAM_AUTH' });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(source.polls).toBe(1);
    expect(await runtime.stop(1_000)).toEqual({ drained: 0, abandoned: 0 });
  });

  it('invalid data thrown by poll names no record: it is retried like a transient failure', async () => {
    const source = failingSource([ConnectorError.invalidData('garbled frame'), new SyntaxError('Unexpected token')]);
    const { runtime, metrics } = sourceRuntime(source, NO_BROKER, { retryInitialDelayMs: 10, retryMaxDelayMs: 10 });
    const onFatal = vi.fn();
    runtime.onFatal(onFatal);
    await runtime.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(source.polls).toBeGreaterThan(2);
    expect(await total(metrics, 'danube_connector_messages_retried_total')).toBe(2);
    expect(onFatal).not.toHaveBeenCalled();
  });

  it('a plugin bug (TypeError from poll, or a poll that returns no array) is fatal', async () => {
    const source = { polls: 0, poll: async () => ({ records: [] }) as unknown as SourceRecord[] };
    const { runtime, fatal } = sourceRuntime(source, NO_BROKER);
    await runtime.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(await fatal).toMatchObject({ kind: 'fatal', code: 'DC_ERR_CONNECTOR_BUG', message: 'plugin bug: poll() must resolve with an array of records, got object' });
  });

  it('stop aborts the poll in progress through its signal and waits for no timer', async () => {
    let aborted = false;
    const source: SourceConnector = {
      poll: (signal) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            reject(signal.reason);
          });
        }),
    };
    const { runtime, fatal } = sourceRuntime(source, NO_BROKER);
    const onFatal = vi.fn();
    void fatal.then(onFatal);
    await runtime.start();
    expect(await runtime.stop(60_000)).toEqual({ drained: 0, abandoned: 0 });
    expect(aborted).toBe(true);
    expect(onFatal).not.toHaveBeenCalled();
  });
});
