import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { externalRefs, renderPluginSchema } from '@danube-connect/mqtt';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { configProblems } from './support/harness.js';

const base = { url: 'mqtt://127.0.0.1:1883', routes: [{ from: '/default/events', to: 'out/{key}' }] };
const withRoute = (route: object, top: object = {}) => ({ ...base, ...top, routes: [{ ...base.routes[0], ...route }] });
const problemsOf = (raw: unknown): string => configProblems(parseConfig, raw);

describe('schema.json', () => {
  it('is current (built from schema.src.json and the shared connection schema) and self-contained', () => {
    const published = readFileSync(new URL('../schema.json', import.meta.url), 'utf8');
    expect(published).toBe(renderPluginSchema(fileURLToPath(new URL('../schema.src.json', import.meta.url))));
    expect(externalRefs(JSON.parse(published))).toEqual([]);
  });
});

describe('parseConfig', () => {
  it('applies the defaults: exclusive subscription, QoS 1, no retain, user properties, origin mark', () => {
    const config = parseConfig(base);
    expect(config).toMatchObject({ protocol_version: 5, mark_origin: true, routes: [{ subscription_type: 'exclusive', qos: 1, retain: false, user_properties: true }] });
    expect(config.routes[0]?.subscription).toBeUndefined();
    expect(config.routes[0]?.consumer_name).toBeUndefined();
  });

  it('accepts a full route', () => {
    expect(() =>
      parseConfig(withRoute({ subscription: 's', subscription_type: 'shared', consumer_name: 'sink-h1', qos: 2, retain: true, content_type: 'application/json', response_topic: 'r/{key}', correlation_data: '{attr:c}', message_expiry: '60' })),
    ).not.toThrow();
  });

  const bad: Array<[string, unknown, string]> = [
    ['no routes', { url: base.url }, 'routes: is required'],
    ['empty routes', { ...base, routes: [] }, 'routes: must NOT have fewer than 1 items'],
    ['no url or servers', { routes: base.routes }, '(config): set exactly one of url and servers'],
    ['a Danube topic that is not /ns/topic', withRoute({ from: 'events' }), 'routes/0/from: must be a Danube topic /<namespace>/<topic>'],
    ['QoS 3', withRoute({ qos: 3 }), 'routes/0/qos: must be one of 0, 1, 2'],
    ['an unknown subscription type', withRoute({ subscription_type: 'key_shared' }), 'routes/0/subscription_type: must be one of "exclusive", "failover", "shared"'],
    ['an unknown placeholder', withRoute({ to: 'out/{offset}' }), 'routes/0/to: unknown placeholder {offset}'],
    ['an unclosed placeholder', withRoute({ to: 'out/{key' }), 'routes/0/to: the placeholder at position 4 is not closed'],
    ['a wildcard in to', withRoute({ to: 'out/+/{key}' }), 'routes/0/to: contains +, # or NUL'],
    ['a # in to', withRoute({ to: 'out/#' }), 'routes/0/to: contains +, # or NUL'],
    ['a $ topic', withRoute({ to: '$SYS/{key}' }), 'routes/0/to: starts with $'],
    ['an empty to', withRoute({ to: '' }), 'routes/0/to: must NOT have fewer than 1 characters'],
    ['a wildcard in the response topic', withRoute({ response_topic: 'r/#' }), 'routes/0/response_topic: contains +, # or NUL'],
    ['MQTT 5 properties on 3.1.1', withRoute({ content_type: 'text/plain' }, { protocol_version: 4 }), 'routes/0/content_type: is an MQTT 5 property; protocol_version is 4'],
    ['shared without a consumer name', withRoute({ subscription_type: 'shared' }), 'routes/0/consumer_name: is required with subscription_type "shared"'],
    ['two routes sharing a subscription', { ...base, routes: [base.routes[0], { from: '/default/events', to: 'b' }] }, 'routes/1: reads /default/events with the same subscription as routes/0'],
    ['an unknown route key', withRoute({ topic: 'x' }), 'routes/0/topic: is not a known key'],
    ['an unknown top-level key', { ...base, dead_letter: 'x' }, 'dead_letter: is not a known key'],
    ['username without password', { ...base, username: 'u' }, 'password: is required when username is set'],
  ];
  for (const [what, raw, expected] of bad) it(`refuses ${what}: "${expected}"`, () => expect(problemsOf(raw)).toContain(expected));

  it('the same topic twice with two subscriptions is a fan-out, accepted', () => {
    expect(() => parseConfig({ ...base, routes: [{ ...base.routes[0], subscription: 'a' }, { from: '/default/events', to: 'b', subscription: 'b' }] })).not.toThrow();
  });
});
