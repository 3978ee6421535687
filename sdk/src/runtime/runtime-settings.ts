/**
 * Runtime settings of one connector, from host.toml's `[connectors.processing]`/`[connectors.retry]` (host
 * issue) or set directly in tests. Every field has a default here; schemas/ will carry the same defaults.
 */
export interface RuntimeSettings {
  /** Source: records accepted and not yet committed. Default 64 (more only adds latency, docs/delivery-semantics.md §7). */
  maxInFlight: number;
  /** Retries of a retryable failure before `onRetryExhausted` applies. Default 5. Danube being down is retried forever regardless. */
  maxRetries: number;
  /** First retry delay in ms, doubled per attempt with jitter. Default 200. */
  retryInitialDelayMs: number;
  /** Cap of the retry delay in ms. Default 30000. */
  retryMaxDelayMs: number;
  /**
   * What happens when a retryable failure outlasts `maxRetries`: keep retrying with capped backoff and
   * report degraded ('block', default), dead-letter the record and go on ('dead_letter'), or stop the
   * connector with a fatal error ('fail').
   */
  onRetryExhausted: 'block' | 'dead_letter' | 'fail';
  /** Danube topic for invalid (and, with 'dead_letter', exhausted) records; unset = count and drop. */
  deadLetterTopic: string | undefined;
  /** Source pull style: wait after an empty poll, in ms. Default 100. */
  pollIntervalMs: number;
  /** Sink: most records per processBatch call. Default 100. */
  batchSize: number;
  /** Sink: longest wait for a batch to fill, in ms; a full unacked window flushes at once. Default 100. */
  batchTimeoutMs: number;
  /**
   * Sink: unacked messages the broker hands out per subscription and (partition) topic before it waits for
   * acks (docs/danube-protocol.md §9.4, default 10); a batch is written as soon as this many are pending. With N consumers on
   * one Shared subscription, use about 10 / N.
   */
  maxUnacked: number;
  /** Stop: how long to drain in-flight records before giving up, in ms. Default 10000. */
  drainTimeoutMs: number;
}

export const DEFAULT_RUNTIME_SETTINGS: Readonly<RuntimeSettings> = Object.freeze({
  maxInFlight: 64,
  maxRetries: 5,
  retryInitialDelayMs: 200,
  retryMaxDelayMs: 30_000,
  onRetryExhausted: 'block',
  deadLetterTopic: undefined,
  pollIntervalMs: 100,
  batchSize: 100,
  batchTimeoutMs: 100,
  maxUnacked: 10,
  drainTimeoutMs: 10_000,
});

export function resolveRuntimeSettings(partial: Partial<RuntimeSettings> = {}): RuntimeSettings {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  return { ...DEFAULT_RUNTIME_SETTINGS, ...defined };
}
