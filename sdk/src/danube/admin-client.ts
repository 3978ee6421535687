import { parseBrokerUrl } from './broker-url.js';
import { Connection, type TlsOptions, type TokenSource } from './connection.js';
import { DanubeError, fromGrpcError } from './errors.js';
import type { DispatchMode } from './producer.js';
import { checkRequestTimeout } from './request-timeout.js';
import { validateTopicName } from './topic-name.js';
import type {
  DescribeTopicResponseWire,
  SubscriptionFailurePolicyWire,
  TopicInfoWire,
} from './wire.js';

export interface DanubeAdminClientOptions {
  /** The broker's admin port, e.g. `http://127.0.0.1:50051`. */
  adminUrl: string;
  token?: TokenSource;
  tls?: TlsOptions;
  /** Deadline of each call in ms. Default 10000. */
  requestTimeoutMs?: number;
}

export interface TopicInfo {
  name: string;
  brokerId: string;
  delivery: string;
}

export interface FailurePolicy {
  maxRedeliveryCount: number;
  ackTimeoutMs: number;
  baseRedeliveryDelayMs: number;
  maxRedeliveryDelayMs: number;
  backoff: 'fixed' | 'exponential';
  poisonPolicy: 'dead_letter' | 'block' | 'drop';
  deadLetterTopic?: string;
}

const NAMESPACE = /^[\p{L}\p{N}_-]+$/u;

function dispatchWire(dispatch: DispatchMode | undefined): string {
  return (dispatch ?? 'reliable') === 'reliable' ? 'Reliable' : 'NonReliable';
}

/**
 * Client of the broker's admin port: namespaces and topics (docs/danube-protocol.md §13). Used by tests, by the host's
 * `create_namespaces` and by `danube-connect dev`.
 */
export class DanubeAdminClient {
  private readonly connection: Connection;
  private readonly timeoutMs: number;

  constructor(options: DanubeAdminClientOptions) {
    this.connection = new Connection(parseBrokerUrl(options.adminUrl, 'Danube admin URL'), { tls: options.tls, token: options.token });
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
    checkRequestTimeout(this.timeoutMs);
  }

  private async call<Res>(service: string, method: string, request: unknown, topic?: string): Promise<Res> {
    try {
      return await this.connection.unary<Res>('danube_admin', service, method, request, { timeoutMs: this.timeoutMs });
    } catch (err) {
      throw fromGrpcError(err, { rpc: method, topic });
    }
  }

  private static checkNamespace(name: string): string {
    const bare = name.startsWith('/') ? name.slice(1) : name;
    if (!NAMESPACE.test(bare)) {
      throw new DanubeError(`namespace "${name}" is invalid: use letters, digits, _ and -`, { code: 'DC_ERR_INVALID_OPTION', retryable: false });
    }
    return bare;
  }

  /** Namespaces, de-duplicated (the broker may list one several times, docs/danube-protocol.md §13). */
  async listNamespaces(): Promise<string[]> {
    const response = await this.call<{ namespaces: string[] }>('BrokerAdmin', 'ListNamespaces', {});
    return [...new Set(response.namespaces.map((n) => (n.startsWith('/') ? n.slice(1) : n)))].sort();
  }

  /** Creates a namespace; false when it already existed. */
  async createNamespace(name: string): Promise<boolean> {
    const bare = DanubeAdminClient.checkNamespace(name);
    try {
      await this.call('NamespaceAdmin', 'CreateNamespace', { name: bare });
      return true;
    } catch (err) {
      // An existing namespace answers NOT_FOUND "…already exists" (docs/danube-protocol.md §13).
      if (err instanceof DanubeError && /already exists/i.test(err.message)) return false;
      throw err;
    }
  }

  /** Creates every namespace in the list that is missing; returns the ones it created. */
  async ensureNamespaces(names: Iterable<string>): Promise<string[]> {
    const existing = new Set(await this.listNamespaces());
    const created: string[] = [];
    for (const name of new Set(names)) {
      const bare = DanubeAdminClient.checkNamespace(name);
      if (!existing.has(bare) && (await this.createNamespace(bare))) created.push(bare);
    }
    return created;
  }

