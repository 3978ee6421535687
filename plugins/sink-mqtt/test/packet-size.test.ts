// The sink refuses a message whose PUBLISH would exceed the broker's Maximum Packet Size by its own estimate; the
// estimate must equal the size MQTT.js's packet encoder writes, or it refuses good messages / sends bad ones.
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import type { MqttMessage } from '../src/mqtt-message.js';
import { publishPacketSize } from '../src/mqtt-publisher.js';

const cases: Array<[string, MqttMessage]> = [
  ['QoS 0, tiny', { topic: 'a', payload: Buffer.from('x'), options: { qos: 0 } }],
  ['QoS 1, 200 bytes', { topic: 'dev/pump-7', payload: Buffer.alloc(200), options: { qos: 1 } }],
  ['QoS 2, 20 KiB, a long topic', { topic: 't/'.repeat(100), payload: Buffer.alloc(20_000), options: { qos: 2 } }],
  ['QoS 1, 3 MB', { topic: 'big', payload: Buffer.alloc(3_000_000), options: { qos: 1 } }],
  [
    'QoS 1 with every property',
    {
      topic: 'props/ü',
      payload: Buffer.alloc(130),
      options: { qos: 1, properties: { userProperties: { device: 'd7', 'x.y': 'ä', 'danube-origin': 'conn' }, contentType: 'application/json', responseTopic: 'r/1', correlationData: Buffer.from('c-42'), messageExpiryInterval: 60 } },
    },
  ],
];

describe('publishPacketSize', () => {
  for (const version of [4, 5] as const) {
    for (const [name, message] of cases) {
      it(`MQTT ${version === 5 ? '5' : '3.1.1'}, ${name}: equals the encoded PUBLISH`, () => {
        const packet = { cmd: 'publish' as const, topic: message.topic, payload: message.payload, qos: message.options.qos ?? 0, retain: false, dup: false, messageId: 1, ...(version === 5 && message.options.properties ? { properties: message.options.properties } : {}) };
        expect(publishPacketSize(message, version)).toBe(mqttPacket.generate(packet, { protocolVersion: version }).length);
      });
    }
  }
});
