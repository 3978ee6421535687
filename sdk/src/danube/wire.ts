/**
 * JS shapes of the Danube wire messages as @grpc/proto-loader produces them with PROTO_LOADER_OPTIONS
 * (snake_case, uint64 as decimal strings, enums as names). Field meanings: docs/danube-protocol.md §3, §4.
 * Input fields typed `string` for uint64 also accept decimal strings only: never JS numbers (ids exceed 2^53).
 *
 * Written by hand on purpose, not generated: proto-loader already encodes and decodes (the lean transport
 * reuses its requestSerialize/responseDeserialize), so these types only describe its output; generators
 * (ts-proto, protobuf-ts) would add a protoc toolchain and a second encoder for ~270 lines, and their default
 * uint64 mapping is a lossy `number`. test/danube/wire-types.test.ts loads the .proto files with proto-loader
 * and fails when a field named here is missing from its message or a 64-bit field is not typed `string`.
 */

export type DispatchStrategyName = 'NonReliable' | 'Reliable';
type ProducerAccessModeName = 'Shared' | 'Exclusive';
export type SubscriptionTypeName = 'Exclusive' | 'Shared' | 'Failover' | 'KeyShared';
type LookupTypeName = 'Redirect' | 'Connect' | 'Failed';
type ClientTypeName = 'Producer' | 'Consumer';
type ClientStatusName = 'OK' | 'CLOSE';

export interface SchemaReferenceWire {
  subject: string;
  use_latest?: boolean;
  pinned_version?: number;
  min_version?: number;
  version_ref?: 'use_latest' | 'pinned_version' | 'min_version';
}

export interface ProducerRequestWire {
  request_id: string;
  producer_name: string;
  topic_name: string;
  schema_ref?: SchemaReferenceWire | null;
  producer_access_mode: ProducerAccessModeName;
  dispatch_strategy: DispatchStrategyName;
}

export interface ProducerResponseWire {
  request_id: string;
  producer_id: string;
  producer_name: string;
}

export interface MsgIdWire {
  producer_id: string;
  topic_name: string;
  broker_addr: string;
  topic_offset: string;
}

export interface StreamMessageWire {
  request_id: string;
  msg_id: MsgIdWire | null;
  payload: Buffer;
  publish_time: string;
  producer_name: string;
  subscription_name: string;
  attributes: Record<string, string>;
  schema_id?: string;
  schema_version?: number;
  routing_key?: string;
}

export interface MessageResponseWire {
  request_id: string;
}

export interface ConsumerRequestWire {
  request_id: string;
  topic_name: string;
  consumer_name: string;
  subscription: string;
  subscription_type: SubscriptionTypeName;
  key_filters: string[];
}

export interface ConsumerResponseWire {
  request_id: string;
  consumer_id: string;
  consumer_name: string;
}

export interface ReceiveRequestWire {
  request_id: string;
  consumer_id: string;
}

export interface AckRequestWire {
  request_id: string;
  msg_id: MsgIdWire | null;
  subscription_name: string;
}

export interface NackRequestWire extends AckRequestWire {
  delay_ms?: string;
  reason?: string;
}

export interface RequestIdResponseWire {
  request_id: string;
}

export interface TopicLookupRequestWire {
  request_id: string;
  topic: string;
}

export interface TopicLookupResponseWire {
  request_id: string;
  response_type: LookupTypeName;
  connect_url: string;
  broker_url: string;
  proxy: boolean;
}

export interface TopicPartitionsResponseWire {
  request_id: string;
  partitions: string[];
}

export interface HealthCheckRequestWire {
  request_id: string;
  client: ClientTypeName;
  id: string;
}

export interface HealthCheckResponseWire {
  status: ClientStatusName;
}

// ---- danube_schema ----

export interface RegisterSchemaRequestWire {
  subject: string;
  schema_type: string;
  schema_definition: Buffer;
  description: string;
  created_by: string;
  tags: string[];
}

export interface RegisterSchemaResponseWire {
  schema_id: string;
  version: number;
  is_new_version: boolean;
  fingerprint: string;
}

export interface GetSchemaRequestWire {
  schema_id: string;
  version?: number;
}

export interface GetSchemaResponseWire {
  schema_id: string;
  version: number;
  subject: string;
  schema_type: string;
  schema_definition: Buffer;
  description: string;
  created_at: string;
  created_by: string;
  tags: string[];
  fingerprint: string;
  compatibility_mode: string;
}

export interface SchemaVersionInfoWire {
  version: number;
  created_at: string;
  created_by: string;
  description: string;
  fingerprint: string;
  schema_id: string;
}

export interface CheckCompatibilityRequestWire {
  subject: string;
  new_schema_definition: Buffer;
  schema_type: string;
  compatibility_mode?: string;
}

export interface CheckCompatibilityResponseWire {
  is_compatible: boolean;
  errors: string[];
}

export interface SuccessMessageResponseWire {
  success: boolean;
  message: string;
}

export interface ConfigureTopicSchemaRequestWire {
  topic_name: string;
  schema_subject: string;
  validation_policy: string;
  enable_payload_validation: boolean;
}

export interface UpdateTopicValidationPolicyRequestWire {
  topic_name: string;
  validation_policy: string;
  enable_payload_validation: boolean;
}

export interface GetTopicSchemaConfigResponseWire {
  schema_subject: string;
  validation_policy: string;
  enable_payload_validation: boolean;
  schema_id: string;
}

export interface SubjectSummaryWire {
  subject: string;
  schema_type: string;
  latest_version: number;
  compatibility_mode: string;
  schema_id: string;
  tags: string[];
}

// ---- danube_admin ----

export type SubscriptionBackoffStrategyName = 'Fixed' | 'Exponential';
export type SubscriptionPoisonPolicyName = 'DeadLetter' | 'Block' | 'Drop';

export interface TopicInfoWire {
  name: string;
  broker_id: string;
  delivery: string;
}

export interface NewTopicRequestWire {
  name: string;
  schema_subject?: string;
  dispatch_strategy: DispatchStrategyName;
}

export interface PartitionedTopicRequestWire {
  base_name: string;
  partitions: number;
  schema_subject?: string;
  dispatch_strategy: DispatchStrategyName;
}

export interface DescribeTopicResponseWire {
  name: string;
  subscriptions: string[];
  broker_id: string;
  delivery: string;
  schema_subject?: string;
  schema_id?: string;
  schema_version?: number;
  schema_type?: string;
  compatibility_mode?: string;
}

export interface SubscriptionFailurePolicyWire {
  max_redelivery_count: number;
  ack_timeout_ms: string;
  base_redelivery_delay_ms: string;
  max_redelivery_delay_ms: string;
  backoff_strategy: SubscriptionBackoffStrategyName;
  dead_letter_topic?: string;
  poison_policy: SubscriptionPoisonPolicyName;
}

export interface GetSubscriptionFailurePolicyResponseWire {
  failure_policy?: SubscriptionFailurePolicyWire;
  subscription_type: number;
}

export interface SubscriptionDispatchConfigWire {
  max_unacked_messages: number;
}
