import { TestBroker, type TestBrokerOptions } from '@danube-connect/testing';
import { onTestFinished } from 'vitest';

/** Redelivery timings small enough for a fast suite (the same as the test kit's own suite uses). */
const FAST_POLICY = { ackTimeoutMs: 200, baseRedeliveryDelayMs: 50, maxRedeliveryDelayMs: 400 } as const;

/** Deadline of a wait for an event, ms: generous for a loaded 2-core machine, below the 30 s test timeout. */
const WAIT_MS = 15_000;

/** Starts a TestBroker (the built @danube-connect/testing) stopped when the test ends. */
export async function startBroker(options: TestBrokerOptions = {}): Promise<TestBroker> {
  const broker = await TestBroker.start({ ...options, failurePolicy: { ...FAST_POLICY, ...options.failurePolicy } });
  onTestFinished(() => broker.stop());
  return broker;
}

/** Resolves when `condition` holds, polling on a short interval (for broker-side state without an event). */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
