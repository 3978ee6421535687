import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { externalRefs, renderPluginSchema } from '@danube-connect/mqtt';
import { describe, expect, it } from 'vitest';
import { filterCovers, parseConfig } from '../src/config.js';
import { configProblems } from './support/harness.js';

const base = { url: 'mqtt://127.0.0.1:1883', routes: [{ from: 'sensors/#', to: '/iot/sensors' }] };
const withRoutes = (...routes: object[]) => ({ ...base, routes });
const problemsOf = (raw: unknown): string => configProblems(parseConfig, raw);

describe('parseConfig', () => {
  it('applies the schema defaults (clean_session false, session_expiry_s 3600, QoS 1, key topic)', () => {
    const config = parseConfig(base);
    expect(config).toMatchObject({
      protocol_version: 5,
      keepalive_s: 60,
      connect_timeout_ms: 30000,
      clean_session: false,
      session_expiry_s: 3600,
      receive_maximum: 64,
      include_metadata: true,
      routes: [{ from: 'sensors/#', to: '/iot/sensors', qos: 1, partitions: 0, key: 'topic', ordering: 'partition' }],
    });
    expect(config.routes[0]?.reliable).toBeUndefined();
    expect(Object.isFrozen(config.routes[0])).toBe(true);
  });

  it('lists every problem with its key path in one error', () => {
    expect(problemsOf({ ...base, keepalive_s: -1, routes: [{ from: 'a/#/b', to: 'nope', qos: 3 }] })).toMatchInlineSnapshot(`
      "invalid MQTT connector config:
        keepalive_s: must be >= 0
        routes/0/to: must be a Danube topic /<namespace>/<topic> (letters, digits, _ and -)
        routes/0/qos: must be <= 2"
    `);
  });

  // Each: [what is wrong, config, what the error must say]. The reference ignored most of these silently.
  const BAD: Array<[string, unknown, string]> = [
    ['unknown root key', { ...base, broker_host: 'x' }, 'broker_host: is not a known key; expected one of: url, servers'],
    ['unknown route key', withRoutes({ from: 'a', to: '/a/b', reliable_dispatch: true }), 'routes/0/reliable_dispatch: is not a known key'],
    ['unknown tls key', { ...base, url: 'mqtts://h:8883', tls: { use_tls: true } }, 'tls/use_tls: is not a known key'],
    ['QoS 3', withRoutes({ from: 'a', to: '/a/b', qos: 3 }), 'routes/0/qos: must be <= 2'],
    ['negative QoS', withRoutes({ from: 'a', to: '/a/b', qos: -1 }), 'routes/0/qos: must be >= 0'],
    ['QoS as a string', withRoutes({ from: 'a', to: '/a/b', qos: '2' }), 'routes/0/qos: must be integer'],
    ['QoS as a reference name', withRoutes({ from: 'a', to: '/a/b', qos: 'ExactlyOnce' }), 'routes/0/qos: must be integer'],
    ['fractional QoS', withRoutes({ from: 'a', to: '/a/b', qos: 1.5 }), 'routes/0/qos: must be integer'],
    ['QoS 2 routes sharing a topic with a QoS 0 route (reliable from the QoS)', withRoutes({ from: 'a', to: '/a/b', qos: 2 }, { from: 'b', to: '/a/b', qos: 0 }), 'routes/1: writes to /a/b like routes/0 but with another reliable'],
    ['neither url nor servers', { routes: base.routes }, '(config): set exactly one of url and servers'],
    ['both url and servers', { ...base, servers: ['mqtt://h:1'] }, '(config): set exactly one of url and servers'],
    ['bad URL scheme', { ...base, url: 'http://h:1883' }, 'url: must match pattern'],
    ['bad server in the list', { routes: base.routes, servers: ['mqtt://a:1', 'tcp://b:1'] }, 'servers/1: must match pattern'],
    ['no routes', { url: base.url, routes: [] }, 'routes: must NOT have fewer than 1 items'],
    ['no routes key', { url: base.url }, 'routes: is required'],
    ['route without to', withRoutes({ from: 'a' }), 'routes/0/to: is required'],
    ['bad Danube topic', withRoutes({ from: 'a', to: '/a/b/c' }), 'routes/0/to: must be a Danube topic'],
    ['invalid filter', withRoutes({ from: 'a/#/b', to: '/a/b' }), 'routes/0/from: "#" must be the whole last level of "a/#/b"'],
    ['invalid shared filter', withRoutes({ from: '$share/g', to: '/a/b' }), 'routes/0/from: shared subscription "$share/g" has no filter after the group'],
    ['same filter twice', withRoutes({ from: 'a/+', to: '/a/b' }, { from: 'a/+', to: '/a/c' }), 'routes/1/from: the same filter as routes/0'],
    ['route shadowed by an earlier wildcard', withRoutes({ from: 'a/#', to: '/a/b' }, { from: 'a/b/c', to: '/a/c' }), 'routes/1/from: every topic it matches is matched first by routes/0 ("a/#")'],
    ['routes disagree about a topic', withRoutes({ from: 'a', to: '/a/b' }, { from: 'b', to: '/a/b', partitions: 4 }), 'routes/1: writes to /a/b like routes/0 but with another partitions'],
    ['username without password', { ...base, username: 'u' }, 'password: is required when username is set'],
    ['password without username', { ...base, password: 'p' }, 'username: is required when password is set'],
    ['tls.cert without tls.key', { ...base, url: 'mqtts://h:8883', tls: { cert: '/c.pem' } }, 'tls/key: is required when tls.cert is set'],
    ['tls without a TLS server', { ...base, tls: { ca: '/ca.pem' } }, 'tls: is set but no server uses mqtts:// or wss://'],
    ['credentials in the URL', { ...base, url: 'mqtt://bob:hunter2@h:1883' }, 'url: credentials in the URL are not supported; use username and password'],
    ['credentials in a server URL', { routes: base.routes, servers: ['mqtt://a:1', 'mqtts://bob:hunter2@b:8883'] }, 'servers/1: credentials in the URL are not supported'],
    ['protocol version 3', { ...base, protocol_version: 3 }, 'protocol_version: must be one of 5, 4'],
    ['receive_maximum 0', { ...base, receive_maximum: 0 }, 'receive_maximum: must be >= 1'],
    ['receive_maximum above MQTT limit', { ...base, receive_maximum: 70000 }, 'receive_maximum: must be <= 65535'],
    ['key of another kind', withRoutes({ from: 'a', to: '/a/b', key: 'payload' }), 'routes/0/key: must be one of "topic", "none"'],
    ['string where a number belongs', { ...base, keepalive_s: '60' }, 'keepalive_s: must be integer'],
    ['reconnect cap below the first delay', { ...base, reconnect_period_ms: 5000, reconnect_max_period_ms: 1000 }, 'reconnect_max_period_ms: must be >= reconnect_period_ms (5000)'],
    ['partitioned topic named like a partition', withRoutes({ from: 'a', to: '/a/b-part-1', partitions: 2 }), 'routes/0/to: must not contain "-part-"'],
  ];

  it.each(BAD)('refuses %s', (_what, raw, message) => {
    expect(problemsOf(raw)).toContain(message);
  });

  it('never quotes a secret value in an error', () => {
    const message = problemsOf({ ...base, url: 'mqtt://bob:hunter2@h:1883', username: 'u', password: 12345678, tls: { key: 'SECRET-KEY' } });
    expect(message).not.toContain('12345678');
    expect(message).not.toContain('SECRET-KEY');
    expect(message).not.toContain('hunter2');
  });

  it('accepts QoS 2 and derives reliable dispatch from it', () => {
    const config = parseConfig(withRoutes({ from: 'a', to: '/a/b', qos: 2 }, { from: 'b', to: '/a/b', qos: 1 }));
    expect(config.routes.map((r) => r.qos)).toEqual([2, 1]);
  });

  it('accepts overlapping but not shadowed routes, and routes agreeing on a shared topic', () => {
    expect(() => parseConfig(withRoutes({ from: 'a/b', to: '/a/b' }, { from: 'a/#', to: '/a/c' }, { from: 'c', to: '/a/c' }))).not.toThrow();
  });
});

