import { definePlugin } from '@danube-connect/sdk';
import { parseConfig, type SourceMqttConfig } from './config.js';
import { MqttSource } from './mqtt-source.js';

export default definePlugin<SourceMqttConfig>({
  kind: 'source',
  create: (config, ctx) => new MqttSource(parseConfig(config), ctx),
});
