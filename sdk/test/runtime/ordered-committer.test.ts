import { describe, expect, it } from 'vitest';
import { ConnectorError } from '../../src/errors.js';
import { textRecord, type SourceRecord } from '../../src/record.js';
import type { InFlightRecord } from '../../src/runtime/in-flight-record.js';
import { OrderedCommitter, type CommitStage } from '../../src/runtime/ordered-committer.js';
import type { RuntimeSettings } from '../../src/runtime/runtime-settings.js';
import { Condition, silentLogger } from './source-fixtures.js';

interface Harness {
  committer: OrderedCommitter;
  /** Every ack and commit call, in order: 'ack a', 'commit a,b'. */
  calls: string[];
  committed: string[][];
  failures: string[];
  blocked: Array<[CommitStage, string | undefined]>;
  fatal: ConnectorError[];
  changed: Condition;
  /** `sync`: the record's ack returns no promise (as source-mqtt's does); by default it is an async function. */
  entry(text: string, ack?: () => void | Promise<void>, mode?: 'sync'): InFlightRecord;
}

function harness(
  options: { commit?: (records: readonly SourceRecord[]) => void | Promise<void>; hasCommit?: boolean; settings?: Partial<RuntimeSettings> } = {},
): Harness {
  const calls: string[] = [];
  const committed: string[][] = [];
  const failures: string[] = [];
  const blocked: Array<[CommitStage, string | undefined]> = [];
  const fatal: ConnectorError[] = [];
  const changed = new Condition();
  const note = <T>(value: T): T => {
    changed.notify();
    return value;
  };
  const texts = (records: readonly SourceRecord[]) => records.map((r) => r.payload.toString()).join(',');
  const committer = new OrderedCommitter({
    commit:
      options.hasCommit === false
        ? undefined
        : async (records) => {
            calls.push(`commit ${texts(records)}`);
            await options.commit?.(records);
          },
    settings: { maxRetries: 2, retryInitialDelayMs: 1, retryMaxDelayMs: 2, onRetryExhausted: 'block', ...options.settings },
    signal: new AbortController().signal,
    logger: silentLogger,
    events: {
      committed: (entries) => note(committed.push(entries.map((e) => e.record.payload.toString()))),
      failed: (topic, code) => note(failures.push(`${topic} ${code}`)),
      retrying: () => {},
      blocked: (stage, error) => note(blocked.push([stage, error?.code])),
      fatal: (error) => note(fatal.push(error)),
    },
  });
  return {
    committer,
    calls,
    committed,
    failures,
    blocked,
    fatal,
    changed,
    entry(text, ack, mode) {
      const record = textRecord('/default/t', text, {
        ack:
          mode === 'sync'
            ? () => {
                calls.push(`ack ${text}`);
                void ack?.();
              }
            : async () => {
                calls.push(`ack ${text}`);
                await ack?.();
              },
      });
      const entry: InFlightRecord = { seq: -1, record, topic: record.topic, acceptedAt: performance.now(), attempts: 1, outcome: undefined, acked: false };
      committer.add(entry);
      return entry;
    },
  };
}

