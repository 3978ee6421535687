// @danube-connect/mqtt: the MQTT connection shared by the Danube Connect MQTT plugins (source-mqtt, sink-mqtt).
export { renderConfigTable } from './config-table.js';
export { configValidator, type ConfigValidator } from './config-validator.js';
export { CONNECTION_MESSAGES, connectionProblems, serverUrls, type MqttConnectionConfig } from './connection-config.js';
export { MQTT_ERROR_CODES, configError, type MqttErrorCode } from './errors.js';
export { MqttConnection, type ConnectInfo, type MqttConnectionHooks, type MqttConnectionOptions } from './mqtt-connection.js';
export { describeEndpoint, parseServerUrl, toMqttOptions, type ServerEndpoint } from './mqtt-options.js';
export { externalRefs, inlineSchema, renderPluginSchema } from './inline-schema.js';
export { loadTlsMaterial, type TlsConfig, type TlsMaterial } from './tls-material.js';
export { ORIGIN_PROPERTY } from './origin-property.js';
export { parseTopicFilter, topicFilterProblem, topicMatches, type TopicFilter } from './topic-filter.js';
