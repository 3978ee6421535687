import { CHILD_EXIT_CODES, type FailedMessage, type FatalMessage, type StartFailureCode } from '@danube-connect/sdk/protocol';
import type { CrashKind } from './restart-policy.js';

/**
 * Why a child ended:
 * - `requested`: the host asked it to stop (or killed it at the stop deadline);
 * - `plugin_unusable`: a start failure a restart cannot fix (wrong default export, incompatible plugin, kind
 *   mismatch, entry import failure): the connector is `failed` at once;
 * - `start_failed`: any other start failure (create threw, Danube or the external system refused the start);
 * - `ready_timeout`, `hung`: killed by the host (no `ready` in time; silent for 3 ping intervals);
 * - `out_of_memory`: the V8 heap cap (`memory_mb`) ended it;
 * - `fatal`: the connector raised a fatal error; `uncaught`: an uncaught exception or unhandled rejection;
 * - `crashed`: anything else (a signal, an unknown exit code, an exit nobody asked for).
 */
export type ExitReason = 'requested' | 'plugin_unusable' | 'start_failed' | 'ready_timeout' | 'hung' | 'out_of_memory' | 'fatal' | 'uncaught' | 'crashed';

/** Error codes the host assigns to ends it detects itself. */

/** Start failures no restart can fix (the protocol's StartFailureCode). */
const PERMANENT_START_FAILURES = new Set<StartFailureCode>(['wrong_default_export', 'incompatible_plugin', 'kind_mismatch', 'entry_import_failed']);

/** What V8 prints when the heap cap is hit ("FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory"). */
const OOM_TEXT = /JavaScript heap out of memory|Reached heap limit|FATAL ERROR: .*Allocation failed/i;

export interface ExitFacts {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The host killed it for this reason (or asked it to stop). */
  endedBy: 'stop' | 'ready_timeout' | 'hung' | undefined;
  readyTimeoutMs: number;
  pingIntervalMs: number;
  /** A heap cap was set (`--max-old-space-size`). */
  memoryMb: number | undefined;
  failed: FailedMessage | undefined;
  fatal: FatalMessage | undefined;
  stderr: readonly string[];
}

export interface ExitClassification {
  reason: ExitReason;
  /** How the restart policy should count it; undefined for `requested`. */
  crashKind: CrashKind | undefined;
  errorCode: string | undefined;
  message: string;
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `signal ${signal}` : `exit code ${code}`;
}

function outOfMemory(facts: ExitFacts): boolean {
  if (facts.stderr.some((line) => OOM_TEXT.test(line))) return true;
  // An abort under a heap cap is the cap (V8 aborts after printing, but the text may be lost with the pipe).
  return facts.memoryMb !== undefined && (facts.signal === 'SIGABRT' || facts.code === 134);
}

/** Attributes a child's end from what the host saw: its exit, its last protocol messages, its stderr. Pure. */
export function classifyExit(facts: ExitFacts): ExitClassification {
  const how = describeExit(facts.code, facts.signal);
  if (facts.endedBy === 'stop') return { reason: 'requested', crashKind: undefined, errorCode: undefined, message: `stopped (${how})` };
  if (facts.endedBy === 'ready_timeout') {
    return { reason: 'ready_timeout', crashKind: 'retryable', errorCode: 'DC_ERR_READY_TIMEOUT', message: `not ready within ${facts.readyTimeoutMs} ms: killed` };
  }
  if (facts.endedBy === 'hung') {
    const silentMs = 3 * facts.pingIntervalMs;
    return { reason: 'hung', crashKind: 'retryable', errorCode: 'DC_ERR_HUNG', message: `no answer to pings for ${silentMs} ms (hung): killed` };
  }
  if (outOfMemory(facts)) {
    const cap = facts.memoryMb !== undefined ? ` (memory_mb = ${facts.memoryMb})` : '';
    return { reason: 'out_of_memory', crashKind: 'retryable', errorCode: 'DC_ERR_OUT_OF_MEMORY', message: `out of memory: the heap limit${cap} was reached (${how})` };
  }
  if (facts.failed) {
    const permanent = PERMANENT_START_FAILURES.has(facts.failed.code);
    return { reason: permanent ? 'plugin_unusable' : 'start_failed', crashKind: permanent ? 'permanent' : 'retryable', errorCode: facts.failed.code, message: facts.failed.message };
  }
  if (facts.fatal) {
    const reason = facts.code === CHILD_EXIT_CODES.uncaught ? 'uncaught' : 'fatal';
    return { reason, crashKind: 'retryable', errorCode: facts.fatal.code, message: facts.fatal.message };
  }
  if (facts.code === CHILD_EXIT_CODES.uncaught) return { reason: 'uncaught', crashKind: 'retryable', errorCode: undefined, message: `uncaught error (${how})` };
  const lastLine = facts.stderr.at(-1);
  return { reason: 'crashed', crashKind: 'retryable', errorCode: undefined, message: `exited unexpectedly (${how})${lastLine ? `: ${lastLine}` : ''}` };
}
