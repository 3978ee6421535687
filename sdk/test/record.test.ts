import { describe, expect, it } from 'vitest';
import type { DanubeMessage } from '../src/danube/message.js';
import { bytesRecord, jsonRecord, SinkRecord, textRecord } from '../src/record.js';

function message(payload: Buffer): DanubeMessage {
  return {
    payload,
    attributes: { a: '1' },
    topic: '/default/t-part-2',
    partition: 2,
    offset: '41',
    requestId: '7',
    producerName: 'p',
    publishTime: 1_700_000_000_000,
    routingKey: 'k',
    schemaId: undefined,
    schemaVersion: undefined,
    subscription: 's',
    messageId: { producerId: '1', topicName: '/default/t-part-2', brokerAddr: '', topicOffset: '41' },
  };
}

describe('SourceRecord helpers', () => {
  it('build JSON, text and byte payloads with the options', () => {
    const ack = () => {};
    expect(jsonRecord('/default/t', { a: 1 }, { key: 'k', ack })).toEqual({ topic: '/default/t', payload: Buffer.from('{"a":1}'), key: 'k', ack });
    expect(textRecord('/default/t', 'héllo').payload.toString('utf8')).toBe('héllo');
    const bytes = new Uint8Array([0, 255, 7]);
    expect([...bytesRecord('/default/t', bytes).payload]).toEqual([0, 255, 7]);
  });
});

describe('SinkRecord', () => {
  it('exposes the message with the configured topic and partition', () => {
    const record = new SinkRecord(message(Buffer.from('{"x":1}')), '/default/t');
    expect(record).toMatchObject({ topic: '/default/t', partition: 2, offset: '41', routingKey: 'k', publishTime: 1_700_000_000_000 });
    expect(record.json()).toEqual({ x: 1 });
    expect(record.text()).toBe('{"x":1}');
  });

  it('json() on a non-JSON payload throws invalid data naming topic and offset', () => {
    const record = new SinkRecord(message(Buffer.from('not json')), '/default/t');
    expect(() => record.json()).toThrow(expect.objectContaining({ kind: 'invalid_data', message: expect.stringContaining('/default/t@41') }));
  });
});
