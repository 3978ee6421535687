export { DanubeClient, type DanubeClientOptions } from './danube-client.js';
export { DanubeAdminClient, type DanubeAdminClientOptions, type FailurePolicy, type TopicInfo } from './admin-client.js';
export {
  Producer,
  type DispatchMode,
  type ProducerOptions,
  type ProducerOrdering,
  type SchemaVersionChoice,
  type SendOptions,
  type SendReceipt,
} from './producer.js';
export { Consumer, type ConsumerOptions, type OffsetGap, type SubscriptionType } from './consumer.js';
export type { DanubeMessage, MessageId } from './message.js';
export {
  SchemaRegistryClient,
  unwrapSchemaDefinition,
  type CompatibilityMode,
  type CompatibilityResult,
  type RegisterSchemaInput,
  type RegisteredSchema,
  type SchemaInfo,
  type SchemaType,
  type SchemaVersionInfo,
  type TopicSchemaConfig,
  type ValidationPolicy,
} from './schema-registry.js';
export { DanubeError, DANUBE_ERROR_CODES, isDanubeError, type DanubeErrorCode } from './errors.js';
export { Backoff, type BackoffOptions } from './backoff.js';
export type { RetryOptions } from './retry.js';
export type { TlsOptions, TokenSource, Transport } from './connection.js';
export type { DanubeLogger } from './logger.js';
export { fnv1a64, PartitionRouter } from './partition-router.js';
export { partitionTopic, validateTopicName } from './topic-name.js';
export { parseBrokerUrl } from './broker-url.js';
