import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FAILURE_POLICY,
  failurePolicyFromWire,
  failurePolicyToWire,
  redeliveryDelayMs,
  resolveFailurePolicy,
} from '../src/failure-policy.js';

describe('failure policy (docs/danube-protocol.md §9.4)', () => {
  it('has the broker defaults', () => {
    expect(DEFAULT_FAILURE_POLICY).toEqual({
      ackTimeoutMs: 30_000,
      maxRedeliveryCount: 5,
      baseRedeliveryDelayMs: 1_000,
      maxRedeliveryDelayMs: 60_000,
      backoff: 'exponential',
      poisonPolicy: 'block',
    });
    expect(resolveFailurePolicy({ ackTimeoutMs: 5, deadLetterTopic: undefined })).toEqual({ ...DEFAULT_FAILURE_POLICY, ackTimeoutMs: 5 });
  });

  it('backs off exponentially from the base, capped, or stays fixed', () => {
    const policy = DEFAULT_FAILURE_POLICY;
    expect([1, 2, 3, 4, 7, 8].map((n) => redeliveryDelayMs(policy, n))).toEqual([1_000, 2_000, 4_000, 8_000, 60_000, 60_000]);
    const fixed = { ...policy, backoff: 'fixed' as const };
    expect([1, 2, 5].map((n) => redeliveryDelayMs(fixed, n))).toEqual([1_000, 1_000, 1_000]);
  });

  it('lets a nack delay only lengthen the wait, up to the cap', () => {
    const policy = DEFAULT_FAILURE_POLICY;
    expect(redeliveryDelayMs(policy, 1, 0)).toBe(1_000);
    expect(redeliveryDelayMs(policy, 1, 5_000)).toBe(5_000);
    expect(redeliveryDelayMs(policy, 3, 1_000)).toBe(4_000);
    expect(redeliveryDelayMs(policy, 1, 600_000)).toBe(60_000);
  });

  it('converts to and from the admin wire shape', () => {
    const policy = resolveFailurePolicy({ poisonPolicy: 'dead_letter', deadLetterTopic: '/default/dlq', backoff: 'fixed' });
    const wire = failurePolicyToWire(policy);
    expect(wire).toEqual({
      max_redelivery_count: 5,
      ack_timeout_ms: '30000',
      base_redelivery_delay_ms: '1000',
      max_redelivery_delay_ms: '60000',
      backoff_strategy: 'Fixed',
      poison_policy: 'DeadLetter',
      dead_letter_topic: '/default/dlq',
    });
    expect(failurePolicyFromWire(wire)).toEqual(policy);
    expect(failurePolicyFromWire({ ...wire, poison_policy: 7 as never })).toBeUndefined();
  });
});
