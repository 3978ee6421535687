import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/danube/backoff.js';
import { ConnectorError } from '../../src/errors.js';
import { writeWithRetry, type WriteRetryOptions } from '../../src/runtime/write-with-retry.js';

/** Zero delays: these cases are about decisions, not timing. */
const options = (overrides: Partial<WriteRetryOptions> = {}): WriteRetryOptions => ({
  maxRetries: 2,
  onRetryExhausted: 'block',
  backoff: new Backoff({ initialDelayMs: 0, maxDelayMs: 0 }),
  signal: new AbortController().signal,
  ...overrides,
});

/** A write that fails with each given error in turn, then succeeds. */
function failing(...errors: unknown[]) {
  const calls = { count: 0 };
  const write = async () => {
    const error = errors[calls.count++];
    if (error !== undefined) throw error;
  };
  return { write, calls };
}

const transient = () => ConnectorError.retryable('db busy', { code: 'DB_BUSY' });

describe('writeWithRetry', () => {
  it('retries retryable failures and reports each failure and retry', async () => {
    const { write, calls } = failing(transient(), new Error('socket hang up'));
    const failures: string[] = [];
    const retries: number[] = [];
    const outcome = await writeWithRetry(write, options({ onFailure: (e) => failures.push(String(e.code)), onRetry: (n) => retries.push(n) }));
    expect(outcome).toEqual({ kind: 'written', attempts: 3 });
    expect(calls.count).toBe(3);
    expect(failures).toEqual(['DB_BUSY', 'DC_ERR_CONNECTOR_UNKNOWN']);
    expect(retries).toEqual([1, 2]);
  });

  it('returns invalid data and fatal errors at once, without retrying', async () => {
    const invalid = failing(ConnectorError.invalidData('bad row'));
    expect(await writeWithRetry(invalid.write, options())).toMatchObject({ kind: 'invalid_data', attempts: 1, error: { kind: 'invalid_data' } });
    const bug = failing(new TypeError('x is undefined'));
    expect(await writeWithRetry(bug.write, options())).toMatchObject({ kind: 'fatal', attempts: 1, error: { code: 'DC_ERR_CONNECTOR_BUG' } });
    expect(invalid.calls.count + bug.calls.count).toBe(2);
  });

  it("'dead_letter': returns exhausted after maxRetries retries", async () => {
    const { write, calls } = failing(transient(), transient(), transient(), transient());
    const outcome = await writeWithRetry(write, options({ onRetryExhausted: 'dead_letter' }));
    expect(outcome).toMatchObject({ kind: 'exhausted', attempts: 3, error: { code: 'DB_BUSY' } });
    expect(calls.count).toBe(3);
  });

  it("'fail': returns a fatal DC_ERR_RETRIES_EXHAUSTED keeping the last failure as cause", async () => {
    const { write } = failing(transient(), transient(), transient());
    const outcome = await writeWithRetry(write, options({ onRetryExhausted: 'fail' }));
    expect(outcome.kind).toBe('fatal');
    const error = (outcome as { error: ConnectorError }).error;
    expect(error).toMatchObject({ kind: 'fatal', code: 'DC_ERR_RETRIES_EXHAUSTED' });
    expect((error.cause as ConnectorError).code).toBe('DB_BUSY');
  });

  it("'block': keeps retrying past maxRetries, tells when it blocks and when it recovers", async () => {
    const { write, calls } = failing(transient(), transient(), transient(), transient(), transient());
    const events: string[] = [];
    const outcome = await writeWithRetry(write, options({ onBlocked: (e) => events.push(`blocked ${e.code}`), onRecovered: () => events.push('recovered') }));
    expect(outcome).toEqual({ kind: 'written', attempts: 6 });
    expect(calls.count).toBe(6);
    expect(events).toEqual(['blocked DB_BUSY', 'recovered']);
  });

  it('stops waiting when the signal aborts and returns aborted', async () => {
    const abort = new AbortController();
    const { write, calls } = failing(transient(), transient());
    const outcome = await writeWithRetry(write, options({ backoff: new Backoff({ initialDelayMs: 60_000, maxDelayMs: 60_000 }), signal: abort.signal, onRetry: () => abort.abort() }));
    expect(outcome).toEqual({ kind: 'aborted', attempts: 1 });
    expect(calls.count).toBe(1);
  });

  it('treats a synchronous throw like a rejection', async () => {
    let first = true;
    const outcome = await writeWithRetry(() => {
      if (first) {
        first = false;
        throw ConnectorError.retryable('once');
      }
    }, options());
    expect(outcome).toEqual({ kind: 'written', attempts: 2 });
  });
});
