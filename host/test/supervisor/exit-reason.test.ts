import { describe, expect, it } from 'vitest';
import { classifyExit, type ExitFacts } from '../../src/supervisor/exit-reason.js';

const BASE: ExitFacts = { code: 1, signal: null, endedBy: undefined, readyTimeoutMs: 30_000, pingIntervalMs: 5_000, memoryMb: undefined, failed: undefined, fatal: undefined, stderr: [] };

function classify(facts: Partial<ExitFacts>) {
  return classifyExit({ ...BASE, ...facts });
}

describe('classifyExit', () => {
  it('a requested stop is not a crash, whatever the exit', () => {
    expect(classify({ endedBy: 'stop', code: 73 })).toEqual({ reason: 'requested', crashKind: undefined, errorCode: undefined, message: 'stopped (exit code 73)' });
  });

  it('kills by the host carry their own codes', () => {
    expect(classify({ endedBy: 'ready_timeout', code: null, signal: 'SIGKILL' })).toMatchObject({ reason: 'ready_timeout', crashKind: 'retryable', errorCode: 'DC_ERR_READY_TIMEOUT' });
    expect(classify({ endedBy: 'hung', code: null, signal: 'SIGKILL' })).toMatchObject({ reason: 'hung', errorCode: 'DC_ERR_HUNG', message: 'no answer to pings for 15000 ms (hung): killed' });
  });

  it('out of memory: the V8 text on stderr, or an abort under a heap cap', () => {
    const text = ['<--- Last few GCs --->', 'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory'];
    expect(classify({ code: null, signal: 'SIGABRT', stderr: text })).toMatchObject({ reason: 'out_of_memory', errorCode: 'DC_ERR_OUT_OF_MEMORY' });
    expect(classify({ code: 134, memoryMb: 64 })).toMatchObject({ reason: 'out_of_memory', message: 'out of memory: the heap limit (memory_mb = 64) was reached (exit code 134)' });
    expect(classify({ code: null, signal: 'SIGABRT' })).toMatchObject({ reason: 'crashed' });
  });

  it('start failures: permanent ones are not retried', () => {
    for (const code of ['wrong_default_export', 'incompatible_plugin', 'kind_mismatch', 'entry_import_failed'] as const) {
      expect(classify({ code: 72, failed: { v: 1, type: 'failed', code, message: 'm' } })).toMatchObject({ reason: 'plugin_unusable', crashKind: 'permanent', errorCode: code });
    }
    for (const code of ['create_threw', 'danube_connect_failed', 'start_failed'] as const) {
      expect(classify({ code: 72, failed: { v: 1, type: 'failed', code, message: 'm' } })).toMatchObject({ reason: 'start_failed', crashKind: 'retryable', errorCode: code });
    }
  });

  it('fatal and uncaught errors keep the child message', () => {
    expect(classify({ code: 71, fatal: { v: 1, type: 'fatal', code: 'FIXTURE_GONE', message: 'gone' } })).toEqual({ reason: 'fatal', crashKind: 'retryable', errorCode: 'FIXTURE_GONE', message: 'gone' });
    expect(classify({ code: 70, fatal: { v: 1, type: 'fatal', code: 'DC_ERR_UNCAUGHT', message: 'boom' } })).toMatchObject({ reason: 'uncaught', errorCode: 'DC_ERR_UNCAUGHT' });
    expect(classify({ code: 70 })).toMatchObject({ reason: 'uncaught', message: 'uncaught error (exit code 70)' });
  });

  it('anything else is a crash, with the last stderr line', () => {
    expect(classify({ code: null, signal: 'SIGSEGV', stderr: ['a', 'segfault here'] })).toEqual({ reason: 'crashed', crashKind: 'retryable', errorCode: undefined, message: 'exited unexpectedly (signal SIGSEGV): segfault here' });
    expect(classify({ code: 0 })).toMatchObject({ reason: 'crashed', message: 'exited unexpectedly (exit code 0)' });
  });
});
