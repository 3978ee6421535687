import { status } from '@grpc/grpc-js';
import type {
  DescribeTopicResponseWire,
  GetSubscriptionFailurePolicyResponseWire,
  NewTopicRequestWire,
  PartitionedTopicRequestWire,
  SubscriptionDispatchConfigWire,
  SubscriptionFailurePolicyWire,
  TopicInfoWire,
} from '@danube-connect/sdk/internal';
import type { Broker } from './broker.js';
import { BrokerError, failedPrecondition, invalidArgument, notFound } from './broker-error.js';
import { failurePolicyFromWire, failurePolicyToWire } from './failure-policy.js';
import { unary } from './grpc-handlers.js';
import { dispatchStrategy } from './producer-service.js';
import type { TopicRecord } from './test-cluster.js';
import { normalizeNamespace } from './topic-name.js';

type NameRequest = { name: string };
type SubscriptionRequest = { topic: string; subscription: string };
type Success = { success: boolean };

const SUBSCRIPTION_TYPE_NUMBERS = { Exclusive: 0, Shared: 1, Failover: 2, KeyShared: 3 } as const;
const MAX_DISPATCH_WINDOW = 10_000;

function record(broker: Broker, name: string): TopicRecord {
  const found = broker.cluster.topic(name);
  if (!found) throw notFound(`Topic ${name} not found`);
  return found;
}

/** Admin CreateTopic/CreatePartitionedTopic report every failure as NOT_FOUND with the cause (docs/danube-protocol.md §13). */
function createTopic(broker: Broker, name: string, dispatch: unknown, subject: string | undefined): void {
  const strategy = dispatchStrategy(dispatch);
  if (!strategy) throw invalidArgument(`Invalid dispatch strategy ${String(dispatch)}`);
  try {
    broker.createTopic(name, strategy, subject || undefined);
  } catch (err) {
    throw notFound(`Unable to create topic ${name}: ${(err as Error).message}`);
  }
}

/** Topics of a namespace by raw prefix scan, so `ns` also lists `ns2`'s topics (docs/danube-protocol.md §13 quirk). */
function namespaceTopics(broker: Broker, namespace: string): TopicRecord[] {
  const prefix = `/${normalizeNamespace(namespace)}`;
  return broker.cluster
    .topicNames()
    .filter((name) => name.startsWith(prefix))
    .sort()
    .map((name) => broker.cluster.topic(name) as TopicRecord);
}

function brokerAdmin(broker: Broker): Record<string, unknown> {
  return {
    ListNamespaces: unary<Record<string, never>, { namespaces: string[] }>(() => ({ namespaces: broker.cluster.namespaces() })),
  };
}

function namespaceAdmin(broker: Broker): Record<string, unknown> {
  return {
    CreateNamespace: unary<NameRequest, Success>((request) => {
      const name = normalizeNamespace(request.name);
      if (!name) throw invalidArgument('The namespace name is empty');
      if (!broker.cluster.addNamespace(name)) throw notFound(`Namespace ${name} already exists`);
      return { success: true };
    }),
    GetNamespaceTopics: unary<NameRequest, { topics: string[] }>((request) => ({
      topics: namespaceTopics(broker, request.name).map((topic) => topic.name.slice(1)),
    })),
    // Not described by the protocol document: refused while the namespace still has topics (assumed).
    DeleteNamespace: unary<NameRequest, Success>((request) => {
      const name = normalizeNamespace(request.name);
      if (!broker.cluster.hasNamespace(name)) throw notFound(`Namespace ${name} not found`);
      if (broker.cluster.topicNames().some((topic) => topic.startsWith(`/${name}/`))) {
        throw failedPrecondition(`Namespace ${name} still has topics`);
      }
      broker.cluster.deleteNamespace(name);
      return { success: true };
    }),
  };
}