describe('OrderedCommitter', () => {
  it('acks and commits in acceptance order, in batches of consecutive done records', async () => {
    const h = harness();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((t) => h.entry(t)) as [InFlightRecord, InFlightRecord, InFlightRecord, InFlightRecord];
    h.committer.done(c, 'published');
    h.committer.done(b, 'dead_lettered');
    expect(h.calls).toEqual([]);
    h.committer.done(a, 'published');
    await h.changed.until(() => h.committed.length === 1);
    expect(h.committed).toEqual([['a', 'b', 'c']]);
    expect(h.calls).toEqual(['ack a', 'ack b', 'ack c', 'commit a,b,c']);
    expect(h.committer.pending).toBe(1);
    h.committer.done(d, 'dropped');
    await h.committer.whenEmpty();
    expect(h.committed).toEqual([['a', 'b', 'c'], ['d']]);
    expect(h.committer.committed).toBe(4);
    expect([a, b, c, d].map((e) => e.outcome)).toEqual(['published', 'dead_lettered', 'published', 'dropped']);
  });

  it('retries a retryable ack with backoff, blocked (degraded) past maxRetries, and recovers', async () => {
    let failures = 4;
    const h = harness();
    const a = h.entry('a', () => {
      if (failures-- > 0) throw ConnectorError.retryable('upstream busy', { code: 'BUSY' });
    });
    h.committer.done(a, 'published');
    await h.committer.whenEmpty();
    expect(h.calls).toEqual(['ack a', 'ack a', 'ack a', 'ack a', 'ack a', 'commit a']);
    expect(h.failures).toEqual(Array(4).fill('/default/t BUSY'));
    expect(h.blocked).toEqual([['ack', 'BUSY'], ['ack', undefined]]);
  });

  it('synchronous acks run in acceptance order within one turn; a throwing one is retried like a rejecting one', async () => {
    let failures = 1;
    const h = harness({ hasCommit: false });
    const entries = ['a', 'b', 'c'].map((t) =>
      h.entry(
        t,
        () => {
          if (t === 'b' && failures-- > 0) throw ConnectorError.retryable('socket busy', { code: 'BUSY' });
        },
        'sync',
      ),
    );
    const [a] = entries as [InFlightRecord];
    h.committer.done(a, 'published');
    // Nothing awaits a synchronous ack: the record is committed before done() returns.
    expect(h.committed).toEqual([['a']]);
    for (const entry of entries.slice(1)) h.committer.done(entry, 'published');
    await h.committer.whenEmpty();
    expect(h.calls).toEqual(['ack a', 'ack b', 'ack b', 'ack c']);
    expect(h.failures).toEqual(['/default/t BUSY']);
    expect(h.committed.flat()).toEqual(['a', 'b', 'c']);
  });

  it('a synchronous ack that throws a fatal error stops the committer', async () => {
    const h = harness();
    h.committer.done(
      h.entry(
        'a',
        () => {
          throw ConnectorError.fatal('socket gone', { code: 'GONE' });
        },
        'sync',
      ),
      'published',
    );
    await h.changed.until(() => h.fatal.length > 0);
    expect(h.fatal[0]?.code).toBe('GONE');
    expect(h.calls).toEqual(['ack a']);
    expect(h.committed).toEqual([]);
  });

  it('retries a failed commit without acking the records again', async () => {
    let failures = 1;
    const h = harness({
      commit: () => {
        if (failures-- > 0) throw new Error('offset store timed out');
      },
    });
    h.committer.done(h.entry('a'), 'published');
    await h.committer.whenEmpty();
    expect(h.calls).toEqual(['ack a', 'commit a', 'commit a']);
    expect(h.failures).toEqual(['/default/t DC_ERR_CONNECTOR_UNKNOWN']);
  });

  it("'fail': a fatal DC_ERR_RETRIES_EXHAUSTED, and nothing is committed after it", async () => {
    const h = harness({ settings: { onRetryExhausted: 'fail', maxRetries: 1 } });
    const a = h.entry('a', () => {
      throw ConnectorError.retryable('upstream busy');
    });
    const b = h.entry('b');
    h.committer.done(a, 'published');
    h.committer.done(b, 'published');
    await h.changed.until(() => h.fatal.length > 0);
    // maxRetries = 1: one retry after the first attempt, two attempts, counted as calls made.
    expect(h.fatal[0]).toMatchObject({ kind: 'fatal', code: 'DC_ERR_RETRIES_EXHAUSTED', message: 'ack failed 2 times (on_retry_exhausted = "fail"): upstream busy' });
    await h.committer.halt();
    expect(h.calls).toEqual(['ack a', 'ack a']);
    expect(h.committed).toEqual([]);
    expect(h.committer.pending).toBe(2);
  });

  it("'dead_letter': skips an ack that keeps failing (the source redelivers) and goes on", async () => {
    const h = harness({ settings: { onRetryExhausted: 'dead_letter', maxRetries: 1 } });
    h.committer.done(
      h.entry('a', () => {
        throw ConnectorError.retryable('upstream busy');
      }),
      'published',
    );
    h.committer.done(h.entry('b'), 'published');
    await h.committer.whenEmpty();
    // a's batch started alone (the committer starts at once); b followed in the next.
    expect(h.calls).toEqual(['ack a', 'ack a', 'commit a', 'ack b', 'commit b']);
    expect(h.committed.flat()).toEqual(['a', 'b']);
    expect(h.fatal).toEqual([]);
  });

  it('a fatal error from commit stops the committer; invalid data from an ack is retried', async () => {
    let invalid = 1;
    const h = harness({
      commit: () => {
        throw ConnectorError.fatal('offset store gone', { code: 'STORE_GONE' });
      },
    });
    h.committer.done(
      h.entry('a', () => {
        if (invalid-- > 0) throw ConnectorError.invalidData('nonsense');
      }),
      'published',
    );
    await h.changed.until(() => h.fatal.length > 0);
    expect(h.fatal[0]?.code).toBe('STORE_GONE');
    expect(h.calls).toEqual(['ack a', 'ack a', 'commit a']);
    expect(h.committed).toEqual([]);
  });

  it('without a connector commit, acks alone commit', async () => {
    const h = harness({ hasCommit: false });
    h.committer.done(h.entry('a'), 'published');
    await h.committer.whenEmpty();
    expect(h.calls).toEqual(['ack a']);
    expect(h.committed).toEqual([['a']]);
  });

  it('halt lets the ack in progress return, then commits nothing more', async () => {
    let release!: () => void;
    const h = harness();
    const a = h.entry('a', () => new Promise<void>((resolve) => (release = resolve)));
    const b = h.entry('b');
    h.committer.done(a, 'published');
    h.committer.done(b, 'published');
    await h.changed.until(() => h.calls.length > 0);
    const halted = h.committer.halt();
    release();
    await halted;
    expect(a.acked).toBe(true);
    expect(h.calls).toEqual(['ack a']);
    expect(h.committer.pending).toBe(2);
  });
});