  async deleteNamespace(name: string): Promise<void> {
    await this.call('NamespaceAdmin', 'DeleteNamespace', { name: DanubeAdminClient.checkNamespace(name) });
  }

  async createTopic(name: string, options: { dispatch?: DispatchMode; schemaSubject?: string } = {}): Promise<void> {
    validateTopicName(name);
    const request: Record<string, unknown> = { name, dispatch_strategy: dispatchWire(options.dispatch) };
    if (options.schemaSubject !== undefined) request.schema_subject = options.schemaSubject;
    await this.call('TopicAdmin', 'CreateTopic', request, name);
  }

  async createPartitionedTopic(baseName: string, partitions: number, options: { dispatch?: DispatchMode; schemaSubject?: string } = {}): Promise<void> {
    validateTopicName(baseName);
    if (!Number.isInteger(partitions) || partitions < 1) {
      throw new DanubeError(`partitions must be a whole number >= 1, got ${partitions}`, { code: 'DC_ERR_INVALID_OPTION', retryable: false });
    }
    const request: Record<string, unknown> = { base_name: baseName, partitions, dispatch_strategy: dispatchWire(options.dispatch) };
    if (options.schemaSubject !== undefined) request.schema_subject = options.schemaSubject;
    await this.call('TopicAdmin', 'CreatePartitionedTopic', request, baseName);
  }

  /** Topics of one namespace, with a leading slash; filtered to that namespace (the broker's scan is a raw prefix match). */
  async listTopics(namespace: string): Promise<TopicInfo[]> {
    const bare = DanubeAdminClient.checkNamespace(namespace);
    const response = await this.call<{ topics: TopicInfoWire[] }>('TopicAdmin', 'ListNamespaceTopics', { name: bare });
    return response.topics
      .filter((t) => t.name.startsWith(`/${bare}/`))
      .map((t) => ({ name: t.name, brokerId: t.broker_id, delivery: t.delivery }));
  }

  async deleteTopic(name: string): Promise<void> {
    await this.call('TopicAdmin', 'DeleteTopic', { name }, name);
  }

  async describeTopic(name: string): Promise<{ name: string; subscriptions: string[]; brokerId: string; delivery: string; schemaSubject: string | undefined }> {
    const r = await this.call<DescribeTopicResponseWire>('TopicAdmin', 'DescribeTopic', { name }, name);
    return { name: r.name, subscriptions: r.subscriptions, brokerId: r.broker_id, delivery: r.delivery, schemaSubject: r.schema_subject };
  }

  async listSubscriptions(topic: string): Promise<string[]> {
    return (await this.call<{ subscriptions: string[] }>('TopicAdmin', 'ListSubscriptions', { name: topic }, topic)).subscriptions;
  }

  async unsubscribe(topic: string, subscription: string): Promise<void> {
    await this.call('TopicAdmin', 'Unsubscribe', { topic, subscription }, topic);
  }

  /** Stores a failure policy; subscriptions created afterwards pick it up (docs/danube-protocol.md §9.4). Reliable topics only. */
  async setSubscriptionFailurePolicy(topic: string, subscription: string, policy: FailurePolicy): Promise<void> {
    const wire: SubscriptionFailurePolicyWire = {
      max_redelivery_count: policy.maxRedeliveryCount,
      ack_timeout_ms: String(policy.ackTimeoutMs),
      base_redelivery_delay_ms: String(policy.baseRedeliveryDelayMs),
      max_redelivery_delay_ms: String(policy.maxRedeliveryDelayMs),
      backoff_strategy: policy.backoff === 'fixed' ? 'Fixed' : 'Exponential',
      poison_policy: policy.poisonPolicy === 'dead_letter' ? 'DeadLetter' : policy.poisonPolicy === 'drop' ? 'Drop' : 'Block',
    };
    if (policy.deadLetterTopic !== undefined) wire.dead_letter_topic = policy.deadLetterTopic;
    await this.call('TopicAdmin', 'SetSubscriptionFailurePolicy', { topic, subscription, failure_policy: wire }, topic);
  }

  close(): void {
    this.connection.close();
  }
}