function topicAdmin(broker: Broker): Record<string, unknown> {
  const cluster = broker.cluster;
  return {
    ListNamespaceTopics: unary<NameRequest, { topics: TopicInfoWire[] }>((request) => ({
      topics: namespaceTopics(broker, request.name).map((topic) => ({
        name: topic.name,
        broker_id: topic.owner,
        delivery: topic.dispatch,
      })),
    })),
    CreateTopic: unary<NewTopicRequestWire, Success>((request) => {
      createTopic(broker, request.name, request.dispatch_strategy, request.schema_subject);
      return { success: true };
    }),
    // Stops at the first failing partition; 0 partitions succeeds and creates nothing (docs/danube-protocol.md §13).
    CreatePartitionedTopic: unary<PartitionedTopicRequestWire, Success>((request) => {
      for (let i = 0; i < request.partitions; i++) {
        createTopic(broker, `${request.base_name}-part-${i}`, request.dispatch_strategy, request.schema_subject);
      }
      return { success: true };
    }),
    DeleteTopic: unary<NameRequest, Success>((request) => {
      broker.deleteTopic(request.name);
      return { success: true };
    }),
    DescribeTopic: unary<NameRequest, DescribeTopicResponseWire>((request) => {
      const topic = record(broker, request.name);
      const live = cluster.member(topic.owner)?.localTopic(topic.name);
      const response: DescribeTopicResponseWire = {
        name: topic.name,
        subscriptions: live ? [...live.subscriptions.keys()] : [],
        broker_id: topic.owner,
        delivery: topic.dispatch,
      };
      const subject = topic.schemaSubject === undefined ? undefined : cluster.schemaRegistry.subject(topic.schemaSubject);
      if (topic.schemaSubject !== undefined) response.schema_subject = topic.schemaSubject;
      if (subject) {
        response.schema_id = subject.schemaId;
        const latest = cluster.schemaRegistry.latest(subject);
        if (latest) response.schema_version = latest.version;
        response.schema_type = subject.type;
        response.compatibility_mode = subject.compatibilityMode;
      }
      return response;
    }),
    ListSubscriptions: unary<NameRequest, { subscriptions: string[] }>((request) => {
      const topic = record(broker, request.name);
      const live = cluster.member(topic.owner)?.localTopic(topic.name);
      return { subscriptions: live ? [...live.subscriptions.keys()] : [] };
    }),
    Unsubscribe: unary<SubscriptionRequest, Success>((request) => {
      const topic = record(broker, request.topic);
      const owner = cluster.member(topic.owner);
      if (!owner) throw notFound(`Topic ${request.topic} is not served`);
      owner.unsubscribe(request.topic, request.subscription);
      return { success: true };
    }),
    SetSubscriptionFailurePolicy: unary<SubscriptionRequest & { failure_policy: SubscriptionFailurePolicyWire | null }, Success>(
      (request) => {
        const topic = record(broker, request.topic);
        if (topic.dispatch !== 'Reliable') {
          throw failedPrecondition(`Failure policies apply to Reliable topics only; ${topic.name} is ${topic.dispatch}`);
        }
        const policy = request.failure_policy && failurePolicyFromWire(request.failure_policy);
        if (!policy) throw invalidArgument('A valid failure_policy is required');
        if (policy.poisonPolicy === 'dead_letter' && !policy.deadLetterTopic) {
          throw invalidArgument('poison_policy DeadLetter requires a dead_letter_topic');
        }
        // Picked up by subscriptions created afterwards (docs/danube-protocol.md §9.4).
        cluster.setFailurePolicy(topic.name, request.subscription, policy);
        return { success: true };
      },
    ),
    GetSubscriptionFailurePolicy: unary<SubscriptionRequest, GetSubscriptionFailurePolicyResponseWire>((request) => {
      const topic = record(broker, request.topic);
      const live = cluster.member(topic.owner)?.localTopic(topic.name)?.subscriptions.get(request.subscription);
      // The stored policy, else the live subscription's (assumed: the document does not detail this RPC).
      const policy = cluster.failurePolicy(topic.name, request.subscription) ?? live?.dispatch?.policy;
      const response: GetSubscriptionFailurePolicyResponseWire = {
        subscription_type: live ? SUBSCRIPTION_TYPE_NUMBERS[live.type] : 0,
      };
      if (policy) response.failure_policy = failurePolicyToWire(policy);
      return response;
    }),
    SetSubscriptionDispatchConfig: unary<SubscriptionRequest & { dispatch_config: SubscriptionDispatchConfigWire | null }, Success>(
      (request) => {
        const topic = record(broker, request.topic);
        const window = request.dispatch_config?.max_unacked_messages ?? 0;
        if (window < 1 || window > MAX_DISPATCH_WINDOW) {
          throw invalidArgument(`max_unacked_messages must be between 1 and ${MAX_DISPATCH_WINDOW}, got ${window}`);
        }
        // Stored only: the dispatcher does not read it at the documented commit (docs/danube-protocol.md §9.4).
        cluster.setDispatchConfig(topic.name, request.subscription, window);
        return { success: true };
      },
    ),
    GetSubscriptionDispatchConfig: unary<SubscriptionRequest, { dispatch_config?: SubscriptionDispatchConfigWire }>((request) => {
      const topic = record(broker, request.topic);
      const window = cluster.dispatchConfig(topic.name, request.subscription);
      return window === undefined ? {} : { dispatch_config: { max_unacked_messages: window } };
    }),
    UnloadTopic: unary<NameRequest, Success>(() => {
      throw new BrokerError(status.UNIMPLEMENTED, 'UnloadTopic is not supported in standalone mode');
    }),
  };
}

/** The danube_admin services of the admin port (docs/danube-protocol.md §13), keyed by service name. */
export function adminServices(broker: Broker): Record<'BrokerAdmin' | 'NamespaceAdmin' | 'TopicAdmin', Record<string, unknown>> {
  return { BrokerAdmin: brokerAdmin(broker), NamespaceAdmin: namespaceAdmin(broker), TopicAdmin: topicAdmin(broker) };
}
