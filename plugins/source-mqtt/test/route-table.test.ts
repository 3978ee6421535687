import { topicMatches } from '@danube-connect/mqtt';
import type { IPublishPacket } from 'mqtt';
import { describe, expect, it } from 'vitest';
import type { RouteConfig } from '../src/config.js';
import { MetadataAttributes, mqttRecord } from '../src/mqtt-record.js';
import { RouteTable } from '../src/route-table.js';

const route = (from: string, to: string): RouteConfig => ({ from, to, qos: 1, partitions: 0, key: 'topic', ordering: 'partition' });
const ROUTES = [route('sensors/+/temp', '/iot/temp'), route('$share/g/sensors/#', '/iot/all'), route('#', '/iot/rest')];

/** The first route whose filter matches, computed afresh: what the table's remembered answer must equal. */
const firstMatch = (table: RouteTable, topic: string) => table.routes.find((r) => topicMatches(r.filter, topic));

describe('RouteTable', () => {
  it('routes each topic to its first matching route, also past the number of topics it remembers', () => {
    const table = new RouteTable(ROUTES);
    // 10,000 distinct topics (more than it remembers), each asked twice in a row (from the filters, then
    // remembered), and the whole list twice (by then forgotten and matched again).
    const topics = Array.from({ length: 10_000 }, (_, i) => [`sensors/d${i}/temp`, `sensors/d${i}`, `$SYS/x${i}`, `other/${i}`][i % 4] as string);
    for (const pass of [1, 2, 3, 4]) {
      for (const topic of pass % 2 ? topics : topics.flatMap((t) => [t, t])) {
        const decision = table.decide(topic, undefined);
        const expected = firstMatch(table, topic);
        if (expected) expect({ pass, topic, decision }).toEqual({ pass, topic, decision: { kind: 'route', route: expected } });
        else expect({ pass, topic, decision }).toEqual({ pass, topic, decision: { kind: 'unmatched' } });
      }
    }
    expect(table.decide('$SYS/uptime', undefined).kind, 'a leading wildcard does not match a $ topic').toBe('unmatched');
  });

  it('tells the copy of an overlapping subscription (MQTT 5 identifiers) from the one its route subscribed', () => {
    const table = new RouteTable(ROUTES);
    expect(table.decide('sensors/a/temp', 1)).toMatchObject({ kind: 'route', route: { to: '/iot/temp' } });
    expect(table.decide('sensors/a/temp', [3, 1])).toMatchObject({ kind: 'route', route: { to: '/iot/temp' } });
    expect(table.decide('sensors/a/temp', 2)).toMatchObject({ kind: 'duplicate', route: { to: '/iot/temp' } });
    expect(table.decide('sensors/a/temp', [2, 3])).toMatchObject({ kind: 'duplicate', route: { to: '/iot/temp' } });
    expect(table.decide('misc', 3)).toMatchObject({ kind: 'route', route: { to: '/iot/rest' } });
  });
});

describe('mqttRecord metadata', () => {
  const table = new RouteTable(ROUTES);
  const to = table.routes[0]!;
  const packet = (fields: Partial<IPublishPacket>): IPublishPacket => ({ cmd: 'publish', topic: 'sensors/a/temp', payload: Buffer.from('x'), qos: 1, retain: false, dup: false, ...fields }) as IPublishPacket;

  it('shares one frozen attributes object per topic, QoS, retain and dup flag', () => {
    const metadata = new MetadataAttributes();
    const a = mqttRecord(packet({}), 'sensors/a/temp', to, metadata, undefined).attributes;
    expect(a).toEqual({ 'mqtt.topic': 'sensors/a/temp', 'mqtt.qos': '1', 'mqtt.retain': 'false', 'mqtt.dup': 'false', source: 'mqtt' });
    expect(Object.isFrozen(a)).toBe(true);
    expect(mqttRecord(packet({}), 'sensors/a/temp', to, metadata, undefined).attributes).toBe(a);
    // A PUBLISH whose only property adds no attribute (its subscription identifier) shares it too.
    expect(mqttRecord(packet({ properties: { subscriptionIdentifier: 1 } }), 'sensors/a/temp', to, metadata, undefined).attributes).toBe(a);
    const variants = [packet({ qos: 0 }), packet({ retain: true }), packet({ dup: true }), packet({ qos: 2, retain: true, dup: true })];
    const seen = variants.map((p) => mqttRecord(p, 'sensors/a/temp', to, metadata, undefined).attributes);
    expect(seen.map((s) => [s?.['mqtt.qos'], s?.['mqtt.retain'], s?.['mqtt.dup']])).toEqual([['0', 'false', 'false'], ['1', 'true', 'false'], ['1', 'false', 'true'], ['2', 'true', 'true']]);
    expect(new Set([a, ...seen]).size).toBe(5);
    expect(mqttRecord(packet({ topic: 'sensors/b/temp' }), 'sensors/b/temp', to, metadata, undefined).attributes?.['mqtt.topic']).toBe('sensors/b/temp');
  });

  it('gives a PUBLISH with attribute-bearing MQTT 5 properties an object of its own, and none without include_metadata', () => {
    const metadata = new MetadataAttributes();
    const shared = mqttRecord(packet({}), 'sensors/a/temp', to, metadata, undefined).attributes;
    const own = mqttRecord(packet({ properties: { userProperties: { site: 'x' }, contentType: 'text/plain' } }), 'sensors/a/temp', to, metadata, undefined).attributes;
    expect(own).toEqual({ ...shared, 'mqtt.user.site': 'x', 'mqtt.content_type': 'text/plain' });
    expect(own).not.toBe(shared);
    expect(Object.isFrozen(own)).toBe(false);
    expect(shared).not.toHaveProperty('mqtt.user.site');
    expect(mqttRecord(packet({}), 'sensors/a/temp', to, undefined, undefined).attributes).toBeUndefined();
  });
});
