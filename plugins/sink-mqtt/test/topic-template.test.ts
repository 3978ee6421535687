import { SinkRecord, type DanubeMessage } from '@danube-connect/sdk';
import { describe, expect, it } from 'vitest';
import { MessageBuilder } from '../src/mqtt-message.js';
import type { RouteConfig } from '../src/config.js';
import { parseTemplate, renderTemplate, topicNameProblem } from '../src/topic-template.js';

function record(options: { key?: string; partition?: number; attributes?: Record<string, string>; payload?: Buffer } = {}): SinkRecord {
  const message: DanubeMessage = {
    payload: options.payload ?? Buffer.from('x'),
    attributes: options.attributes ?? {},
    topic: options.partition === undefined ? '/default/events' : `/default/events-part-${options.partition}`,
    partition: options.partition,
    offset: '7',
    requestId: '1',
    producerName: 'p',
    publishTime: 0,
    routingKey: options.key,
    schemaId: undefined,
    schemaVersion: undefined,
    subscription: 's',
    messageId: { producerId: '1', topicName: '/default/events', brokerAddr: '', topicOffset: '7' },
  };
  return new SinkRecord(message, '/default/events');
}

const full = record({ key: 'dev-1', partition: 3, attributes: { 'mqtt.topic': 'sensors/a/temp', site: 'berlin', empty: '' } });

describe('topic templates', () => {
  const table: Array<[template: string, rec: SinkRecord, expected: string | { missing: string }]> = [
    ['out/{topic}', full, 'out/default/events'],
    ['{key}', full, 'dev-1'],
    ['p/{partition}/{key}', full, 'p/3/dev-1'],
    ['{attr:mqtt.topic}', full, 'sensors/a/temp'],
    ['mirror/{attr:mqtt.topic}/from/{attr:site}', full, 'mirror/sensors/a/temp/from/berlin'],
    ['lit/{{braces}}', full, 'lit/{braces}'],
    ['fixed/topic', full, 'fixed/topic'],
    ['x/{key}', record(), { missing: '{key}' }],
    ['x/{partition}', record({ key: 'k' }), { missing: '{partition}' }],
    ['x/{attr:nope}', full, { missing: '{attr:nope}' }],
    // An empty value would make an empty level ("x//y") or an empty topic: missing, never made up.
    ['x/{attr:empty}/y', full, { missing: '{attr:empty}' }],
    ['{attr:empty}', full, { missing: '{attr:empty}' }],
    // Inherited object keys are not attributes.
    ['x/{attr:constructor}', full, { missing: '{attr:constructor}' }],
  ];
  for (const [template, rec, expected] of table) {
    it(`${template} → ${JSON.stringify(expected)}`, () => {
      const rendered = renderTemplate(parseTemplate(template), rec);
      expect(rendered).toEqual(typeof expected === 'string' ? { ok: true, value: expected } : { ok: false, ...expected });
    });
  }

  const bad: Array<[string, RegExp]> = [
    ['x/{nope}', /unknown placeholder \{nope\}/],
    ['x/{attr:}', /needs an attribute name/],
    ['x/{key', /not closed/],
    ['x/}', /closes no placeholder/],
  ];
  for (const [template, message] of bad) it(`refuses ${template}`, () => expect(() => parseTemplate(template)).toThrow(message));

  const names: Array<[string, string | undefined]> = [
    ['a/b', undefined],
    ['a//b', undefined], // empty levels are legal in a topic name (MQTT 5 §4.7.1.1); the templates never make them up
    ['', 'is empty'],
    ['a/+/b', 'contains a wildcard (+ or #), which a topic name may not'],
    ['a/#', 'contains a wildcard (+ or #), which a topic name may not'],
    ['a\u0000b', 'contains NUL'],
    ['$SYS/x', 'starts with $ (reserved for the broker)'],
    ['x'.repeat(65_536), 'is longer than 65535 bytes'],
  ];
  for (const [name, problem] of names) it(`topic name ${JSON.stringify(name.slice(0, 20))}: ${problem ?? 'valid'}`, () => expect(topicNameProblem(name)).toBe(problem));
});

describe('message builder: a bad rendering is invalid data, never a retry', () => {
  const route = (over: Partial<RouteConfig>): RouteConfig => ({ from: '/default/events', subscription_type: 'exclusive', to: 'out/{key}', qos: 1, retain: false, user_properties: true, ...over });
  const cases: Array<[Partial<RouteConfig>, SinkRecord, RegExp]> = [
    [{}, record(), /\{key\} has no value/],
    [{ to: '{attr:mqtt.topic}' }, record({ attributes: { 'mqtt.topic': 'a/+/b' } }), /wildcard/],
    [{ to: '{attr:mqtt.topic}' }, record({ attributes: { 'mqtt.topic': 'a/#' } }), /wildcard/],
    [{ to: 'x/{attr:t}' }, record({ attributes: { t: 'a\u0000' } }), /NUL/],
    [{ to: '{attr:t}' }, record({ attributes: { t: '$SYS/broker' } }), /starts with \$/],
    [{ message_expiry: '{attr:ttl}' }, record({ key: 'k', attributes: { ttl: 'soon' } }), /message expiry must be an integer/],
    [{ message_expiry: '{attr:ttl}' }, record({ key: 'k', attributes: { ttl: '4294967296' } }), /message expiry must be an integer/],
    [{ response_topic: '{attr:reply}' }, record({ key: 'k', attributes: { reply: 'r/#' } }), /response topic contains a wildcard/],
  ];
  for (const [over, rec, message] of cases) {
    it(`${JSON.stringify(over)} with ${JSON.stringify(rec.attributes)} → invalid data ${message}`, () => {
      let thrown: unknown;
      try {
        new MessageBuilder(route(over), undefined).build(rec, 5);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toMatchObject({ kind: 'invalid_data' });
      expect((thrown as Error).message).toMatch(message);
    });
  }

  it('MQTT 3.1.1: no properties at all', () => {
    const built = new MessageBuilder(route({ content_type: 'text/plain' }), 'me').build(record({ key: 'k', attributes: { a: 'b' } }), 4);
    expect(built.options.properties).toBeUndefined();
    expect(built.topic).toBe('out/k');
  });
});