describe('filterCovers', () => {
  it.each([
    ['a/#', 'a/b/c', true],
    ['a/#', 'a', true],
    ['a/+', 'a/b', true],
    ['+/+', 'a/+', true],
    ['a/+', 'a/#', false],
    ['a/b', 'a/+', false],
    ['#', '$SYS/x', false],
    ['a/+', 'a/b/c', false],
  ])('%s covers %s → %s', (wide, narrow, expected) => {
    expect(filterCovers(wide, narrow)).toBe(expected);
  });
});

describe('schema.json', () => {
  const published = readFileSync(new URL('../schema.json', import.meta.url), 'utf8');

  it('is self-contained: no $ref outside itself', () => {
    expect(externalRefs(JSON.parse(published))).toEqual([]);
    // The deliberately wrong case: the source schema does point outside (its x-include), and an external $ref is found.
    expect(externalRefs({ a: { $ref: '@danube-connect/mqtt/connection.schema.json#/$defs/tls' }, b: { $ref: '#/$defs/x' } })).toEqual([
      '@danube-connect/mqtt/connection.schema.json#/$defs/tls',
    ]);
  });

  it('is current with schema.src.json and the shared connection schema (npm run build writes it)', () => {
    expect(published).toBe(renderPluginSchema(fileURLToPath(new URL('../schema.src.json', import.meta.url))));
  });

  it('marks the secrets writeOnly for the host to mask', () => {
    const schema = JSON.parse(published) as { properties: Record<string, { writeOnly?: boolean }>; $defs: { tls: { properties: Record<string, { writeOnly?: boolean }> } } };
    expect(schema.properties['username']?.writeOnly).toBe(true);
    expect(schema.properties['password']?.writeOnly).toBe(true);
    expect(schema.$defs.tls.properties['key']?.writeOnly).toBe(true);
  });
});
