import { CONNECTION_MESSAGES, configValidator, connectionProblems, type MqttConnectionConfig } from '@danube-connect/mqtt';
import schema from '../schema.json' with { type: 'json' };
import { literalText, parseTemplate, topicNameProblem } from './topic-template.js';

/** One `[[connectors.config.routes]]` entry, defaults applied. */
export interface RouteConfig {
  from: string;
  subscription?: string;
  subscription_type: 'exclusive' | 'failover' | 'shared';
  consumer_name?: string;
  to: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  user_properties: boolean;
  content_type?: string;
  response_topic?: string;
  correlation_data?: string;
  message_expiry?: string;
}

/** The plugin's config (schema.json), defaults applied. */
export interface SinkMqttConfig extends MqttConnectionConfig {
  routes: RouteConfig[];
  mark_origin: boolean;
}

const TEMPLATES = ['to', 'content_type', 'response_topic', 'correlation_data', 'message_expiry'] as const;
const V5_ONLY = ['content_type', 'response_topic', 'correlation_data', 'message_expiry'] as const;

/** A route's subscription name: `subscription`, or one derived from the connector name. */
export const subscriptionOf = (route: RouteConfig, connector: string) => route.subscription ?? `${connector}-sink-mqtt`;

/** What schema.json cannot say: template syntax, literal text no topic name may hold, duplicate subscriptions. */
function routeProblems(config: SinkMqttConfig): string[] {
  const problems: string[] = [];
  config.routes.forEach((route, i) => {
    for (const key of TEMPLATES) {
      const source = route[key];
      if (source === undefined) continue;
      try {
        const template = parseTemplate(source);
        if (key === 'to' || key === 'response_topic') {
          const literal = literalText(template);
          if (/[+#\u0000]/.test(literal)) problems.push(`routes/${i}/${key}: contains +, # or NUL, which an MQTT topic name may not (wildcards are for subscriptions)`);
          else if (literal.startsWith('$') && 'literal' in (template.parts[0] ?? {})) problems.push(`routes/${i}/${key}: starts with $, which is reserved for the broker`);
          else if (template.parts.every((p) => 'literal' in p)) {
            const problem = topicNameProblem(literal);
            if (problem) problems.push(`routes/${i}/${key}: ${problem}`);
          }
        }
      } catch (err) {
        problems.push(`routes/${i}/${key}: ${(err as Error).message}`);
      }
    }
    if (config.protocol_version === 4) {
      for (const key of V5_ONLY) if (route[key] !== undefined) problems.push(`routes/${i}/${key}: is an MQTT 5 property; protocol_version is 4`);
    }
    if (route.subscription_type === 'shared' && route.consumer_name === undefined) {
      problems.push(`routes/${i}/consumer_name: is required with subscription_type "shared" (each instance needs its own, e.g. "sink-\${HOSTNAME}")`);
    }
    const twin = config.routes.findIndex((r) => r.from === route.from && r.subscription === route.subscription);
    if (twin < i) problems.push(`routes/${i}: reads ${route.from} with the same subscription as routes/${twin}; they would split its messages instead of each getting all (give one another subscription)`);
  });
  return problems;
}

/**
 * Validates the connector config against schema.json plus the semantic checks; throws one fatal
 * `DC_ERR_MQTT_CONFIG` error listing every problem with its key path.
 */
export const parseConfig = configValidator<SinkMqttConfig>(schema, (config) => [...connectionProblems(config), ...routeProblems(config)], CONNECTION_MESSAGES);
