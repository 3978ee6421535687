// @danube-connect/sdk/core: the SDK's pieces that tools need without the gRPC client or the runtimes (the host
// validates config and supervises children with these; loading gRPC there only cost memory and start time).
export { MASK, SECRET_KEYS, isSecretKey, maskSecrets, maskUrlCredentials, scrubSecretValues, secretValues } from './secrets.js';
export { parseBrokerUrl } from './danube/broker-url.js';
export { validateTopicName } from './danube/topic-name.js';
export { DanubeError, isDanubeError, type DanubeErrorCode } from './danube/errors.js';
export { createConnectorLogger, type ConnectorLoggerOptions, type LogLevel, type Logger } from './logging.js';
export { DEFAULT_RUNTIME_SETTINGS, resolveRuntimeSettings, type RuntimeSettings } from './runtime/runtime-settings.js';
export { findPackageRoot } from './package-root.js';
