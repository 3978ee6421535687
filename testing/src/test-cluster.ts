import type { DispatchStrategyName, StreamMessageWire } from '@danube-connect/sdk/internal';
import type { FailurePolicy } from './failure-policy.js';
import { SchemaRegistry } from './schema-registry.js';
import type { BrokerTopic } from './topic.js';

/** Metadata of one topic, shared by every broker of the cluster. */
export interface TopicRecord {
  readonly name: string;
  /** Broker id of the owner: topics are owned by the broker that created them. */
  readonly owner: string;
  readonly dispatch: DispatchStrategyName;
  schemaSubject: string | undefined;
}

/** What the cluster needs from a running broker. */
export interface ClusterMember {
  readonly brokerId: string;
  readonly brokerUrl: string;
  readonly connectUrl: string;
  localTopic(name: string): BrokerTopic | undefined;
  /** Tears the live topic down (admin DeleteTopic on any broker). */
  unloadTopic(name: string): void;
  /** Admin Unsubscribe on the owner. */
  unsubscribe(topic: string, subscription: string): void;
  /** Publishes a broker-made message (dead-letter copies) to a topic this member serves. */
  publishInternal(topic: string, message: StreamMessageWire): void;
}

function subscriptionKey(topic: string, subscription: string): string {
  return `${topic}\u0000${subscription}`;
}

/**
 * The replicated metadata of a Danube cluster, in memory: namespaces, topic records with their owner,
 * per-subscription admin settings and the schema registry. Two TestBrokers given the same TestCluster see
 * each other's topics and redirect lookups to the owner (docs/danube-protocol.md §7.1).
 */
export class TestCluster {
  readonly schemaRegistry = new SchemaRegistry();
  private readonly namespaceNames = new Set<string>();
  private readonly topicRecords = new Map<string, TopicRecord>();
  private readonly members = new Map<string, ClusterMember>();
  private readonly failurePolicies = new Map<string, FailurePolicy>();
  private readonly dispatchConfigs = new Map<string, number>();

  /** Namespace names without a leading slash, in creation order. */
  namespaces(): string[] {
    return [...this.namespaceNames];
  }

  hasNamespace(name: string): boolean {
    return this.namespaceNames.has(name);
  }

  /** False when it already existed. */
  addNamespace(name: string): boolean {
    if (this.namespaceNames.has(name)) return false;
    this.namespaceNames.add(name);
    return true;
  }

  deleteNamespace(name: string): boolean {
    return this.namespaceNames.delete(name);
  }

  topic(name: string): TopicRecord | undefined {
    return this.topicRecords.get(name);
  }

  /** Every topic name in the cluster, unsorted. */
  topicNames(): string[] {
    return [...this.topicRecords.keys()];
  }

  addTopic(record: TopicRecord): void {
    this.topicRecords.set(record.name, record);
  }

  removeTopic(name: string): void {
    this.topicRecords.delete(name);
    for (const map of [this.failurePolicies, this.dispatchConfigs]) {
      for (const key of map.keys()) if (key.startsWith(`${name}\u0000`)) map.delete(key);
    }
  }

  member(brokerId: string): ClusterMember | undefined {
    return this.members.get(brokerId);
  }

  join(member: ClusterMember): void {
    this.members.set(member.brokerId, member);
  }

  leave(member: ClusterMember): void {
    if (this.members.get(member.brokerId) === member) this.members.delete(member.brokerId);
  }

  failurePolicy(topic: string, subscription: string): FailurePolicy | undefined {
    return this.failurePolicies.get(subscriptionKey(topic, subscription));
  }

  setFailurePolicy(topic: string, subscription: string, policy: FailurePolicy): void {
    this.failurePolicies.set(subscriptionKey(topic, subscription), policy);
  }

  dispatchConfig(topic: string, subscription: string): number | undefined {
    return this.dispatchConfigs.get(subscriptionKey(topic, subscription));
  }

  setDispatchConfig(topic: string, subscription: string, maxUnackedMessages: number): void {
    this.dispatchConfigs.set(subscriptionKey(topic, subscription), maxUnackedMessages);
  }
}
