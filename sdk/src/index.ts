// Public API of @danube-connect/sdk: what plugin authors use (sdk/README.md, "Public surface", lists every entry
// point; test/public-surface.test.ts pins these names). The runtimes and their internals stay behind it.
export {
  Backoff,
  Consumer,
  DANUBE_ERROR_CODES,
  DanubeAdminClient,
  DanubeClient,
  DanubeError,
  PartitionRouter,
  Producer,
  SchemaRegistryClient,
  fnv1a64,
  isDanubeError,
  parseBrokerUrl,
  partitionTopic,
  unwrapSchemaDefinition,
  validateTopicName,
} from './danube/index.js';
export type {
  BackoffOptions,
  CompatibilityMode,
  CompatibilityResult,
  ConsumerOptions,
  DanubeAdminClientOptions,
  DanubeClientOptions,
  DanubeErrorCode,
  DanubeLogger,
  DanubeMessage,
  DispatchMode,
  FailurePolicy,
  MessageId,
  OffsetGap,
  ProducerOptions,
  ProducerOrdering,
  RegisterSchemaInput,
  RegisteredSchema,
  RetryOptions,
  SchemaInfo,
  SchemaType,
  SchemaVersionChoice,
  SchemaVersionInfo,
  SendOptions,
  SendReceipt,
  SubscriptionType,
  TlsOptions,
  TokenSource,
  TopicInfo,
  TopicSchemaConfig,
  Transport,
  ValidationPolicy,
} from './danube/index.js';
export type {
  ConnectorContext,
  ConnectorHealth,
  ConsumerConfig,
  ProducerConfig,
  SinkConnector,
  SourceConnector,
  SourceOutput,
} from './connector.js';
export { SinkRecord, bytesRecord, jsonRecord, textRecord, type SourceRecord, type SourceRecordOptions } from './record.js';
export { CONNECTOR_ERROR_CODES, ConnectorError, classify, type ConnectorErrorCode, type ConnectorErrorKind, type ConnectorErrorOptions } from './errors.js';
export { definePlugin, PLUGIN_API_VERSION } from './plugin/define-plugin.js';
export type { DanubeConnectPlugin, PluginDefinition, SinkPluginDefinition, SourcePluginDefinition } from './plugin/define-plugin.js';
export { createConnectorLogger, type ConnectorLoggerOptions, type LogLevel, type Logger } from './logging.js';
export { MASK, SECRET_KEYS, isSecretKey, maskSecrets, maskUrlCredentials, scrubSecretValues, secretValues } from './secrets.js';
export { DEFAULT_RUNTIME_SETTINGS, type RuntimeSettings } from './runtime/runtime-settings.js';
