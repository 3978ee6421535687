import type {
  SubscriptionBackoffStrategyName,
  SubscriptionFailurePolicyWire,
  SubscriptionPoisonPolicyName,
} from '@danube-connect/sdk/internal';

export type BackoffStrategy = 'fixed' | 'exponential';
export type PoisonPolicy = 'block' | 'drop' | 'dead_letter';

/** How a Reliable subscription handles unacked and nacked messages (docs/danube-protocol.md §9.4). */
export interface FailurePolicy {
  /** No ack within this many ms schedules a redelivery. Default 30000. */
  ackTimeoutMs: number;
  /** Redeliveries before the poison policy applies (deliveries in total = this + 1). Default 5. */
  maxRedeliveryCount: number;
  /** First redelivery delay in ms; doubled per delivery with 'exponential'. Default 1000. */
  baseRedeliveryDelayMs: number;
  /** Cap of the redelivery delay in ms. Default 60000. */
  maxRedeliveryDelayMs: number;
  /** Default 'exponential'. */
  backoff: BackoffStrategy;
  /** What happens to an exhausted message. Default 'block'. */
  poisonPolicy: PoisonPolicy;
  /** Topic receiving dead-letter copies; required for 'dead_letter'. */
  deadLetterTopic?: string;
}

/** Broker defaults, `SubscriptionFailurePolicy::default` (docs/danube-protocol.md §9.4). */
export const DEFAULT_FAILURE_POLICY: Readonly<FailurePolicy> = Object.freeze({
  ackTimeoutMs: 30_000,
  maxRedeliveryCount: 5,
  baseRedeliveryDelayMs: 1_000,
  maxRedeliveryDelayMs: 60_000,
  backoff: 'exponential',
  poisonPolicy: 'block',
});

export function resolveFailurePolicy(partial?: Partial<FailurePolicy>): FailurePolicy {
  const policy: FailurePolicy = { ...DEFAULT_FAILURE_POLICY };
  for (const [key, value] of Object.entries(partial ?? {})) {
    if (value !== undefined) (policy as unknown as Record<string, unknown>)[key] = value;
  }
  return policy;
}

/**
 * Delay before redelivering a message that failed after `deliveries` deliveries (docs/danube-protocol.md §9.4):
 * exponential = base × 2^(deliveries−1), fixed = base, both capped at the max. A nack's `delay_ms` can only
 * lengthen the wait: min(max(policy delay, delay_ms), max).
 */
export function redeliveryDelayMs(policy: FailurePolicy, deliveries: number, nackDelayMs?: number): number {
  const exponent = Math.max(0, deliveries - 1);
  const policyDelay =
    policy.backoff === 'fixed' ? policy.baseRedeliveryDelayMs : policy.baseRedeliveryDelayMs * 2 ** Math.min(exponent, 40);
  const capped = Math.min(policyDelay, policy.maxRedeliveryDelayMs);
  if (nackDelayMs === undefined) return capped;
  return Math.min(Math.max(capped, nackDelayMs), policy.maxRedeliveryDelayMs);
}

const BACKOFF_TO_WIRE: Record<BackoffStrategy, SubscriptionBackoffStrategyName> = { fixed: 'Fixed', exponential: 'Exponential' };
const POISON_TO_WIRE: Record<PoisonPolicy, SubscriptionPoisonPolicyName> = {
  block: 'Block',
  drop: 'Drop',
  dead_letter: 'DeadLetter',
};

export function failurePolicyToWire(policy: FailurePolicy): SubscriptionFailurePolicyWire {
  const wire: SubscriptionFailurePolicyWire = {
    max_redelivery_count: policy.maxRedeliveryCount,
    ack_timeout_ms: String(policy.ackTimeoutMs),
    base_redelivery_delay_ms: String(policy.baseRedeliveryDelayMs),
    max_redelivery_delay_ms: String(policy.maxRedeliveryDelayMs),
    backoff_strategy: BACKOFF_TO_WIRE[policy.backoff],
    poison_policy: POISON_TO_WIRE[policy.poisonPolicy],
  };
  if (policy.deadLetterTopic !== undefined) wire.dead_letter_topic = policy.deadLetterTopic;
  return wire;
}

/** Undefined when an enum value is out of range. */
export function failurePolicyFromWire(wire: SubscriptionFailurePolicyWire): FailurePolicy | undefined {
  const backoff = (Object.keys(BACKOFF_TO_WIRE) as BackoffStrategy[]).find((k) => BACKOFF_TO_WIRE[k] === wire.backoff_strategy);
  const poison = (Object.keys(POISON_TO_WIRE) as PoisonPolicy[]).find((k) => POISON_TO_WIRE[k] === wire.poison_policy);
  if (backoff === undefined || poison === undefined) return undefined;
  const policy: FailurePolicy = {
    ackTimeoutMs: Number(wire.ack_timeout_ms),
    maxRedeliveryCount: wire.max_redelivery_count,
    baseRedeliveryDelayMs: Number(wire.base_redelivery_delay_ms),
    maxRedeliveryDelayMs: Number(wire.max_redelivery_delay_ms),
    backoff,
    poisonPolicy: poison,
  };
  if (wire.dead_letter_topic) policy.deadLetterTopic = wire.dead_letter_topic;
  return policy;
}
