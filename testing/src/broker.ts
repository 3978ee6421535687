import type { DispatchStrategyName, StreamMessageWire, SubscriptionTypeName } from '@danube-connect/sdk/internal';
import { alreadyExists, failedPrecondition, invalidArgument, notFound, unavailable } from './broker-error.js';
import type { Consumer } from './consumer.js';
import type { FailurePolicy } from './failure-policy.js';
import { Subscription } from './subscription.js';
import type { ClusterMember, TestCluster } from './test-cluster.js';
import { BrokerTopic } from './topic.js';
import type { Producer } from './topic.js';
import { partitionBase, topicNamespace } from './topic-name.js';

export interface BrokerConfig {
  brokerId: string;
  brokerUrl: string;
  connectUrl: string;
  autoCreateTopics: boolean;
  /** Payload bytes; 0 = unlimited. */
  maxMessageSize: number;
  maxUnackedMessages: number;
  /** TestBrokerOptions.liveTailCapacity; undefined = off. */
  liveTailCapacity?: number | undefined;
  /** TestBrokerOptions.dropConsumed. */
  dropConsumed: boolean;
  failurePolicy: FailurePolicy;
}

/**
 * The in-memory state of one broker: the topics it serves, and its producers and consumers by id. Service
 * handlers implement the RPCs on top of it; the cluster holds what brokers share.
 */
export class Broker implements ClusterMember {
  readonly topics = new Map<string, BrokerTopic>();
  readonly producers = new Map<string, Producer>();
  readonly consumers = new Map<string, Consumer>();

  constructor(
    readonly cluster: TestCluster,
    readonly config: BrokerConfig,
  ) {}

  get brokerId(): string {
    return this.config.brokerId;
  }

  get brokerUrl(): string {
    return this.config.brokerUrl;
  }

  get connectUrl(): string {
    return this.config.connectUrl;
  }

  localTopic(name: string): BrokerTopic | undefined {
    return this.topics.get(name);
  }

  /**
   * The live topic for CreateProducer/Subscribe: undefined when the cluster does not know it, UNAVAILABLE
   * when another broker owns it, so clients redo the lookup (docs/danube-protocol.md §7.2, §9.1).
   */
  servedTopic(name: string): BrokerTopic | undefined {
    const local = this.topics.get(name);
    if (local) return local;
    const record = this.cluster.topic(name);
    if (!record) return undefined;
    throw unavailable(`The topic ${name} is not served by broker ${this.brokerId}, redo the Lookup`);
  }

  /**
   * Creates a topic owned by this broker with the checks of docs/danube-protocol.md §6.2: existing namespace (UNAVAILABLE),
   * a known dispatch strategy (INVALID_ARGUMENT), a registered schema subject (FAILED_PRECONDITION), and the `-part-` prefix-scan conflicts (ALREADY_EXISTS).
   * `adoptSubject` false records the subject in metadata only, like a producer's auto-creation (docs/danube-protocol.md §8.1 nuance).
   */
  createTopic(
    name: string,
    dispatch: DispatchStrategyName | undefined,
    schemaSubject?: string,
    adoptSubject = true,
  ): BrokerTopic {
    const namespace = topicNamespace(name);
    if (!this.cluster.hasNamespace(namespace)) {
      throw unavailable(`Unable to find the namespace ${namespace}, the topic ${name} can't be created`);
    }
    if (dispatch === undefined) throw invalidArgument(`Dispatch strategy is missing, the topic ${name} can't be created`);
    if (this.cluster.topic(name)) throw alreadyExists(`The topic ${name} already exists`);
    const base = partitionBase(name);
    if (base === undefined) {
      // The broker's partition check is a raw prefix scan: `/ns/events` clashes with `/ns/events-raw` too.
      const clash = this.cluster.topicNames().find((existing) => existing.startsWith(name));
      if (clash) throw alreadyExists(`The topic ${name} can't be created: partitioned topic ${clash} exists`);
    } else if (this.cluster.topic(base)) {
      throw alreadyExists(`The partition ${name} can't be created: the non-partitioned topic ${base} exists`);
    }
    if (schemaSubject !== undefined && !this.cluster.schemaRegistry.subject(schemaSubject)) {
      throw failedPrecondition(`The schema subject ${schemaSubject} is not registered`);
    }
    this.cluster.addTopic({ name, owner: this.brokerId, dispatch, schemaSubject });
    const topic = new BrokerTopic(name, dispatch, this.config.dropConsumed);
    if (adoptSubject) topic.schemaSubject = schemaSubject;
    this.topics.set(name, topic);
    return topic;
  }

