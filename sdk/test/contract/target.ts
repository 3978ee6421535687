import { randomBytes } from 'node:crypto';
import { it, onTestFinished } from 'vitest';
import { DanubeAdminClient } from '../../src/danube/admin-client.js';
import type { Transport } from '../../src/danube/connection.js';
import type { Consumer } from '../../src/danube/consumer.js';
import { DanubeClient, type DanubeClientOptions } from '../../src/danube/danube-client.js';
import type { DanubeMessage } from '../../src/danube/message.js';
import { TestBroker, type TestBrokerOptions } from '@danube-connect/testing';

/**
 * Where the contract suite runs: an in-process TestBroker by default, or the external broker named by
 * DANUBE_SERVICE_URL (with DANUBE_ADMIN_URL and DANUBE_TOKEN when it needs them). Cases that need fault
 * injection, a second broker or a special broker configuration skip there, saying why.
 */
const EXTERNAL_URL = process.env.DANUBE_SERVICE_URL || undefined;
export const EXTERNAL = EXTERNAL_URL !== undefined;
/**
 * For cases that need TestBroker fault injection, a second broker or a broker configuration we cannot set
 * remotely: they run against the TestBroker and are skipped against DANUBE_SERVICE_URL.
 */
export const itWithTestBroker = it.skipIf(EXTERNAL);
const NEEDS_ADMIN = 'needs DANUBE_ADMIN_URL for the admin port';

/**
 * The client transport under test (issue 16): DANUBE_TRANSPORT=http2 runs the whole suite with SendMessage/Ack/Nack
 * and the ReceiveMessages stream on the node:http2 transport; the `sdk-contract-http2` vitest project sets it,
 * so CI runs the suite on both.
 */
export const TRANSPORT: Transport = transportFromEnv(process.env.DANUBE_TRANSPORT);

function transportFromEnv(value: string | undefined): Transport {
  if (value === undefined || value === '' || value === 'grpc-js') return 'grpc-js';
  if (value === 'http2') return 'http2';
  throw new Error(`DANUBE_TRANSPORT must be grpc-js or http2, got ${value}`);
}

/**
 * The TestBroker's policy in cases about the ack timeout: shortened so they finish in about a second (protocol
 * defaults: 30 s ack timeout, 1 s base delay).
 */
export const FAST_POLICY = { ackTimeoutMs: 1_000, baseRedeliveryDelayMs: 50, maxRedeliveryDelayMs: 400 } as const;
/**
 * Every other case: short redelivery delays for nacks, but an ack timeout no loaded machine outlasts, so a case
 * that counts deliveries exactly never gets a redelivery it did not ask for (with 1 s, a slow run of 50 sends
 * before the first ack got the first ten twice).
 */
const DEFAULT_POLICY = { ...FAST_POLICY, ackTimeoutMs: 60_000 } as const;
/** How long a case may wait for a broker-timed event: the real broker's 30 s ack timeout plus backoff, or ours. */
export const REDELIVERY_WAIT_MS = EXTERNAL ? 45_000 : 15_000;

export interface Target {
  serviceUrl: string;
  adminUrl: string | undefined;
  token: string | undefined;
  /** Present only for the in-process TestBroker. */
  broker: TestBroker | undefined;
  client(options?: Partial<DanubeClientOptions>): DanubeClient;
  admin(): DanubeAdminClient;
}

/** A topic name no other case or earlier run uses (an external broker keeps its topics). */
export function uniqueTopic(prefix = 't', namespace = 'default'): string {
  return `/${namespace}/${prefix}-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Starts the target for one case; everything it creates is closed when the case ends. */
export async function startTarget(options: TestBrokerOptions = {}): Promise<Target> {
  let broker: TestBroker | undefined;
  let serviceUrl: string;
  let adminUrl: string | undefined;
  let token: string | undefined;
  if (EXTERNAL_URL) {
    serviceUrl = EXTERNAL_URL;
    adminUrl = process.env.DANUBE_ADMIN_URL || undefined;
    token = process.env.DANUBE_TOKEN || undefined;
  } else {
    broker = await TestBroker.start({ ...options, failurePolicy: { ...DEFAULT_POLICY, ...options.failurePolicy } });
    onTestFinished(() => broker?.stop());
    serviceUrl = broker.serviceUrl;
    adminUrl = broker.adminUrl;
  }
  return {
    serviceUrl,
    adminUrl,
    token,
    broker,
    client(overrides = {}) {
      const client = new DanubeClient({
        serviceUrl,
        transport: TRANSPORT,
        ...(token ? { token } : {}),
        retry: { initialDelayMs: 20, maxDelayMs: 500 },
        healthCheckIntervalMs: broker ? 200 : 5_000,
        ...overrides,
      });
      onTestFinished(() => client.close(1_000));
      return client;
    },
    admin() {
      if (!adminUrl) throw new Error(NEEDS_ADMIN);
      const admin = new DanubeAdminClient({ adminUrl, ...(token ? { token } : {}) });
      onTestFinished(() => admin.close());
      return admin;
    },
  };
}

/** Receives `count` messages (acking each unless told not to), failing with what arrived if they do not come in time. */
export async function collect(consumer: Consumer, count: number, options: { ack?: boolean; timeoutMs?: number } = {}): Promise<DanubeMessage[]> {
  const received: DanubeMessage[] = [];
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = AbortSignal.timeout(timeoutMs);
  while (received.length < count) {
    let message: DanubeMessage;
    try {
      message = await consumer.receive(deadline);
    } catch (err) {
      if ((err as Error).name !== 'TimeoutError') throw err;
      throw new Error(`received ${received.length} of ${count} messages within ${timeoutMs} ms`);
    }
    received.push(message);
    if (options.ack !== false) await consumer.ack(message);
  }
  return received;
}

/** Resolves with a message if one arrives within `ms`, else undefined (to show that nothing more comes). */
export async function nextWithin(consumer: Consumer, ms: number): Promise<DanubeMessage | undefined> {
  try {
    return await consumer.receive(AbortSignal.timeout(ms));
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') return undefined;
    throw err;
  }
}

export const text = (m: DanubeMessage) => m.payload.toString('utf8');

/** Where a message is stored; a redelivery keeps it, a resend after a lost response does not. */
const storedAt = (m: DanubeMessage) => `${m.topic}@${m.offset}`;

/**
 * Receives (acking all) until `count` distinct messages arrived, distinct by `keyOf` (default: where they are
 * stored). Duplicates are allowed: delivery is at-least-once. Returns the first copy of each, in arrival order.
 */
export async function collectDistinct(
  consumer: Consumer,
  count: number,
  options: { keyOf?: (m: DanubeMessage) => string; timeoutMs?: number } = {},
): Promise<DanubeMessage[]> {
  const keyOf = options.keyOf ?? storedAt;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const seen = new Map<string, DanubeMessage>();
  const deadline = AbortSignal.timeout(timeoutMs);
  while (seen.size < count) {
    let message: DanubeMessage;
    try {
      message = await consumer.receive(deadline);
    } catch (err) {
      if ((err as Error).name !== 'TimeoutError') throw err;
      throw new Error(`received ${seen.size} of ${count} distinct messages within ${timeoutMs} ms`);
    }
    if (!seen.has(keyOf(message))) seen.set(keyOf(message), message);
    await consumer.ack(message);
  }
  return [...seen.values()];
}
