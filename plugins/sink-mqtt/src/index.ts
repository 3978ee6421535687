import { definePlugin } from '@danube-connect/sdk';
import { parseConfig, type SinkMqttConfig } from './config.js';
import { MqttSink } from './mqtt-sink.js';

export default definePlugin<SinkMqttConfig>({
  kind: 'sink',
  create: async (config, ctx) => {
    const sink = new MqttSink(parseConfig(config), ctx);
    await sink.start();
    return sink;
  },
});
