import { describe, expect, it } from 'vitest';
import type { StreamMessageWire } from '@danube-connect/sdk/internal';
import { parseSchemaDefinition } from '../src/schema-definition.js';
import { SchemaRegistry } from '../src/schema-registry.js';
import { payloadProblem, schemaRejection } from '../src/schema-validation.js';
import { BrokerTopic } from '../src/topic.js';

function message(overrides: Partial<StreamMessageWire> = {}): StreamMessageWire {
  return {
    request_id: '1',
    msg_id: { producer_id: '1', topic_name: '/default/t', broker_addr: '', topic_offset: '0' },
    payload: Buffer.from('{}'),
    publish_time: '0',
    producer_name: 'p',
    subscription_name: '',
    attributes: {},
    ...overrides,
  };
}

describe('schemaRejection (docs/danube-protocol.md §10.3)', () => {
  it('rejects everything on a topic without a subject under enforce, nothing under warn or none', () => {
    const registry = new SchemaRegistry();
    const topic = new BrokerTopic('/default/t', 'NonReliable');
    expect(schemaRejection(topic, message(), registry)).toBeUndefined();
    topic.validationPolicy = 'enforce';
    expect(schemaRejection(topic, message(), registry)).toMatch(/requires schema but none is configured/);
    topic.validationPolicy = 'none';
    expect(schemaRejection(topic, message({ schema_id: '99' }), registry)).toBeUndefined();
  });

  it('accepts Avro and Protobuf payloads unchecked and checks the primitive types', () => {
    const avro = parseSchemaDefinition('avro', Buffer.from('"string"'));
    expect(payloadProblem(avro, Buffer.from([1, 2, 3]))).toBeUndefined();
    const proto = parseSchemaDefinition('protobuf', Buffer.from('message M { string a = 1; }'));
    expect(payloadProblem(proto, Buffer.from([0xff]))).toBeUndefined();
    expect(payloadProblem(parseSchemaDefinition('bytes', Buffer.alloc(0)), Buffer.from([0xff]))).toBeUndefined();
    expect(payloadProblem(parseSchemaDefinition('number', Buffer.alloc(0)), Buffer.alloc(2))).toMatch(/4 or 8/);
  });

  it('compiles JSON Schemas of drafts 2020-12 and 2019-09 and other $schema URIs', () => {
    for (const uri of [
      'https://json-schema.org/draft/2020-12/schema',
      'https://json-schema.org/draft/2019-09/schema',
      'http://json-schema.org/draft-07/schema#',
      'http://json-schema.org/draft-04/schema#',
    ]) {
      const schema = parseSchemaDefinition(
        'json_schema',
        Buffer.from(JSON.stringify({ $schema: uri, $id: 'urn:x', type: 'object', required: ['a'] })),
      );
      expect(payloadProblem(schema, Buffer.from('{"a":1}'))).toBeUndefined();
      expect(payloadProblem(schema, Buffer.from('{}'))).toMatch(/a/);
    }
  });
});
