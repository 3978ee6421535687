import { ConnectorError, type SinkRecord } from '@danube-connect/sdk';
import { ORIGIN_PROPERTY } from '@danube-connect/mqtt';
import type { IClientPublishOptions } from 'mqtt';
import type { RouteConfig } from './config.js';
import { parseTemplate, renderTemplate, topicNameProblem, type Template } from './topic-template.js';

/** One MQTT PUBLISH to send. */
export interface MqttMessage {
  topic: string;
  payload: Buffer;
  options: IClientPublishOptions;
}

const MAX_EXPIRY = 4_294_967_295;

/** Turns a route's records into PUBLISHes: templates parsed once, rendered per record. */
export class MessageBuilder {
  private readonly to: Template;
  private readonly contentType: Template | undefined;
  private readonly responseTopic: Template | undefined;
  private readonly correlationData: Template | undefined;
  private readonly messageExpiry: Template | undefined;

  constructor(
    private readonly route: RouteConfig,
    private readonly origin: string | undefined,
  ) {
    const optional = (source: string | undefined) => (source === undefined ? undefined : parseTemplate(source));
    this.to = parseTemplate(route.to);
    this.contentType = optional(route.content_type);
    this.responseTopic = optional(route.response_topic);
    this.correlationData = optional(route.correlation_data);
    this.messageExpiry = optional(route.message_expiry);
  }

  /**
   * The PUBLISH for `record` at `protocolVersion`. Throws invalid data (never retried: the same record renders the
   * same way every time) when the topic has a placeholder without value or is no valid topic name, or a property
   * value is malformed. The payload is passed on byte for byte.
   */
  build(record: SinkRecord, protocolVersion: 4 | 5): MqttMessage {
    const where = `${record.topic}${record.partition === undefined ? '' : `-part-${record.partition}`}@${record.offset ?? 'non-reliable'}`;
    const topic = renderTemplate(this.to, record);
    if (!topic.ok) throw ConnectorError.invalidData(`message ${where}: MQTT topic template "${this.route.to}": ${topic.missing} has no value`, { code: 'DC_ERR_MQTT_TOPIC' });
    const problem = topicNameProblem(topic.value);
    if (problem) throw ConnectorError.invalidData(`message ${where}: MQTT topic from template "${this.route.to}" ${problem}`, { code: 'DC_ERR_MQTT_TOPIC' });
    const options: IClientPublishOptions = { qos: this.route.qos, retain: this.route.retain };
    if (protocolVersion === 5) {
      const properties: NonNullable<IClientPublishOptions['properties']> = {};
      const userProperties: Record<string, string> = this.route.user_properties ? { ...record.attributes } : {};
      if (this.origin !== undefined) userProperties[ORIGIN_PROPERTY] = this.origin;
      if (Object.keys(userProperties).length > 0) properties.userProperties = userProperties;
      const value = (template: Template | undefined) => {
        if (!template) return undefined;
        const rendered = renderTemplate(template, record);
        return rendered.ok ? rendered.value : undefined; // an optional property without value is left out
      };
      const contentType = value(this.contentType);
      if (contentType !== undefined) properties.contentType = contentType;
      const responseTopic = value(this.responseTopic);
      if (responseTopic !== undefined) {
        const bad = topicNameProblem(responseTopic);
        if (bad) throw ConnectorError.invalidData(`message ${where}: MQTT response topic ${bad}`, { code: 'DC_ERR_MQTT_PROPERTY' });
        properties.responseTopic = responseTopic;
      }
      const correlation = value(this.correlationData);
      if (correlation !== undefined) properties.correlationData = Buffer.from(correlation, 'utf8');
      const expiry = value(this.messageExpiry);
      if (expiry !== undefined) {
        const seconds = /^\d{1,10}$/.test(expiry) ? Number(expiry) : NaN;
        if (!(seconds <= MAX_EXPIRY)) throw ConnectorError.invalidData(`message ${where}: MQTT message expiry must be an integer 0 … ${MAX_EXPIRY} (seconds)`, { code: 'DC_ERR_MQTT_PROPERTY' });
        properties.messageExpiryInterval = seconds;
      }
      if (Object.keys(properties).length > 0) options.properties = properties;
    }
    return { topic: topic.value, payload: record.payload, options };
  }
}