  /** Admin DeleteTopic: removes the record and tears down the owner's live topic. */
  deleteTopic(name: string): void {
    const record = this.cluster.topic(name);
    if (!record) throw notFound(`The topic ${name} does not exist`);
    this.cluster.member(record.owner)?.unloadTopic(name);
    this.cluster.removeTopic(name);
  }

  unloadTopic(name: string): void {
    const topic = this.topics.get(name);
    if (!topic) return;
    this.topics.delete(name);
    topic.close();
    for (const producer of topic.producers.values()) this.producers.delete(producer.id);
    for (const subscription of topic.subscriptions.values()) {
      for (const consumer of subscription.consumers.values()) this.consumers.delete(consumer.id);
    }
  }

  /** The subscription, created with the failure policy stored by admin if any (docs/danube-protocol.md §9.4). */
  subscription(topic: BrokerTopic, name: string, type: SubscriptionTypeName): Subscription {
    let subscription = topic.subscriptions.get(name);
    if (subscription) return subscription;
    subscription = new Subscription({
      topic: topic.name,
      name,
      type,
      log: topic.log,
      policy: this.cluster.failurePolicy(topic.name, name) ?? this.config.failurePolicy,
      // SetSubscriptionDispatchConfig is stored but not read by the broker's dispatcher (docs/danube-protocol.md §9.4).
      maxUnackedMessages: this.config.maxUnackedMessages,
      liveTailCapacity: this.config.liveTailCapacity,
      deadLetter: (dlqTopic, message) => this.deadLetter(dlqTopic, message),
    });
    topic.subscriptions.set(name, subscription);
    return subscription;
  }

  /** Admin Unsubscribe: only while none of its consumers is active (docs/danube-protocol.md §13). */
  unsubscribe(topicName: string, name: string): void {
    const topic = this.topics.get(topicName);
    if (!topic) throw notFound(`Topic ${topicName} not found`);
    const subscription = topic.subscriptions.get(name);
    if (!subscription) throw notFound(`Subscription ${name} not found on topic ${topic.name}`);
    for (const consumer of subscription.consumers.values()) {
      if (consumer.active) throw notFound(`Subscription ${name} of topic ${topic.name} has active consumers`);
    }
    subscription.close();
    for (const consumer of subscription.consumers.values()) this.consumers.delete(consumer.id);
    topic.subscriptions.delete(name);
  }

  publishInternal(topicName: string, message: StreamMessageWire): void {
    const topic = this.topics.get(topicName);
    if (topic && !topic.closed) topic.publish(message);
  }

  /**
   * Dead-letter copies go to the DLQ topic wherever it is served. A missing DLQ topic is created here as a
   * Reliable topic when its namespace exists (unconfirmed: the document does not say), else the copy is lost.
   */
  private deadLetter(dlqTopic: string, message: StreamMessageWire): void {
    let record = this.cluster.topic(dlqTopic);
    if (!record) {
      try {
        this.createTopic(dlqTopic, 'Reliable');
      } catch {
        return;
      }
      record = this.cluster.topic(dlqTopic);
    }
    if (record) this.cluster.member(record.owner)?.publishInternal(dlqTopic, message);
  }

  /** TestBroker.restart(): producers and consumers are in-memory only (docs/danube-protocol.md §9.2). */
  forgetClients(): void {
    this.producers.clear();
    this.consumers.clear();
    for (const topic of this.topics.values()) {
      topic.producers.clear();
      for (const subscription of topic.subscriptions.values()) subscription.forgetConsumers();
    }
  }

  close(): void {
    for (const topic of this.topics.values()) topic.close();
  }
}
